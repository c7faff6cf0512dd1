import Foundation

/// `grant_type=refresh_token` (RFC 6749 §6): every use rotates the refresh token, and presenting one that
/// was already rotated revokes its whole grant (RFC 9700 §4.14.2), since either the client or an attacker
/// holds a stolen copy. A refresh may ask for fewer scopes, never more, and gets no more than the user's role
/// allows now.
package struct RefreshTokenGrant: GrantHandler {
    package let grantType = GrantType.refreshToken
    let store: any GrantStore
    let issuer: TokenIssuer
    let clock: any WallClock
    var cache: EpochCache? = nil

    package func exchange(_ parameters: [String: String], client: ClientApplication) async throws -> TokenResponse {
        guard let value = parameters["refresh_token"] else {
            throw OAuthFailure.invalidRequest("The refresh_token parameter is required.")
        }
        let now = clock.now()
        let invalid = OAuthFailure.invalidGrant("The refresh token is not valid.")
        guard let (token, grant) = try await store.refreshToken(digest: OpaqueToken(value).digest),
            grant.clientID == client.id
        else { throw invalid }
        guard grant.revokedAt == nil else { throw invalid }
        if token.usedAt != nil {
            try await store.revokeGrant(id: grant.id, at: now)
            throw OAuthFailure.invalidGrant("The refresh token was already used; every token of its grant is revoked.")
        }
        guard now < token.expiresAt else { throw OAuthFailure.invalidGrant("The refresh token has expired.") }
        try ResourceIndicator.check(parameters["resource"], against: grant.resource, settings: issuer.settings)
        let resource = try await resourceServer(grant.resource, store: store)
        let requested = try GrantableScopes.parse(parameters["scope"])
        if let requested, !requested.isSubset(of: token.scopes) {
            throw OAuthFailure.invalidScope("A refresh may ask for the scopes first granted or fewer, not more.")
        }
        guard let userID = grant.userID,
            let user = try await UserStanding.usable(userID, in: grant.workspaceID, store: store)
        else { throw OAuthFailure.invalidGrant("The user of this refresh token can no longer sign in.") }
        let rights = try await rights(in: grant.workspaceID, store: store, cache: cache)
        let scopes = try GrantableScopes(rights: rights).forUser(
            requested: requested ?? token.scopes, client: client, role: user.role)
        // The new refresh token keeps the original ceiling (RFC 6749 §6), so a narrower refresh is not final.
        let (response, records) = try await issuer.issue(
            under: grant, scopes: scopes,
            for: TokenSubject(user: user, authTime: grant.authTime, nonce: nil, amr: grant.amr),
            client: client, resource: resource, refreshScopes: token.scopes, at: now)
        guard try await store.rotate(token, at: now, issuing: records) else {
            try await store.revokeGrant(id: grant.id, at: now)
            throw OAuthFailure.invalidGrant("The refresh token was already used; every token of its grant is revoked.")
        }
        return response
    }
}
