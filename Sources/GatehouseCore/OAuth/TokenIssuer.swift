import Foundation

/// A successful token response (RFC 6749 §5.1), before it is written to the wire.
package struct TokenResponse: Sendable {
    package var accessToken: String
    package var expiresIn: Int
    package var refreshToken: String?
    /// What was granted; may be less than was asked for.
    package var scopes: Set<Scope>
    package var idToken: String?
}

/// Who a token is for: a user (with the moment they signed in, and the nonce of their request), or nobody
/// for client credentials.
package struct TokenSubject: Sendable {
    package var user: User?
    package var authTime: Date?
    package var nonce: String?
    /// How the user signed in (OIDC `amr`), when known.
    package var amr: [String]?

    package init(user: User?, authTime: Date?, nonce: String?, amr: [String]? = nil) {
        self.user = user
        self.authTime = authTime
        self.nonce = nonce
        self.amr = amr
    }

    package static let client = TokenSubject(user: nil, authTime: nil, nonce: nil)
}

/// Signs access and ID tokens and makes refresh tokens; the grant handlers decide what goes in them.
package struct TokenIssuer: Sendable {
    let keys: SigningKeyRing
    let settings: OAuthSettings

    package init(keys: SigningKeyRing, settings: OAuthSettings) {
        self.keys = keys
        self.settings = settings
    }

    /// The tokens for `grant` carrying `scopes`, and the records the store must keep of them (none for the
    /// access token, which names its grant when it has a user, and is self-contained). A refresh token
    /// comes along when `refreshScopes` is given (the most a refresh may ask for); an ID token when `openid`
    /// is among the scopes and there is a user. The access token is for `resource` (Gatehouse's own API when
    /// nil): its `aud` and lifetime, and of `scopes` only those the resource defines (RFC 8707).
    package func issue(
        under grant: TokenGrant, scopes: Set<Scope>, for subject: TokenSubject, client: ClientApplication,
        resource: ResourceServer? = nil, refreshScopes: Set<Scope>?, at now: Date
    ) async throws -> (TokenResponse, IssuedTokens) {
        let audience = settings.audience(for: resource)
        let tokenScopes = audience.scopes(of: scopes)
        let expiresAt = now.addingTimeInterval(audience.lifetime)
        // Time first, so revoked tokens sit side by side in the store's revocation list.
        let jti = UUID.timeOrdered().lowercasedText
        let claims = AccessTokenClaims(
            iss: settings.issuer, sub: subject.user.map { "\($0.id)" } ?? client.id.value, aud: audience.identifier,
            clientID: client.id.value, scope: tokenScopes.sorted().map(\.name).joined(separator: " "),
            exp: expiresAt.secondsSince1970, iat: now.secondsSince1970, jti: jti, workspaceID: "\(grant.workspaceID)",
            authTime: subject.authTime?.secondsSince1970,
            grantType: subject.user == nil ? GrantType.clientCredentials.rawValue : nil,
            grantID: subject.user == nil ? nil : grant.id.description)
        let accessToken = try await keys.sign(claims, type: "at+jwt", algorithm: settings.accessTokenAlgorithm)
        var idToken: String?
        if let user = subject.user, scopes.contains(.openid) {
            let identity = IDTokenClaims(
                iss: settings.issuer, sub: "\(user.id)", aud: client.id.value, azp: client.id.value,
                exp: now.addingTimeInterval(settings.accessTokenLifetime).secondsSince1970, iat: now.secondsSince1970,
                authTime: (subject.authTime ?? now).secondsSince1970, nonce: subject.nonce,
                name: scopes.contains(.profile) ? user.name : nil,
                email: scopes.contains(.email) ? user.email.value : nil, atHash: IDTokenClaims.atHash(of: accessToken),
                amr: subject.amr, acr: subject.amr?.contains("otp") == true ? Authorization.multiFactorACR : nil)
            idToken = try await keys.sign(identity, type: "JWT", algorithm: client.idTokenSigningAlgorithm)
        }
        var refresh: (token: OpaqueToken, record: RefreshToken)?
        if let refreshScopes {
            let token = OpaqueToken.generate()
            refresh = (
                token,
                RefreshToken(
                    digest: token.digest, grantID: grant.id, scopes: refreshScopes, issuedAt: now,
                    expiresAt: now.addingTimeInterval(settings.refreshTokenLifetime))
            )
        }
        let response = TokenResponse(
            accessToken: accessToken, expiresIn: Int(audience.lifetime), refreshToken: refresh?.token.value,
            scopes: tokenScopes, idToken: idToken)
        let records = IssuedTokens(newGrant: nil, refreshToken: refresh?.record)
        return (response, records)
    }
}
