import Foundation

/// One grant type of the token endpoint (RFC 6749 §4): given the request's parameters and the client,
/// already authenticated, it checks the grant and issues tokens, or throws an `OAuthFailure`.
package protocol GrantHandler: Sendable {
    var grantType: GrantType { get }
    func exchange(_ parameters: [String: String], client: ClientApplication) async throws -> TokenResponse
}

/// What the grant handlers read and write.
package typealias GrantStore = TokenStore & UserStore & ScopeStore & ConsentStore & ResourceServerStore

extension GrantHandler {
    /// What each role of `workspace` may hold now: through `cache` when the endpoint has one (every change to
    /// scope definitions raises the epoch), else read from `store`.
    func rights(in workspace: WorkspaceID, store: any ScopeStore, cache: EpochCache?) async throws -> RoleRights {
        RoleRights(custom: try await EpochCache.scopeDefinitions(in: workspace, through: cache, from: store))
    }

    /// Tokens for what a person allowed `client`, by an authorization code or on a device: it stands on their
    /// consent (withdrawn, or outgrown by the client since, it is dead), and their role bounds it as it is now.
    /// Returns the answer and the records to store, the new grant among them; `userGone` says why a user who can
    /// no longer sign in gets nothing.
    func tokens(
        for authorization: PersonalAuthorization, client: ClientApplication, userGone: String,
        store: any GrantStore, issuer: TokenIssuer, cache: EpochCache?, at now: Date
    ) async throws -> (TokenResponse, IssuedTokens) {
        let resource = try await resourceServer(authorization.resource, store: store)
        guard
            let user = try await UserStanding.usable(
                authorization.userID, in: authorization.workspaceID, store: store, cache: cache)
        else { throw OAuthFailure.invalidGrant(userGone) }
        guard let consent = try await store.consent(of: user.id, for: client.id),
            consent.covers(client, asking: authorization.scopes)
        else { throw OAuthFailure.invalidGrant("The user's consent for this application was withdrawn.") }
        let rights = try await rights(in: authorization.workspaceID, store: store, cache: cache)
        let scopes = try GrantableScopes(rights: rights).forUser(
            requested: authorization.scopes, client: client, role: user.role)
        let grant = TokenGrant(
            id: authorization.grantID, workspaceID: authorization.workspaceID, clientID: client.id, userID: user.id,
            scopes: scopes, authTime: authorization.authTime, amr: authorization.amr,
            resource: authorization.resource, createdAt: now)
        var (response, records) = try await issuer.issue(
            under: grant, scopes: scopes,
            for: TokenSubject(
                user: user, authTime: authorization.authTime, nonce: authorization.nonce, amr: authorization.amr),
            client: client, resource: resource,
            refreshScopes: client.grantTypes.contains(.refreshToken) ? scopes : nil, at: now)
        records.newGrant = grant
        return (response, records)
    }

    /// The resource server a grant was authorized for, still registered; nil for Gatehouse's own API. One that
    /// was removed since is `invalid_target`: no token is issued for it any more.
    func resourceServer(_ identifier: ResourceIdentifier?, store: any ResourceServerStore) async throws
        -> ResourceServer?
    {
        guard let identifier else { return nil }
        guard let resource = try await store.resourceServer(identifier: identifier) else {
            throw OAuthFailure(
                .invalidTarget, "The resource '\(identifier)' this grant is for is no longer registered.")
        }
        return resource
    }
}

/// The token endpoint's dispatch: a grant type names its handler; adding a grant is adding a handler.
package struct TokenEndpoint: Sendable {
    let handlers: [String: any GrantHandler]

    package init(_ handlers: [any GrantHandler]) {
        self.handlers = Dictionary(uniqueKeysWithValues: handlers.map { ($0.grantType.rawValue, $0) })
    }

    /// The standard handlers over one store; with a cache, scope definitions are read through it.
    package init(
        store: any GrantStore & DeviceCodeStore, issuer: TokenIssuer, clock: any WallClock, cache: EpochCache? = nil
    ) {
        self.init([
            AuthorizationCodeGrant(store: store, issuer: issuer, clock: clock, cache: cache),
            RefreshTokenGrant(store: store, issuer: issuer, clock: clock, cache: cache),
            ClientCredentialsGrant(store: store, issuer: issuer, clock: clock, cache: cache),
            DeviceCodeGrant(store: store, issuer: issuer, clock: clock, cache: cache),
        ])
    }

    /// Exchanges a grant of `grantType` for tokens, when `client` is registered for it.
    package func exchange(
        grantType: String?, _ parameters: [String: String], client: ClientApplication
    ) async throws -> TokenResponse {
        guard let grantType else { throw OAuthFailure.invalidRequest("The grant_type parameter is required.") }
        guard let handler = handlers[grantType] else {
            throw OAuthFailure(.unsupportedGrantType, "The grant type '\(grantType.prefix(64))' is not supported.")
        }
        guard client.grantTypes.contains(handler.grantType) else {
            throw OAuthFailure(
                .unauthorizedClient, "This client is not registered for the \(handler.grantType.rawValue) grant.")
        }
        return try await handler.exchange(parameters, client: client)
    }
}

/// What a person allowed a client, ready to become tokens: an authorization code's, or a device's approval.
struct PersonalAuthorization {
    var grantID = GrantID()
    var workspaceID: WorkspaceID
    var userID: UserID
    var scopes: Set<Scope>
    var authTime: Date
    var amr: [String]?
    var nonce: String?
    var resource: ResourceIdentifier?
}

/// Why a user cannot hold tokens right now, if they cannot: the same checks the Bearer path makes.
package enum UserStanding {
    /// The user `id` of `workspace` when they may hold tokens; nil when deleted, moved, deactivated or not
    /// yet through the privacy notice.
    /// Through `cache` when given, which holds users as they are at the current credential epoch.
    package static func usable(_ id: UserID, in workspace: WorkspaceID, store: any UserStore, cache: EpochCache? = nil)
        async throws -> User?
    {
        guard let user = try await EpochCache.user(id, through: cache, from: store), user.workspaceID == workspace,
            user.isActive,
            user.privacyNoticeAcceptedAt != nil
        else { return nil }
        return user
    }
}
