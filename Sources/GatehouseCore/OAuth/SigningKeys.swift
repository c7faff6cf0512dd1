import Crypto
import CryptoExtras
import Foundation

/// The JWS algorithms tokens are signed with (RFC 7518 §3.1). The installation holds a current key of each.
package enum SigningAlgorithm: String, CaseIterable, Comparable, Sendable {
    /// ECDSA on P-256 with SHA-256: access tokens, and the ID tokens of clients that choose it.
    case es256 = "ES256"
    /// RSASSA-PKCS1-v1_5 with SHA-256, on 2048-bit keys: what every OpenID Connect library accepts, and the
    /// ID-token algorithm of a client that names none (OIDC Dynamic Client Registration §2).
    case rs256 = "RS256"

    /// Parses a client's `id_token_signed_response_alg`.
    package init(parsing raw: String) throws(DomainError) {
        guard let algorithm = SigningAlgorithm(rawValue: raw) else {
            throw .invalidInput(
                field: "id_token_signed_response_alg",
                message: "'\(raw.prefix(40))' is not a signing algorithm; use RS256 or ES256.")
        }
        self = algorithm
    }

    package static func < (lhs: SigningAlgorithm, rhs: SigningAlgorithm) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A signing key as the store keeps it: the public key in the clear, the private key sealed under the
/// installation's signing-key secret, so a database dump alone cannot sign tokens.
package struct StoredSigningKey: Equatable, Sendable {
    /// The RFC 7638 JWK thumbprint of the public key.
    package var kid: String
    package var algorithm: SigningAlgorithm
    /// Base64 of the public key: the uncompressed P-256 point (X9.63) for ES256, the DER SubjectPublicKeyInfo
    /// for RS256.
    package var publicKey: String
    /// AES-GCM of the private key (the raw P-256 scalar, or the PKCS #1 DER of the RSA key), with the kid as
    /// associated data, base64 of nonce ‖ ciphertext ‖ tag.
    package var sealedPrivateKey: String
    package var createdAt: Date
    /// When a newer key of its algorithm replaced it; it still verifies (and stays in the JWKS) while its tokens
    /// may live.
    package var retiredAt: Date?

    package init(
        kid: String, algorithm: SigningAlgorithm, publicKey: String, sealedPrivateKey: String, createdAt: Date,
        retiredAt: Date? = nil
    ) {
        self.kid = kid
        self.algorithm = algorithm
        self.publicKey = publicKey
        self.sealedPrivateKey = sealedPrivateKey
        self.createdAt = createdAt
        self.retiredAt = retiredAt
    }

    /// The public key as a JWK, or nil when the stored bytes are no key of its algorithm.
    package var jwk: PublicJWK? {
        guard let bytes = Data(base64Encoded: publicKey) else { return nil }
        switch algorithm {
        case .es256:
            return (try? P256.Signing.PublicKey(x963Representation: bytes)).map { PublicJWK($0, kid: kid) }
        case .rs256:
            return (try? _RSA.Signing.PublicKey(derRepresentation: bytes)).flatMap { try? PublicJWK($0, kid: kid) }
        }
    }
}

/// A private key that signs tokens, of one of the supported algorithms.
package enum SigningPrivateKey: Sendable {
    case es256(P256.Signing.PrivateKey)
    case rs256(_RSA.Signing.PrivateKey)

    package var algorithm: SigningAlgorithm {
        switch self {
        case .es256: .es256
        case .rs256: .rs256
        }
    }

    /// The JWS signature of `input` (RFC 7518 §3.3, §3.4): `r ‖ s` for ES256, the PKCS #1 v1.5 signature for
    /// RS256.
    package func signature(for input: [UInt8]) throws -> Data {
        switch self {
        case .es256(let key):
            try key.signature(for: input).rawRepresentation
        case .rs256(let key):
            try key.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation
        }
    }
}

/// A public key as the JWKS publishes it (RFC 7517 §4, RFC 7518 §6): `crv`, `x`, `y` for ES256, `n`, `e` for
/// RS256.
package struct PublicJWK: Encodable, Equatable, Sendable {
    package let kty: String
    package let use = "sig"
    package let alg: String
    package let kid: String
    package let crv: String?
    package let x: String?
    package let y: String?
    package let n: String?
    package let e: String?

    package init(_ key: P256.Signing.PublicKey, kid: String) {
        let point = key.x963Representation  // 0x04 ‖ x (32 bytes) ‖ y (32 bytes)
        kty = "EC"
        alg = SigningAlgorithm.es256.rawValue
        self.kid = kid
        crv = "P-256"
        x = Data(point.dropFirst().prefix(32)).base64URLEncodedString()
        y = Data(point.dropFirst(33)).base64URLEncodedString()
        n = nil
        e = nil
    }

    package init(_ key: _RSA.Signing.PublicKey, kid: String) throws {
        let primitives = try key.getKeyPrimitives()  // big-endian, no leading zero octets (RFC 7518 §6.3.1)
        kty = "RSA"
        alg = SigningAlgorithm.rs256.rawValue
        self.kid = kid
        crv = nil
        x = nil
        y = nil
        n = primitives.modulus.base64URLEncodedString()
        e = primitives.publicExponent.base64URLEncodedString()
    }

    /// RFC 7638: base64url SHA-256 of the key's required members, in lexicographic order, without whitespace.
    package var thumbprint: String {
        let canonical =
            if let n, let e {
                #"{"e":"\#(e)","kty":"RSA","n":"\#(n)"}"#
            } else {
                #"{"crv":"\#(crv ?? "")","kty":"EC","x":"\#(x ?? "")","y":"\#(y ?? "")"}"#
            }
        return Data(SHA256.hash(data: Data(canonical.utf8))).base64URLEncodedString()
    }
}

/// The installation secret that seals signing keys' private parts (AES-256-GCM). Kept outside the database,
/// like the API key pepper.
///
/// The text form is one line of base64 (32 bytes); `#` starts a comment.
package struct SigningKeySecret: Sendable {
    let key: SymmetricKey

    package init(text: String) throws(DomainError) {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let line = lines.first(where: { !$0.isEmpty && !$0.hasPrefix("#") }),
            let bytes = Data(base64Encoded: line), bytes.count == 32
        else {
            throw .invalidInput(
                field: "signing_key_secret", message: "The signing-key secret must be one line of base64 of 32 bytes.")
        }
        self.key = SymmetricKey(data: bytes)
    }

    /// A fresh secret file's text.
    package static func generatedText() -> String {
        let secret = Data(SecretGenerator.randomBytes(32)).base64EncodedString()
        return "# Gatehouse signing-key secret. Keep it secret and keep it: without it no token can be signed.\n"
            + "\(secret)\n"
    }

    /// A new key of `algorithm`, sealed for the store.
    package func generateKey(_ algorithm: SigningAlgorithm, at now: Date) throws -> StoredSigningKey {
        let (publicKey, privateKey, jwk): (Data, Data, PublicJWK)
        switch algorithm {
        case .es256:
            let key = P256.Signing.PrivateKey()
            publicKey = key.publicKey.x963Representation
            privateKey = key.rawRepresentation
            jwk = PublicJWK(key.publicKey, kid: "")
        case .rs256:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            publicKey = key.publicKey.derRepresentation
            privateKey = key.derRepresentation
            jwk = try PublicJWK(key.publicKey, kid: "")
        }
        let kid = jwk.thumbprint
        let sealed = try AES.GCM.seal(privateKey, using: key, authenticating: Data(kid.utf8))
        guard let combined = sealed.combined else { throw SigningKeyUnusable(kid: kid) }
        return StoredSigningKey(
            kid: kid, algorithm: algorithm, publicKey: publicKey.base64EncodedString(),
            sealedPrivateKey: combined.base64EncodedString(), createdAt: now)
    }

    /// `bytes` sealed (AES-256-GCM, bound to `context`) for the store: how other server-side secrets that must be
    /// read back, such as a user's TOTP secret, are kept.
    package func seal(_ bytes: [UInt8], context: String) throws -> String {
        guard let combined = try AES.GCM.seal(bytes, using: key, authenticating: Data(context.utf8)).combined else {
            throw SealedSecretUnusable()
        }
        return combined.base64EncodedString()
    }

    /// What `seal(_:context:)` sealed; throws `SealedSecretUnusable` when this secret, or this context, did not.
    package func open(sealed: String, context: String) throws -> [UInt8] {
        do {
            guard let combined = Data(base64Encoded: sealed) else { throw SealedSecretUnusable() }
            return Array(
                try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: key, authenticating: Data(context.utf8)))
        } catch {
            throw SealedSecretUnusable()
        }
    }

    /// The private key sealed in `stored`; throws `SigningKeyUnusable` when this secret did not seal it.
    package func open(_ stored: StoredSigningKey) throws -> SigningPrivateKey {
        do {
            guard let combined = Data(base64Encoded: stored.sealedPrivateKey) else { throw SigningKeyUnusable(kid: "") }
            let box = try AES.GCM.SealedBox(combined: combined)
            let raw = try AES.GCM.open(box, using: key, authenticating: Data(stored.kid.utf8))
            switch stored.algorithm {
            case .es256: return .es256(try P256.Signing.PrivateKey(rawRepresentation: raw))
            case .rs256: return .rs256(try _RSA.Signing.PrivateKey(derRepresentation: raw))
            }
        } catch {
            throw SigningKeyUnusable(kid: stored.kid)
        }
    }
}

