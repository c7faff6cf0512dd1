import Crypto
import Foundation

/// Claims that write themselves as a JWT payload: the same members their `Codable` form has, so a token's
/// claims decode back to what was signed (a test holds every claims type to that).
package protocol JWTClaimsWriting {
    func writeClaims(to object: inout JSONObjectWriter)
}

/// Signs compact JWS tokens (RFC 7515 §7.1) with ES256 (RFC 7518 §3.4): the header names the key and the
/// token's type, the signature is the 64-byte `r ‖ s`.
///
/// Written here rather than through JWTKit, whose signing encodes header and claims with Foundation's
/// `JSONEncoder` and runs one signature at a time inside its key collection: that was most of a
/// `client_credentials` request. Tokens are still verified with JWTKit.
package struct ES256TokenSigner: Sendable {
    package let kid: String
    private let key: P256.Signing.PrivateKey

    package init(key: P256.Signing.PrivateKey, kid: String) {
        self.key = key
        self.kid = kid
    }

    /// `header.claims.signature`, each part base64url without padding; `type` is the `typ` header.
    package func sign(_ claims: some JWTClaimsWriting, type: String) throws -> String {
        var header = JSONObjectWriter(capacity: 128)
        header.member("alg", "ES256")
        header.member("kid", kid)
        header.member("typ", type)
        var payload = JSONObjectWriter()
        claims.writeClaims(to: &payload)

        var token: [UInt8] = []
        token.reserveCapacity(512)
        Base64URL.append(header.finish(), to: &token)
        token.append(UInt8(ascii: "."))
        Base64URL.append(payload.finish(), to: &token)
        let signature = try key.signature(for: token)
        token.append(UInt8(ascii: "."))
        Base64URL.append(signature.rawRepresentation, to: &token)
        return String(decoding: token, as: UTF8.self)
    }
}

/// Base64url without padding (RFC 4648 §5), as JWS writes every part.
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
}
