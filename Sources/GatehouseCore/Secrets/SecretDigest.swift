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
    var text: [UInt8] = []
    text.reserveCapacity(64)
    for byte in bytes {
        text.append(lowercaseHexDigits[Int(byte >> 4)])
        text.append(lowercaseHexDigits[Int(byte & 0x0f)])
    }
    return String(decoding: text, as: UTF8.self)
}

/// The ASCII bytes of the sixteen hex digits, lowercase: a nibble indexes its digit.
package let lowercaseHexDigits = Array("0123456789abcdef".utf8)

/// The value of the ASCII hex digit `byte`, either case, or nil when it is not one.
package func hexDigitValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
