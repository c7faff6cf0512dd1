import Foundation

/// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5): a code is single-use, short-lived and
/// bound to its client, redirect URI and PKCE challenge, and to the consent it was issued under. A second use
/// revokes what the first one issued.
package struct AuthorizationCodeGrant: GrantHandler {
    package let grantType = GrantType.authorizationCode
    let store: any GrantStore
    let issuer: TokenIssuer
    let clock: any WallClock
    var cache: EpochCache? = nil

    package func exchange(_ parameters: [String: String], client: ClientApplication) async throws -> TokenResponse {
        guard let value = parameters["code"] else {
            throw OAuthFailure.invalidRequest("The code parameter is required.")
        }
        let now = clock.now()
        guard let code = try await store.authorizationCode(digest: OpaqueToken(value).digest),
            code.clientID == client.id
        else { throw OAuthFailure.invalidGrant("The authorization code is not valid.") }
        if code.consumedAt != nil {
            try await store.revokeGrant(id: code.grantID, at: now)
            throw OAuthFailure.invalidGrant(
                "The authorization code was already used; the tokens issued for it are revoked.")
        }
        guard now < code.expiresAt else { throw OAuthFailure.invalidGrant("The authorization code has expired.") }
        try Self.checkRedirectURI(parameters["redirect_uri"], against: code)
        try Self.checkVerifier(parameters["code_verifier"], against: code)
        try ResourceIndicator.check(parameters["resource"], against: code.resource, settings: issuer.settings)
        let (response, records) = try await tokens(
            for: PersonalAuthorization(
                grantID: code.grantID, workspaceID: code.workspaceID, userID: code.userID, scopes: code.scopes,
                authTime: code.authTime, amr: code.amr, nonce: code.nonce, resource: code.resource),
            client: client, userGone: "The user of this authorization code can no longer sign in.", store: store,
            issuer: issuer, cache: cache, at: now)
        guard try await store.redeem(code, at: now, issuing: records) else {
            // Another request redeemed it in the meantime: that is a replay too.
            try await store.revokeGrant(id: code.grantID, at: now)
            throw OAuthFailure.invalidGrant(
                "The authorization code was already used; the tokens issued for it are revoked.")
        }
        return response
    }

    /// RFC 6749 §4.1.3: when the authorization request named a redirect URI, the token request must name the
    /// identical one; when it did not, neither may the token request.
    static func checkRedirectURI(_ sent: String?, against code: AuthorizationCode) throws(OAuthFailure) {
        guard sent == code.redirectURI else {
            throw .invalidGrant(
                code.redirectURI == nil
                    ? "The authorization request had no redirect_uri, so the token request must not send one."
                    : "The redirect_uri does not match the one of the authorization request.")
        }
    }

    /// RFC 7636 §4.6, and RFC 9700 §4.8.2: a verifier for a code issued without a challenge is a downgrade
    /// attempt and is refused too.
    static func checkVerifier(_ verifier: String?, against code: AuthorizationCode) throws(OAuthFailure) {
        switch (code.challenge, verifier) {
        case (nil, nil):
            return
        case (nil, .some):
            throw .invalidGrant("A code_verifier was sent for a code issued without a code_challenge.")
        case (.some, nil):
            throw .invalidGrant("The code_verifier is required: the authorization request sent a code_challenge.")
        case (let challenge?, let verifier?):
            guard challenge.isSatisfied(by: verifier) else {
                throw .invalidGrant("The code_verifier does not match the code_challenge.")
            }
        }
    }
}
