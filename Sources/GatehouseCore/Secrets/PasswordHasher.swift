import Crypto
import Dispatch
import Foundation
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

/// A password hash as stored: `$sha256-bcrypt$2b$12$…` (bcrypt of the password's SHA-256), or, made before that
/// scheme, plain bcrypt (`$2b$12$…`), which reads no more than 72 bytes of the password.
package struct PasswordHash: Hashable, Sendable {
    package let encoded: String
    package init(encoded: String) { self.encoded = encoded }
}

/// A password someone may choose (NIST SP 800-63B §3.1.1.2): 12 to 256 characters, any of them, with no rules
/// about their kinds; not one of the most common passwords, nor one character or a run of them repeated, nor a
/// keyboard or counting sequence. `check(for:name:)` adds the person's own email and name.
package struct Password: Sendable {
    package static let minimumLength = 12
    package static let maximumLength = 256

    package let value: String

    /// Parses `value`, or says which rule it breaks.
    package init(_ value: String) throws(DomainError) {
        guard value.count >= Self.minimumLength else {
            throw Self.refusal("The password must be at least \(Self.minimumLength) characters long.")
        }
        guard value.count <= Self.maximumLength else {
            throw Self.refusal("The password must be at most \(Self.maximumLength) characters long.")
        }
        let folded = value.lowercased()
        guard !CommonPasswords.contains(folded) else {
            throw Self.refusal("That password is one of the most common ones; choose another.")
        }
        guard !Self.isRepetitive(folded) else {
            throw Self.refusal("That password repeats a few characters; choose one that is harder to guess.")
        }
        self.value = value
    }

    /// A password stored before the current rules, known to be its owner's (it just matched their hash): it is
    /// hashed again under the current scheme without being judged, since its owner did not choose it now.
    package init(known value: String) { self.value = value }

    /// Refuses a password built from its owner's email address or name, the first words a guesser tries: with
    /// them taken out, at least 8 characters must be left.
    package func check(for email: EmailAddress, name: String) throws(DomainError) {
        var rest = value.lowercased().filter { !$0.isWhitespace }
        let local = email.value.split(separator: "@").first.map(String.init) ?? email.value
        let folded = name.lowercased()
        let words =
            [email.value, folded.filter { !$0.isWhitespace }, local] + folded.split(separator: " ").map(String.init)
        for word in words where word.count >= 4 {
            rest = rest.replacingOccurrences(of: word, with: "")
        }
        guard rest.count >= 8 else {
            throw Self.refusal("The password must be more than your email address or your name.")
        }
    }

    /// A fresh random password of 24 base62 characters (≈ 143 bits).
    package static func generate() -> Password {
        // 24 random characters always satisfy the policy.
        Password(known: SecretGenerator.base62(length: 24))
    }

    private static func refusal(_ message: String) -> DomainError {
        .invalidInput(field: "password", message: message)
    }

    /// True when `text` uses at most three distinct characters, or is a stretch of one ordered sequence (letters,
    /// digits, a keyboard row), forwards or backwards, possibly repeated: `aaaaaaaaaaaa`, `abababababab`,
    /// `1234567890123`, `qwertyuiopasdf`.
    static func isRepetitive(_ text: String) -> Bool {
        if Set(text).count <= 3 { return true }
        let sequences = [
            "abcdefghijklmnopqrstuvwxyz", "01234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm",
            "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
        ]
        let characters = Array(text)
        return sequences.contains { sequence in
            let forward = Array(sequence)
            for order in [forward, forward.reversed()] {
                guard let start = order.firstIndex(of: characters[0]) else { continue }
                let follows = characters.indices.allSatisfy { index in
                    characters[index] == order[(start + index) % order.count]
                }
                if follows { return true }
            }
            return false
        }
    }
}

/// bcrypt of the password's SHA-256 (base64, 44 characters, so no password is cut at bcrypt's 72 bytes and none
/// holds the NUL byte bcrypt stops at), run on a background queue so the event loops never block on it. Hashes
/// made before this scheme, plain bcrypt, still verify, and are made again at their owner's next sign-in.
package struct BcryptPasswordHasher: PasswordHasher {
    /// The work factor; 12 by default (≈ 250 ms here). Tests use the minimum, 4.
    package let cost: UInt8

    /// The work factors an operator may choose: from bcrypt's usual floor to what still answers a sign-in in
    /// seconds.
    package static let costs: ClosedRange<UInt8> = 10...16

    package init(cost: UInt8 = 12) { self.cost = cost }

    /// What marks the current scheme's hashes.
    static let scheme = "$sha256-bcrypt"

    /// A hash of the older scheme, or of a lower cost than this hasher's (`…$2b$NN$…`); one that cannot be read
    /// is left alone.
    package func needsRehash(_ hash: PasswordHash) -> Bool {
        guard hash.encoded.hasPrefix(Self.scheme) else { return hash.encoded.hasPrefix("$2") }
        let parts = hash.encoded.dropFirst(Self.scheme.count).split(separator: "$", omittingEmptySubsequences: true)
        guard parts.count >= 2, let stored = UInt8(parts[1]) else { return false }
        return stored < cost
    }

    package func hash(_ password: Password) async -> PasswordHash {
        let cost = self.cost
        return await offloaded {
            PasswordHash(encoded: Self.scheme + Bcrypt.hash(Self.prehashed(password.value), cost: cost))
        }
    }

    package func verify(_ password: String, against hash: PasswordHash) async -> Bool {
        await offloaded {
            guard hash.encoded.hasPrefix(Self.scheme) else {
                // The older scheme read at most 72 bytes; a longer password was never accepted under it.
                return password.utf8.count <= 72 && Bcrypt.verify(password, hash: hash.encoded)
            }
            return Bcrypt.verify(Self.prehashed(password), hash: String(hash.encoded.dropFirst(Self.scheme.count)))
        }
    }

    static func prehashed(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }

    private func offloaded<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
        }
    }
}
