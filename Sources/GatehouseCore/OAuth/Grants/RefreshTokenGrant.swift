import Foundation

/// `grant_type=refresh_token` (RFC 6749 §6): every use rotates the refresh token, and presenting one that
/// was already rotated revokes its whole grant (RFC 9700 §4.14.2), since either the client or an attacker
/// holds a stolen copy. A refresh may ask for fewer scopes, never more, and gets no more than the user's role
/// allows now.
///
/// With a reuse grace (`OAuthSettings.refreshReuseGrace`, 0 by default), a token presented again within that
/// many seconds of its rotation is taken for a client retrying a rotation whose answer it lost: it gets a fresh
/// pair, and the pair it never received is retired. Past the grace, the grant is revoked as before.
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
        let grace = issuer.settings.refreshReuseGrace
        let usedSince = now.addingTimeInterval(-grace)
        if let usedAt = token.usedAt, grace == 0 || usedAt < usedSince {
            try await reused(grant, at: now)
        }
        guard now < token.expiresAt else { throw OAuthFailure.invalidGrant("The refresh token has expired.") }
        try ResourceIndicator.check(parameters["resource"], against: grant.resource, settings: issuer.settings)
        let resource = try await resourceServer(grant.resource, store: store)
        let requested = try GrantableScopes.parse(parameters["scope"])
        if let requested, !requested.isSubset(of: token.scopes) {
            throw OAuthFailure.invalidScope("A refresh may ask for the scopes first granted or fewer, not more.")
        }
        guard let userID = grant.userID,
            let user = try await UserStanding.usable(userID, in: grant.workspaceID, store: store, cache: cache)
        else { throw OAuthFailure.invalidGrant("The user of this refresh token can no longer sign in.") }
        let rights = try await rights(in: grant.workspaceID, store: store, cache: cache)
        let scopes = try GrantableScopes(rights: rights).forUser(
            requested: requested ?? token.scopes, client: client, role: user.role)
        // The new refresh token keeps the original ceiling (RFC 6749 §6), so a narrower refresh is not final.
        let (response, records) = try await issuer.issue(
            under: grant, scopes: scopes,
            for: TokenSubject(user: user, authTime: grant.authTime, nonce: nil, amr: grant.amr),
            client: client, resource: resource, refreshScopes: token.scopes, at: now)
        // A first use rotates; a retry within the grace (or a first use that lost the race to one) reissues.
        var stored = false
        if token.usedAt == nil { stored = try await store.rotate(token, at: now, issuing: records) }
        if !stored, grace > 0 {
            stored = try await store.reissue(after: token, usedSince: usedSince, at: now, issuing: records)
        }
        guard stored else { try await reused(grant, at: now) }
        return response
    }

    /// A refresh token presented again past the grace: either the client or an attacker holds a stolen copy, and
    /// the whole grant goes.
    private func reused(_ grant: TokenGrant, at now: Date) async throws -> Never {
        try await store.revokeGrant(id: grant.id, at: now)
        throw OAuthFailure.invalidGrant("The refresh token was already used; every token of its grant is revoked.")
    }
}
