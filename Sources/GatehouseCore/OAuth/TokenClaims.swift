import Crypto
import Foundation
import JWTKit

/// The claims of an access token (RFC 9068 §2.2), with times in whole seconds. Gatehouse checks expiry,
/// issuer and audience itself against its injected clock, so `verify(using:)` checks nothing more.
package struct AccessTokenClaims: JWTPayload, Equatable {
    package var iss: String
    /// The user id; the client id for client credentials.
    package var sub: String
    package var aud: String
    package var clientID: String
    /// Space-separated, sorted.
    package var scope: String
    package var exp: Int64
    package var iat: Int64
    package var jti: String
    package var workspaceID: String
    package var authTime: Int64?
    /// `client_credentials` on a client's own token (the `gty` claim, as other servers name it). Absent on
    /// tokens issued for a user.
    package var grantType: String?
    /// The grant a user's token was issued under, which the token follows: revoking the grant ends it. Absent on
    /// a client's own token, which belongs to no grant.
    package var grantID: String?

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, scope, exp, iat, jti
        case clientID = "client_id"
        case workspaceID = "workspace_id"
        case authTime = "auth_time"
        case grantType = "gty"
        case grantID = "grant_id"
    }

    package init(
        iss: String, sub: String, aud: String, clientID: String, scope: String, exp: Int64, iat: Int64, jti: String,
        workspaceID: String, authTime: Int64?, grantType: String? = nil, grantID: String? = nil
    ) {
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.clientID = clientID
        self.scope = scope
        self.exp = exp
        self.iat = iat
        self.jti = jti
        self.workspaceID = workspaceID
        self.authTime = authTime
        self.grantType = grantType
        self.grantID = grantID
    }

    package func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// A client's own token (client credentials), checked against its client rather than a grant.
    package var isClientToken: Bool { grantType == GrantType.clientCredentials.rawValue }

    package var scopes: Set<Scope> {
        Set(scope.split(separator: " ").compactMap { try? Scope(String($0)) })
    }
}

/// The claims of an OpenID Connect ID token (Core §2), plus the profile and email claims its scopes allow.
package struct IDTokenClaims: JWTPayload, Equatable {
    package var iss: String
    package var sub: String
    package var aud: String
    package var azp: String
    package var exp: Int64
    package var iat: Int64
    package var authTime: Int64
    package var nonce: String?
    package var name: String?
    package var email: String?
    /// The access token issued with it, hashed (Core §3.1.3.6): `atHash(of:)`.
    package var atHash: String?
    /// How the user proved who they are (RFC 8176): `pwd`, and `otp` after a second factor.
    package var amr: [String]?
    /// `mfa` after a sign-in with a second factor (what `acr_values=mfa` asks for); absent otherwise.
    package var acr: String?

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, azp, exp, iat, nonce, name, email, amr, acr
        case authTime = "auth_time"
        case atHash = "at_hash"
    }

    package init(
        iss: String, sub: String, aud: String, azp: String, exp: Int64, iat: Int64, authTime: Int64, nonce: String?,
        name: String?, email: String?, atHash: String? = nil, amr: [String]? = nil, acr: String? = nil
    ) {
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.azp = azp
        self.exp = exp
        self.iat = iat
        self.authTime = authTime
        self.nonce = nonce
        self.name = name
        self.email = email
        self.atHash = atHash
        self.amr = amr
        self.acr = acr
    }

    /// `at_hash` for `accessToken` in an ID token signed with ES256 or RS256, both on SHA-256: the left half of
    /// its SHA-256, base64url (OIDC Core §3.3.2.11).
    package static func atHash(of accessToken: String) -> String {
        var text: [UInt8] = []
        Base64URL.append(Array(SHA256.hash(data: Array(accessToken.utf8))).prefix(16), to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    package func verify(using algorithm: some JWTAlgorithm) async throws {}
}

extension Date {
    /// Whole seconds since 1970, as JWT `NumericDate`s are written here.
    package var secondsSince1970: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
}
