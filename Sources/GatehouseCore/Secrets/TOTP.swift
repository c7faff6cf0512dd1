import Crypto
import Foundation

/// Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA-1, 6 digits, 30-second steps, what every
/// authenticator app computes from a scanned `otpauth://` code.
package struct TOTP: Sendable {
    package static let digits = 6
    package static let period: TimeInterval = 30
    /// How many steps either side of now a code may be from: one, for a phone's clock a little off.
    package static let window = 1

    /// The shared secret: 20 random bytes (160 bits, RFC 4226 §4's recommendation).
    package let secret: [UInt8]

    package init(secret: [UInt8]) { self.secret = secret }

    /// A fresh secret.
    package static func generate() -> TOTP { TOTP(secret: SecretGenerator.randomBytes(20)) }

    /// The secret as people type it into an app: base32 (RFC 4648), in groups of four.
    package var typedSecret: String {
        stride(from: 0, to: base32.count, by: 4).map { start in
            let from = base32.index(base32.startIndex, offsetBy: start)
            return String(
                base32[from..<(base32.index(from, offsetBy: 4, limitedBy: base32.endIndex) ?? base32.endIndex)])
        }.joined(separator: " ")
    }

    /// The secret in base32 without padding, as `otpauth://` URIs carry it.
    package var base32: String { Base32.encode(secret) }

    /// The URI an authenticator app reads from the QR code (Google Authenticator's Key Uri Format).
    package func uri(issuer: String, account: String) -> String {
        var label = CharacterSet.urlPathAllowed
        label.remove(charactersIn: ":/?#[]@")
        var value = CharacterSet.urlQueryAllowed
        value.remove(charactersIn: "&=+:/?#[]@")
        func encoded(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: label) ?? text }
        let name = encoded(issuer) + ":" + encoded(account)
        let issuerValue = issuer.addingPercentEncoding(withAllowedCharacters: value) ?? issuer
        return "otpauth://totp/\(name)?secret=\(base32)&issuer=\(issuerValue)&algorithm=SHA1&digits=6&period=30"
    }

    /// The time step of `time`.
    package static func step(at time: Date) -> Int64 { Int64((time.timeIntervalSince1970 / period).rounded(.down)) }

    /// The code of `step`.
    package func code(step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Data($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let value =
            (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8)
            | UInt32(mac[offset + 3])
        let code = value % 1_000_000
        return String(repeating: "0", count: Self.digits - String(code).count) + String(code)
    }

    /// The step `code` was made for, within the window around `time` and after `lastUsed` (a code is accepted
    /// once: no replay within its window); nil when it matches none.
    package func match(_ code: String, at time: Date, after lastUsed: Int64?) -> Int64? {
        let typed = code.filter { !$0.isWhitespace }
        guard typed.count == Self.digits, typed.allSatisfy(\.isASCII), typed.allSatisfy(\.isNumber) else { return nil }
        let now = Self.step(at: time)
        var matched: Int64?
        // Every candidate is compared, in constant time, so the time taken says nothing of which one matched.
        for step in (now - Int64(Self.window))...(now + Int64(Self.window)) {
            if constantTimeEquals(Array(self.code(step: step).utf8), Array(typed.utf8)), step > (lastUsed ?? .min) {
                matched = step
            }
        }
        return matched
    }
}

/// RFC 4648 base32, upper case, without padding.
package enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    package static func encode(_ bytes: [UInt8]) -> String {
        var output = ""
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return output
    }
}
