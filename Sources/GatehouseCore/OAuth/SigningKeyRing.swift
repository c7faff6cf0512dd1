import Crypto
import CryptoExtras
import Foundation
import JWTKit
import Synchronization

/// A token was refused before its claims were looked at: malformed, another algorithm or type, an unknown
/// key, or a bad signature. One answer for all of them.
package struct TokenRejected: Error, Equatable, Sendable {
    package init() {}
}

/// The signing keys as the server uses them: the newest of each algorithm signs, every key whose tokens may
/// still be alive verifies and is published in the JWKS. Keys are re-read from the store every half minute, so a
/// rotation made by `gatehouse signing-keys rotate` (or another instance) is picked up without a restart.
///
/// Loaded keys are kept behind a lock rather than in an actor: signing then runs on the caller's thread, as
/// many at once as there are cores. When the keys are due to be read again, one request reads them while the
/// others go on with the keys they have (still valid: a retired key stays published while its tokens live).
package final class SigningKeyRing: Sendable {
    /// How long a loaded set of keys is used before the store is asked again.
    package static let refreshInterval: TimeInterval = 30

    private struct Loaded: Sendable {
        let keys: JWTKeyCollection
        /// The current key of each algorithm.
        let signers: [SigningAlgorithm: JWSSigner]
        let published: [StoredSigningKey]
        let loadedAt: Date
    }

    private let store: any SigningKeyStore
    private let secret: SigningKeySecret
    private let clock: any WallClock
    /// The longest a token signed by a key can live; a retired key stays published this long, plus the
    /// refresh interval during which another instance may still have signed with it.
    private let tokenLifetime: TimeInterval
    private struct State {
        var loaded: Loaded?
        /// A request is reading the keys from the store.
        var reloading = false
    }

    private let state = Mutex(State())
    /// Unknown kids make the ring look again, but at most once a second, so garbage cannot hammer the store.
    private let lastForcedReload = Mutex(ContinuousClock.now - .seconds(60))

    package init(
        store: any SigningKeyStore, secret: SigningKeySecret, clock: any WallClock, tokenLifetime: TimeInterval
    ) {
        self.store = store
        self.secret = secret
        self.clock = clock
        self.tokenLifetime = tokenLifetime
    }

    /// Signs `claims` with the current key of `algorithm`; `type` is the JOSE `typ` header (`at+jwt` for access
    /// tokens).
    package func sign(_ claims: some Encodable, type: String, algorithm: SigningAlgorithm = .es256) async throws
        -> String
    {
        guard let signer = try await keys().signers[algorithm] else {
            throw StoreUnavailable(
                "there is no \(algorithm.rawValue) signing key; the server prepares one when it starts")
        }
        return try signer.sign(claims, type: type)
    }

    /// The claims of `token` when it is a JWT of `type`, signed with one of `algorithms` by a published key of
    /// that algorithm. Claims (expiry, issuer, audience) are the caller's to check.
    package func verify<Claims: JWTPayload>(
        _ token: String, as _: Claims.Type, type: String, algorithms: Set<SigningAlgorithm> = [.es256]
    ) async throws -> Claims {
        guard let header = Self.header(of: token), let alg = header.alg.flatMap(SigningAlgorithm.init(rawValue:)),
            algorithms.contains(alg), let kid = header.kid,
            header.typ?.lowercased() == type || header.typ?.lowercased() == "application/\(type)"
        else { throw TokenRejected() }
        var current = try await keys()
        if !current.published.contains(where: { $0.kid == kid }) {
            let mayReload = lastForcedReload.withLock { last in
                guard ContinuousClock.now - last > .seconds(1) else { return false }
                last = .now
                return true
            }
            guard mayReload else { throw TokenRejected() }
            current = try await keys(forceReload: true)
            guard current.published.contains(where: { $0.kid == kid }) else { throw TokenRejected() }
        }
        // The header's algorithm must be the key's own: a token never picks how its key is used.
        guard current.published.contains(where: { $0.kid == kid && $0.algorithm == alg }) else {
            throw TokenRejected()
        }
        do {
            return try await current.keys.verify(token, as: Claims.self)
        } catch {
            throw TokenRejected()
        }
    }

    /// The keys a client should trust now, oldest first.
    package func publishedKeys() async throws -> [StoredSigningKey] {
        try await keys().published
    }

    // MARK: Loading

    private func keys(forceReload: Bool = false) async throws -> Loaded {
        let now = clock.now()
        let (kept, claimed) = state.withLock { state -> (Loaded?, Bool) in
            guard !forceReload, let loaded = state.loaded else { return (nil, false) }
            let fresh = now.timeIntervalSince(loaded.loadedAt) < Self.refreshInterval && now >= loaded.loadedAt
            if fresh || state.reloading { return (loaded, false) }
            state.reloading = true
            return (nil, true)
        }
        if let kept { return kept }
        defer { if claimed { state.withLock { $0.reloading = false } } }
        let stored = try await store.signingKeys()
        var signers: [SigningAlgorithm: JWSSigner] = [:]
        for current in stored where current.retiredAt == nil {
            signers[current.algorithm] = JWSSigner(key: try secret.open(current), kid: current.kid)
        }
        guard !signers.isEmpty else {
            throw StoreUnavailable("there is no signing key; the server prepares one when it starts")
        }
        let keep = tokenLifetime + Self.refreshInterval
        let published = stored.filter { key in key.retiredAt.map { now < $0.addingTimeInterval(keep) } ?? true }
        let collection = JWTKeyCollection()
        for key in published {
            guard let bytes = Data(base64Encoded: key.publicKey) else { continue }
            let kid = JWKIdentifier(string: key.kid)
            switch key.algorithm {
            case .es256:
                guard let publicKey = try? P256.Signing.PublicKey(x963Representation: bytes) else { continue }
                await collection.add(ecdsa: try ES256PublicKey(backing: publicKey), kid: kid)
            case .rs256:
                guard let publicKey = try? _RSA.Signing.PublicKey(derRepresentation: bytes) else { continue }
                await collection.add(
                    rsa: try Insecure.RSA.PublicKey(backing: publicKey), digestAlgorithm: .sha256, kid: kid)
            }
        }
        let fresh = Loaded(keys: collection, signers: signers, published: published, loadedAt: now)
        state.withLock { $0.loaded = fresh }
        return fresh
    }

    private struct Header: Decodable {
        let alg: String?
        let typ: String?
        let kid: String?
    }

    /// The JOSE header of a compact JWS, or nil when it is not three base64url parts with a JSON header.
    private static func header(of token: String) -> Header? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64URLEncoded: String(parts[0])) else { return nil }
        return try? JSONDecoder().decode(Header.self, from: data)
    }
}
