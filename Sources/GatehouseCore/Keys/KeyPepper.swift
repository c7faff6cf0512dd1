import Crypto
import Foundation

/// A server secret kept outside the database; API keys are stored as HMAC-SHA-256 under it, so a database
/// dump alone cannot confirm a key. Numbered, so a new pepper can be added while old keys still verify.
package struct KeyPepper: Sendable {
    package let version: Int
    let key: SymmetricKey

    /// At least 32 bytes, the HMAC-SHA-256 block strength.
    package init(version: Int, secret: [UInt8]) throws(DomainError) {
        guard version > 0 else {
            throw .invalidInput(field: "key_pepper", message: "A key pepper version must be a positive number.")
        }
        guard secret.count >= 32 else {
            throw .invalidInput(field: "key_pepper", message: "A key pepper must be at least 32 bytes.")
        }
        self.version = version
        self.key = SymmetricKey(data: secret)
    }

    /// The digest of `key` under this pepper.
    package func digest(_ key: PlaintextKey) -> KeyDigest {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(key.value.utf8), using: self.key)
        return KeyDigest(hex: lowercaseHex(mac), pepperVersion: version)
    }
}

/// What the store keeps of a key: its keyed digest and which pepper made it.
package struct KeyDigest: Hashable, Sendable {
    package let hex: String
    package let pepperVersion: Int

    package init(hex: String, pepperVersion: Int) {
        self.hex = hex
        self.pepperVersion = pepperVersion
    }
}

/// Every pepper the installation knows; the highest version digests new keys, older ones still verify.
///
/// The text form is one pepper a line, `<version> <base64 of ≥ 32 bytes>`; `#` starts a comment.
package struct KeyPeppers: Sendable {
    package let current: KeyPepper
    /// Newest first.
    package let all: [KeyPepper]

    package init(_ peppers: [KeyPepper]) throws(DomainError) {
        let sorted = peppers.sorted { $0.version > $1.version }
        guard let current = sorted.first else {
            throw .invalidInput(field: "key_pepper", message: "No key pepper is configured.")
        }
        guard Set(sorted.map(\.version)).count == sorted.count else {
            throw .invalidInput(field: "key_pepper", message: "Two key peppers have the same version.")
        }
        self.current = current
        self.all = sorted
    }

    /// Parses the text form.
    package init(text: String) throws(DomainError) {
        var peppers: [KeyPepper] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let parts = trimmed.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, let version = Int(parts[0]), let secret = Data(base64Encoded: String(parts[1]))
            else {
                throw .invalidInput(
                    field: "key_pepper", message: "A key pepper line must read '<version> <base64 secret>'.")
            }
            peppers.append(try KeyPepper(version: version, secret: Array(secret)))
        }
        try self.init(peppers)
    }

    /// A fresh pepper file's text: version 1 with 32 random bytes.
    package static func generatedText() -> String {
        let secret = Data(SecretGenerator.randomBytes(32)).base64EncodedString()
        return
            "# Gatehouse API key pepper. Keep it secret and keep it: without it no stored key verifies.\n1 \(secret)\n"
    }

    /// The digests `key` could be stored under, newest pepper first.
    package func digests(of key: PlaintextKey) -> [KeyDigest] {
        all.map { $0.digest(key) }
    }
}
