import Crypto
import Foundation

/// A signing key as the store keeps it: the public key in the clear, the private key sealed under the
/// installation's signing-key secret, so a database dump alone cannot sign tokens.
package struct StoredSigningKey: Equatable, Sendable {
    /// The RFC 7638 JWK thumbprint of the public key.
    package var kid: String
    /// The uncompressed P-256 point (X9.63), base64.
    package var publicKey: String
    /// AES-GCM of the raw private scalar, with the kid as associated data, base64 of nonce ‖ ciphertext ‖ tag.
    package var sealedPrivateKey: String
    package var createdAt: Date
    /// When a newer key replaced it; it still verifies (and stays in the JWKS) while its tokens may live.
    package var retiredAt: Date?

    package init(kid: String, publicKey: String, sealedPrivateKey: String, createdAt: Date, retiredAt: Date? = nil) {
        self.kid = kid
        self.publicKey = publicKey
        self.sealedPrivateKey = sealedPrivateKey
        self.createdAt = createdAt
        self.retiredAt = retiredAt
    }

    /// The public key, or nil when the stored bytes are not a P-256 point.
    package var p256PublicKey: P256.Signing.PublicKey? {
        Data(base64Encoded: publicKey).flatMap { try? P256.Signing.PublicKey(x963Representation: $0) }
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

    /// A new P-256 key, sealed for the store.
    package func generateKey(at now: Date) throws -> StoredSigningKey {
        let privateKey = P256.Signing.PrivateKey()
        let kid = Self.thumbprint(of: privateKey.publicKey)
        let sealed = try AES.GCM.seal(privateKey.rawRepresentation, using: key, authenticating: Data(kid.utf8))
        guard let combined = sealed.combined else { throw SigningKeyUnusable(kid: kid) }
        return StoredSigningKey(
            kid: kid, publicKey: privateKey.publicKey.x963Representation.base64EncodedString(),
            sealedPrivateKey: combined.base64EncodedString(), createdAt: now)
    }

    /// The private key sealed in `stored`; throws `SigningKeyUnusable` when this secret did not seal it.
    package func open(_ stored: StoredSigningKey) throws -> P256.Signing.PrivateKey {
        do {
            guard let combined = Data(base64Encoded: stored.sealedPrivateKey) else { throw SigningKeyUnusable(kid: "") }
            let box = try AES.GCM.SealedBox(combined: combined)
            let raw = try AES.GCM.open(box, using: key, authenticating: Data(stored.kid.utf8))
            return try P256.Signing.PrivateKey(rawRepresentation: raw)
        } catch {
            throw SigningKeyUnusable(kid: stored.kid)
        }
    }

    /// RFC 7638: base64url SHA-256 of `{"crv":"P-256","kty":"EC","x":…,"y":…}`.
    static func thumbprint(of publicKey: P256.Signing.PublicKey) -> String {
        let point = JWKPoint(publicKey)
        let canonical = #"{"crv":"P-256","kty":"EC","x":"\#(point.x)","y":"\#(point.y)"}"#
        return Data(SHA256.hash(data: Data(canonical.utf8))).base64URLEncodedString()
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

/// The x and y coordinates of a P-256 public key, base64url, as a JWK names them (RFC 7518 §6.2.1).
package struct JWKPoint: Sendable {
    package let x: String
    package let y: String

    package init(_ key: P256.Signing.PublicKey) {
        let point = key.x963Representation  // 0x04 ‖ x (32 bytes) ‖ y (32 bytes)
        x = Data(point.dropFirst().prefix(32)).base64URLEncodedString()
        y = Data(point.dropFirst(33)).base64URLEncodedString()
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

    /// Makes a new key that signs from now on; the previous ones retire but keep verifying until their tokens
    /// have expired.
    @discardableResult
    package func rotate() async throws -> StoredSigningKey {
        let key = try secret.generateKey(at: clock.now())
        try await store.rotateSigningKeys(to: key)
        return key
    }

    /// Makes the first key when there is none yet, as the first start of an installation does. Checks that
    /// the configured secret opens the current key, so a wrong secret stops the start, not a request.
    package func prepare() async throws {
        let keys = try await store.signingKeys()
        guard let current = keys.last(where: { $0.retiredAt == nil }) else {
            try await rotate()
            return
        }
        _ = try secret.open(current)
    }
}
