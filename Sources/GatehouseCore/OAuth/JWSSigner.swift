import Crypto
import Foundation

/// Signs compact JWS tokens (RFC 7515 §7.1) with ES256 or RS256 (RFC 7518 §3.3, §3.4): the header names the
/// algorithm, the key and the token's type.
///
/// Written here rather than through JWTKit, whose signing encodes header and claims with Foundation's
/// `JSONEncoder` and runs one signature at a time inside its key collection: that was most of a
/// `client_credentials` request. Tokens are still verified with JWTKit.
package struct JWSSigner: Sendable {
    package let kid: String
    private let key: SigningPrivateKey

    package init(key: SigningPrivateKey, kid: String) {
        self.key = key
        self.kid = kid
    }

    package var algorithm: SigningAlgorithm { key.algorithm }

    /// `header.claims.signature`, each part base64url without padding; `type` is the `typ` header. Header and
    /// claims are written by `JSONWriter`, from the claims' own coding keys.
    package func sign(_ claims: some Encodable, type: String) throws -> String {
        let writer = JSONWriter()
        var token: [UInt8] = []
        token.reserveCapacity(key.algorithm == .rs256 ? 1024 : 512)
        Base64URL.append(try writer.encode(Header(alg: key.algorithm.rawValue, kid: kid, typ: type)), to: &token)
        token.append(UInt8(ascii: "."))
        Base64URL.append(try writer.encode(claims), to: &token)
        let signature = try key.signature(for: token)
        token.append(UInt8(ascii: "."))
        Base64URL.append(signature, to: &token)
        return String(decoding: token, as: UTF8.self)
    }

    /// The JOSE header (RFC 7515 §4.1).
    private struct Header: Encodable {
        let alg: String
        let kid: String
        let typ: String
    }
}
