import Foundation

/// What checking an access token needs to read.
package typealias AccessTokenStore = KeyVerificationStore & TokenStore

/// Verifies an OAuth access token for the Bearer path, introspection and userinfo: the signature, type,
/// issuer, audience and expiry, then that neither the token nor its grant is revoked, that the client is
/// enabled and that the user may still act. It acts with the user's rights as they are now, so a demotion
/// narrows a live token at once. A client's own token has no stored token or grant; it is checked against
/// the revocation list and its client instead.
package struct AccessTokenVerifier: CredentialVerifier {
    let keys: SigningKeyRing
    let store: any AccessTokenStore
    let clock: any WallClock
    let settings: OAuthSettings
    let rateLimitPerMinute: Int

    package init(
        keys: SigningKeyRing, store: any AccessTokenStore, clock: any WallClock, settings: OAuthSettings,
        rateLimitPerMinute: Int
    ) {
        self.keys = keys
        self.store = store
        self.clock = clock
        self.settings = settings
        self.rateLimitPerMinute = rateLimitPerMinute
    }

    package func principal(for bearer: String) async throws -> Principal? {
        guard Self.looksLikeJWT(bearer) else { return nil }
        let (claims, principal) = try await check(bearer)
        var expiring = principal
        expiring.credentialExpiresAt = Date(timeIntervalSince1970: TimeInterval(claims.exp))
        return expiring
    }

    /// The token's claims and the principal it stands for now, or a `CredentialRefusal`.
    package func check(_ token: String) async throws -> (claims: AccessTokenClaims, principal: Principal) {
        let claims: AccessTokenClaims
        do {
            claims = try await keys.verify(token, as: AccessTokenClaims.self, type: "at+jwt")
        } catch is TokenRejected {
            throw CredentialRefusal.invalid
        }
        let now = clock.now().secondsSince1970
        guard claims.iss == settings.issuer, claims.aud == settings.audience, now < claims.exp else {
            throw CredentialRefusal.invalid
        }
        if claims.isClientToken { return (claims, try await clientPrincipal(claims)) }
        guard let record = try await store.accessToken(id: claims.jti), record.revokedAt == nil,
            let grant = try await store.grant(id: record.grantID), grant.revokedAt == nil,
            grant.clientID.value == claims.clientID, "\(grant.workspaceID)" == claims.workspaceID
        else { throw CredentialRefusal.invalid }
        guard let client = try await store.client(id: grant.clientID), client.workspaceID == grant.workspaceID else {
            throw CredentialRefusal.invalid
        }
        guard !client.isDisabled else { throw CredentialRefusal.clientDisabled }
        let rights = RoleRights(custom: try await store.scopeDefinitions(in: grant.workspaceID))
        let credential = CredentialKind.accessToken(id: record.id, grant: grant.id, client: client.id)
        let carried = claims.scopes.intersection(client.scopes)
        guard let userID = grant.userID else {
            // A client-credentials token issued before they stopped being stored (they live 15 minutes).
            return (claims, clientPrincipal(client, carrying: carried, rights: rights, credential: credential))
        }
        guard let user = try await store.user(id: userID), user.workspaceID == grant.workspaceID else {
            throw CredentialRefusal.invalid
        }
        guard user.isActive else { throw CredentialRefusal.userDeactivated }
        guard user.privacyNoticeAcceptedAt != nil else { throw CredentialRefusal.privacyNoticeNotAccepted }
        let principal = Principal(
            workspaceID: grant.workspaceID, user: user, role: user.role,
            scopes: carried.intersection(rights.scopes(of: user.role)), credential: credential,
            rateLimitPerMinute: rateLimitPerMinute)
        return (claims, principal)
    }

    /// A client's own token (client credentials) has no stored token or grant: it stops when it is revoked or
    /// its client is disabled, deleted or moved, and acts with no more than the client's scopes allow now.
    private func clientPrincipal(_ claims: AccessTokenClaims) async throws -> Principal {
        guard claims.sub == claims.clientID, let clientID = try? ClientID(claims.clientID),
            try await !store.isClientTokenRevoked(id: claims.jti),
            let client = try await store.client(id: clientID), "\(client.workspaceID)" == claims.workspaceID
        else { throw CredentialRefusal.invalid }
        guard !client.isDisabled else { throw CredentialRefusal.clientDisabled }
        let rights = RoleRights(custom: try await store.scopeDefinitions(in: client.workspaceID))
        return clientPrincipal(
            client, carrying: claims.scopes.intersection(client.scopes), rights: rights,
            credential: .accessToken(id: claims.jti, grant: nil, client: client.id))
    }

    /// A client acting for itself: administrative rights, within the scopes its token carries.
    private func clientPrincipal(
        _ client: ClientApplication, carrying scopes: Set<Scope>, rights: RoleRights, credential: CredentialKind
    ) -> Principal {
        Principal(
            workspaceID: client.workspaceID, user: nil, client: client, role: .admin,
            scopes: scopes.intersection(rights.scopes(of: .superAdmin)), credential: credential,
            rateLimitPerMinute: rateLimitPerMinute)
    }

    /// Three dot-separated parts starting with a JSON object's base64url (`eyJ`): ours to judge.
    static func looksLikeJWT(_ bearer: String) -> Bool {
        bearer.utf8.starts(with: "eyJ".utf8) && bearer.utf8.count(where: { $0 == UInt8(ascii: ".") }) == 2
    }
}