/// The signing-key secret cannot open a stored key: the configuration holds another secret than the one the
/// key was sealed with.
package struct SigningKeyUnusable: Error, CustomStringConvertible, Sendable {
    package let kid: String
    package var description: String {
        "the signing key \(kid) cannot be opened with the configured signing-key secret "
            + "(GATEHOUSE_SIGNING_KEY_SECRET_FILE must name the secret it was made with)"
    }
}

/// A sealed secret cannot be opened with the configured signing-key secret.
package struct SealedSecretUnusable: Error, CustomStringConvertible, Sendable {
    package var description: String {
        "a sealed secret cannot be opened with the configured signing-key secret"
    }
}

/// Adds signing keys: the first one on an installation's first start, and a new one that takes over
/// signing on each rotation.
package struct SigningKeys: Sendable {
    let store: any SigningKeyStore
    let secret: SigningKeySecret
    let clock: any WallClock

    package init(store: any SigningKeyStore, secret: SigningKeySecret, clock: any WallClock) {
        self.store = store
        self.secret = secret
        self.clock = clock
    }

    /// Makes a new key of each algorithm, which signs from now on; the previous ones retire but keep verifying
    /// until their tokens have expired.
    @discardableResult
    package func rotate() async throws -> [StoredSigningKey] {
        try await rotate(SigningAlgorithm.allCases)
    }

    /// Makes the first key of each algorithm that has none yet, as the first start of an installation (or the
    /// first start of a version that adds an algorithm) does. Checks that the configured secret opens the
    /// current keys, so a wrong secret stops the start, not a request.
    package func prepare() async throws {
        let current = try await store.signingKeys().filter { $0.retiredAt == nil }
        for key in current { _ = try secret.open(key) }
        let missing = SigningAlgorithm.allCases.filter { algorithm in !current.contains { $0.algorithm == algorithm } }
        try await rotate(missing)
    }

    @discardableResult
    private func rotate(_ algorithms: [SigningAlgorithm]) async throws -> [StoredSigningKey] {
        var added: [StoredSigningKey] = []
        for algorithm in algorithms {
            let key = try secret.generateKey(algorithm, at: clock.now())
            try await store.rotateSigningKeys(to: key)
            added.append(key)
        }
        return added
    }
}
