import Foundation

/// Base64url without padding (RFC 4648 §5), as JWS writes every part and OAuth its random values: the one
/// encoder and decoder of it.
package enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Appends the encoding of `bytes` to `output`.
    package static func append(_ bytes: some Collection<UInt8>, to output: inout [UInt8]) {
        let encoded: Void? = bytes.withContiguousStorageIfAvailable { append(buffer: $0, to: &output) }
        if encoded == nil { Array(bytes).withUnsafeBufferPointer { append(buffer: $0, to: &output) } }
    }

    private static func append(buffer bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        output.reserveCapacity(output.count + (bytes.count * 4 + 2) / 3)
        var index = 0
        while bytes.count - index >= 3 {
            let (a, b, c) = (bytes[index], bytes[index + 1], bytes[index + 2])
            index += 3
            output.append(alphabet[Int(a >> 2)])
            output.append(alphabet[Int((a & 0x03) << 4 | b >> 4)])
            output.append(alphabet[Int((b & 0x0F) << 2 | c >> 6)])
            output.append(alphabet[Int(c & 0x3F)])
        }
        switch bytes.count - index {
        case 2:
            let (a, b) = (bytes[index], bytes[index + 1])
            output.append(alphabet[Int(a >> 2)])
            output.append(alphabet[Int((a & 0x03) << 4 | b >> 4)])
            output.append(alphabet[Int((b & 0x0F) << 2)])
        case 1:
            let a = bytes[index]
            output.append(alphabet[Int(a >> 2)])
            output.append(alphabet[Int((a & 0x03) << 4)])
        default: break
        }
    }

    /// The bytes `text` encodes, or nil when it is not unpadded base64url: a character outside the alphabet,
    /// padding, a length no encoding has, or bits left over in the last character.
    package static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let encoded = Array(text.utf8)
        guard encoded.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(encoded.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for character in encoded {
            guard let value = value(of: character) else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // The bits that are left must be zero, so each byte sequence has one encoding (RFC 4648 §3.5).
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }

    private static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}

extension Data {
    /// Base64url without padding (RFC 4648 §5), as OAuth and JOSE use it.
    package func base64URLEncodedString() -> String {
        var text: [UInt8] = []
        Base64URL.append(self, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Decodes unpadded base64url (RFC 4648 §5); nil for anything else.
    package init?(base64URLEncoded text: String) {
        guard let bytes = Base64URL.decode(text) else { return nil }
        self.init(bytes)
    }
}
