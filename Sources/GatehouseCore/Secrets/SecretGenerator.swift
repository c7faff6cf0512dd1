import Foundation

/// Makes unguessable strings from the system CSPRNG (`getrandom(2)` on Linux).
package enum SecretGenerator {
    /// The 62 characters that survive copy and paste, URLs and double-click selection.
    package static let base62Alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// `count` random bytes.
    package static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        // Eight bytes a draw: each draw asks the kernel, and a byte a draw made tokens slow to issue.
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            var word = generator.next()
            for _ in 0..<min(8, count - filled) {
                bytes[filled] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                filled += 1
            }
        }
        return bytes
    }

    /// `length` characters drawn uniformly from base62 (≈ 5.95 bits each).
    package static func base62(length: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in base62Alphabet[Int.random(in: 0..<62, using: &generator)] })
    }

    /// `byteCount` random bytes as unpadded base64url text.
    package static func base64URL(byteCount: Int) -> String {
        Data(randomBytes(byteCount)).base64URLEncodedString()
    }
}
