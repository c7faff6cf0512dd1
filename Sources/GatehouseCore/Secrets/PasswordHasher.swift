import Dispatch
import HummingbirdBcrypt

/// Hashes and checks user passwords: slow on purpose, because people choose guessable ones.
package protocol PasswordHasher: Sendable {
    /// The storable hash of `password`.
    func hash(_ password: Password) async -> PasswordHash
    /// True when `password` is the one `hash` was made from.
    func verify(_ password: String, against hash: PasswordHash) async -> Bool
    /// True when `hash` was made with less work than this hasher does now: the password should be hashed
    /// again the next time it is known, at sign-in.
    func needsRehash(_ hash: PasswordHash) -> Bool
}

/// A bcrypt hash as stored (`$2b$12$…`).
package struct PasswordHash: Hashable, Sendable {
    package let encoded: String
    package init(encoded: String) { self.encoded = encoded }
}

/// A password that meets the policy: 12 to 72 bytes of UTF-8 (bcrypt reads no further than 72 bytes, so a
/// longer one would be silently cut; it is refused instead).
package struct Password: Sendable {
    package static let minimumLength = 12
    package static let maximumBytes = 72

    package let value: String

    /// Parses `value`, or says which rule it breaks.
    package init(_ value: String) throws(DomainError) {
        guard value.count >= Self.minimumLength else {
            throw .invalidInput(
                field: "password", message: "The password must be at least \(Self.minimumLength) characters long.")
        }
        guard value.utf8.count <= Self.maximumBytes else {
            throw .invalidInput(
                field: "password", message: "The password must be at most \(Self.maximumBytes) bytes long.")
        }
        self.value = value
    }

    /// A fresh random password of 24 base62 characters (≈ 143 bits).
    package static func generate() -> Password {
        // 24 characters always satisfy the policy.
        Password(unchecked: SecretGenerator.base62(length: 24))
    }

    private init(unchecked value: String) { self.value = value }
}

/// bcrypt, run on a background queue so the event loops never block on it.
package struct BcryptPasswordHasher: PasswordHasher {
    /// The work factor; 12 by default (≈ 250 ms here). Tests use the minimum, 4.
    package let cost: UInt8

    /// The work factors an operator may choose: from bcrypt's usual floor to what still answers a sign-in in
    /// seconds.
    package static let costs: ClosedRange<UInt8> = 10...16

    package init(cost: UInt8 = 12) { self.cost = cost }

    /// A hash of a lower cost than this hasher's (`$2b$NN$…`); one that cannot be read is left alone.
    package func needsRehash(_ hash: PasswordHash) -> Bool {
        let parts = hash.encoded.split(separator: "$", omittingEmptySubsequences: true)
        guard parts.count >= 2, let stored = UInt8(parts[1]) else { return false }
        return stored < cost
    }

    package func hash(_ password: Password) async -> PasswordHash {
        let cost = self.cost
        return await offloaded { PasswordHash(encoded: Bcrypt.hash(password.value, cost: cost)) }
    }

    package func verify(_ password: String, against hash: PasswordHash) async -> Bool {
        await offloaded { Bcrypt.verify(password, hash: hash.encoded) }
    }

    private func offloaded<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
        }
    }
}
