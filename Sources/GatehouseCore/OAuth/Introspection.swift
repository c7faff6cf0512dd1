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
    /// For API keys: which key; not part of the answer.
    package var keyID: APIKeyID?

    package init(
        tokenType: String, scopes: Set<Scope>, clientID: ClientID?, subject: UserID?, workspaceID: WorkspaceID,
        issuedAt: Date, expiresAt: Date?, issuer: String? = nil, audience: String? = nil, tokenID: String? = nil,
        keyID: APIKeyID? = nil
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
        self.keyID = keyID
    }
}

/// Answers a resource server (an authenticated confidential client) asking whether a credential is active
/// and what it may do: one way to check any credential Gatehouse issues — access tokens, refresh tokens and
/// API keys.
///
/// Who may learn what (RFC 7662 §4): a client an admin has marked as a resource server learns about every
/// credential of its workspace; any other confidential client only about its own — the tokens issued to it and
/// its service keys — and gets `active: false` for the rest, as for an unknown token. A public client may not
/// ask. Asking is not using: a key's `last_used_at` does not move.
///
/// With a cache, the answers for access tokens and API keys are kept at the credential epoch they were read at:
/// every change that could alter them raises it. Refresh tokens are always read, since using one (which
/// rotates it) does not raise the epoch; and inactive answers are never kept.
package struct Introspection: Sendable {
    let keys: APIKeyVerifier
    let accessTokens: AccessTokenVerifier
    let store: any TokenStore & UserStore & ClientStore
    let clock: any WallClock
    let cache: EpochCache?

    package init(
        keys: APIKeyVerifier, accessTokens: AccessTokenVerifier, store: any TokenStore & UserStore & ClientStore,
        clock: any WallClock, cache: EpochCache? = nil
    ) {
        self.keys = keys
        self.accessTokens = accessTokens
        self.store = store
        self.clock = clock
        self.cache = cache
    }

    /// The credential's current rights, or nil — inactive — for anything unknown, malformed, revoked, expired,
    /// stopped by its owner's state, or belonging to another workspace than `client`'s. Public clients cannot
    /// keep a secret, so they may not ask.
    package func introspect(_ token: String, by client: ClientApplication) async throws -> ActiveCredential? {
        guard client.type == .confidential else { throw ClientAuthenticationFailed() }
        let active: ActiveCredential?
        if AccessTokenVerifier.looksLikeJWT(token) {
            active = try await cached(token) { try await accessToken(token) }
        } else if let key = PlaintextKey(parsing: token) {
            active = try await cached(token) { try await apiKey(key) }
        } else {
            active = try await refreshToken(token)
        }
        guard let active, active.workspaceID == client.workspaceID,
            client.isResourceServer || active.clientID == client.id
        else { return nil }
        return active
    }

    /// The answer kept for `token` at the store's current epoch, or `read`'s, kept when active.
    private func cached(
        _ token: String, read: () async throws -> ActiveCredential?
    ) async throws -> ActiveCredential? {
        guard let cache else { return try await read() }
        let epoch = try await cache.currentEpoch()
        let digest = SecretDigest(of: token)
        if let kept = cache.cache.introspection(of: digest, at: clock.now()) { return kept }
        let active = try await read()
        if let active { cache.cache.remember(active, for: digest, readAt: epoch) }
        return active
    }

    private func accessToken(_ token: String) async throws -> ActiveCredential? {
        guard let (claims, principal) = try? await accessTokens.check(token, anyResource: true) else { return nil }
        return ActiveCredential(
            tokenType: "Bearer", scopes: principal.scopes, clientID: try? ClientID(claims.clientID),
            subject: principal.user?.id, workspaceID: principal.workspaceID,
            issuedAt: Date(timeIntervalSince1970: TimeInterval(claims.iat)),
            expiresAt: Date(timeIntervalSince1970: TimeInterval(claims.exp)), issuer: claims.iss,
            audience: claims.aud, tokenID: claims.jti)
    }

    private func apiKey(_ key: PlaintextKey) async throws -> ActiveCredential? {
        guard let (record, principal) = try? await keys.check(key, countingUse: false) else { return nil }
        return ActiveCredential(
            tokenType: "api_key", scopes: principal.scopes, clientID: principal.client?.id,
            subject: principal.user?.id, workspaceID: principal.workspaceID, issuedAt: record.createdAt,
            expiresAt: record.expiresAt, keyID: record.id)
    }

    /// A refresh token is active while unused, unexpired and unrevoked, its client enabled and its user able
    /// to sign in; its scopes are the most a refresh could get.
    private func refreshToken(_ token: String) async throws -> ActiveCredential? {
        let now = clock.now()
        guard let (record, grant) = try await store.refreshToken(digest: OpaqueToken(token).digest),
            record.usedAt == nil, now < record.expiresAt, grant.revokedAt == nil,
            let userID = grant.userID,
            try await UserStanding.usable(userID, in: grant.workspaceID, store: store, cache: cache) != nil,
            let client = try await store.client(id: grant.clientID), !client.isDisabled
        else { return nil }
        return ActiveCredential(
            tokenType: "refresh_token", scopes: record.scopes, clientID: grant.clientID, subject: userID,
            workspaceID: grant.workspaceID, issuedAt: record.issuedAt, expiresAt: record.expiresAt)
    }
}
