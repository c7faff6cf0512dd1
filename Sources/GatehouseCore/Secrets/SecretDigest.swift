import Crypto
import Foundation

/// How high-entropy secrets (API keys, client secrets, tokens) are kept at rest: a SHA-256 digest.
///
/// Such secrets cannot be brute-forced, so a slow hash buys nothing; what matters is that the stored value
/// cannot be presented as the secret and that comparisons take the same time whatever the input.
package struct SecretDigest: Hashable, Sendable {
    /// The lowercase hex SHA-256 of the secret.
    package let hex: String

    /// Digests `secret`.
    package init(of secret: String) {
        self.hex = lowercaseHex(SHA256.hash(data: Data(secret.utf8)))
    }

    /// Wraps a digest read back from the store.
    package init(storedHex: String) { self.hex = storedHex }

    /// True when `secret` digests to this value; compared in constant time.
    package func matches(_ secret: String) -> Bool {
        SecretDigest(of: secret).matches(digest: self)
    }

    /// True when both are the digest of the same secret; compared in constant time.
    package func matches(digest other: SecretDigest) -> Bool {
        constantTimeEquals(Array(hex.utf8), Array(other.hex.utf8))
    }
}

/// Compares two byte strings in time that depends only on their lengths, never on where they differ.
package func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in lhs.indices {
        difference |= lhs[index] ^ rhs[index]
    }
    return difference == 0
}

/// `bytes` as lowercase hex. On every request's path (digests of keys and tokens), so one table lookup a
/// nibble rather than a formatted string a byte.
package func lowercaseHex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    text.reserveCapacity(64)
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: text, as: UTF8.self)
}
