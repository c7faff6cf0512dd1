import Foundation

/// What token introspection (RFC 7662) says about an active credential.
package struct ActiveCredential: Equatable, Sendable {
    /// `Bearer` for access tokens, `refresh_token` for refresh tokens, `api_key` for API keys.
    package var tokenType: String
    package var scopes: Set<Scope>
    /// The client the token was issued to, or the client a service key belongs to.
    package var clientID: ClientID?
    /// The user a user credential acts for.
    package var subject: UserID?
    package var workspaceID: WorkspaceID
    package var issuedAt: Date
    package var expiresAt: Date?
    /// For access tokens: the issuer, audience and `jti` of the JWT.
    package var issuer: String?
    package var audience: String?
    package var tokenID: String?

    package init(
        tokenType: String, scopes: Set<Scope>, clientID: ClientID?, subject: UserID?, workspaceID: WorkspaceID,
        issuedAt: Date, expiresAt: Date?, issuer: String? = nil, audience: String? = nil, tokenID: String? = nil
    ) {
        self.tokenType = tokenType
        self.scopes = scopes
        self.clientID = clientID
        self.subject = subject
        self.workspaceID = workspaceID
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.issuer = issuer
        self.audience = audience
        self.tokenID = tokenID
    }
}

/// Answers a resource server (an authenticated confidential client) asking whether a credential is active
/// and what it may do: one way to check any credential Gatehouse issues — access tokens, refresh tokens and
/// API keys.
package struct Introspection: Sendable {
    let keys: APIKeyVerifier
    let accessTokens: AccessTokenVerifier
    let store: any TokenStore & UserStore & ClientStore
    let clock: any WallClock

    package init(
        keys: APIKeyVerifier, accessTokens: AccessTokenVerifier, store: any TokenStore & UserStore & ClientStore,
        clock: any WallClock
    ) {
        self.keys = keys
        self.accessTokens = accessTokens
        self.store = store
        self.clock = clock
    }

    /// The credential's current rights, or nil — inactive — for anything unknown, malformed, revoked, expired,
    /// stopped by its owner's state, or belonging to another workspace than `client`'s. Public clients cannot
    /// keep a secret, so they may not ask.
    package func introspect(_ token: String, by client: ClientApplication) async throws -> ActiveCredential? {
        guard client.type == .confidential else { throw ClientAuthenticationFailed() }
        let active: ActiveCredential?
        if AccessTokenVerifier.looksLikeJWT(token) {
            active = try await accessToken(token)
        } else if let key = PlaintextKey(parsing: token) {
            active = try await apiKey(key)
        } else {
            active = try await refreshToken(token)
        }
        guard let active, active.workspaceID == client.workspaceID else { return nil }
        return active
    }

    private func accessToken(_ token: String) async throws -> ActiveCredential? {
        guard let (claims, principal) = try? await accessTokens.check(token) else { return nil }
        return ActiveCredential(
            tokenType: "Bearer", scopes: principal.scopes, clientID: try? ClientID(claims.clientID),
            subject: principal.user?.id, workspaceID: principal.workspaceID,
            issuedAt: Date(timeIntervalSince1970: TimeInterval(claims.iat)),
            expiresAt: Date(timeIntervalSince1970: TimeInterval(claims.exp)), issuer: claims.iss,
            audience: claims.aud, tokenID: claims.jti)
    }

    private func apiKey(_ key: PlaintextKey) async throws -> ActiveCredential? {
        guard let (record, principal) = try? await keys.check(key) else { return nil }
        return ActiveCredential(
            tokenType: "api_key", scopes: principal.scopes, clientID: principal.client?.id,
            subject: principal.user?.id, workspaceID: principal.workspaceID, issuedAt: record.createdAt,
            expiresAt: record.expiresAt)
    }

    /// A refresh token is active while unused, unexpired and unrevoked, its client enabled and its user able
    /// to sign in; its scopes are the most a refresh could get.
    private func refreshToken(_ token: String) async throws -> ActiveCredential? {
        let now = clock.now()
        guard let record = try await store.refreshToken(digest: OpaqueToken(token).digest), record.usedAt == nil,
            now < record.expiresAt, let grant = try await store.grant(id: record.grantID), grant.revokedAt == nil,
            let userID = grant.userID,
            try await UserStanding.usable(userID, in: grant.workspaceID, store: store) != nil,
            let client = try await store.client(id: grant.clientID), !client.isDisabled
        else { return nil }
        return ActiveCredential(
            tokenType: "refresh_token", scopes: record.scopes, clientID: grant.clientID, subject: userID,
            workspaceID: grant.workspaceID, issuedAt: record.issuedAt, expiresAt: record.expiresAt)
    }
}
