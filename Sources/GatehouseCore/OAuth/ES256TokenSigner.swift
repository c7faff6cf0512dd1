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
