import Foundation

/// What checking an access token needs to read.
package typealias AccessTokenStore = KeyVerificationStore & TokenStore & ResourceServerStore

/// Verifies an OAuth access token for the Bearer path, introspection and userinfo: the signature, type,
/// issuer, audience and expiry, then that the token is not on the revocation list, that the grant it names is
/// not revoked, that the client is enabled and that the user may still act. It acts with the user's rights as
/// they are now, so a demotion narrows a live token at once. A client's own token belongs to no grant; it is
/// checked against its client instead.
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

    /// The token's claims and the principal it stands for now, or a `CredentialRefusal`. Only tokens for
    /// Gatehouse's own API pass, unless `anyResource` lets through those for a resource server of the token's
    /// workspace (introspection answers for every API; Gatehouse's API takes only its own).
    package func check(_ token: String, anyResource: Bool = false) async throws -> (
        claims: AccessTokenClaims, principal: Principal
    ) {
        let claims: AccessTokenClaims
        do {
            claims = try await keys.verify(
                token, as: AccessTokenClaims.self, type: "at+jwt", algorithms: Set(SigningAlgorithm.allCases))
        } catch is TokenRejected {
            throw CredentialRefusal.invalid
        }
        let now = clock.now().secondsSince1970
        guard claims.iss == settings.issuer, now < claims.exp else { throw CredentialRefusal.invalid }
        if claims.aud != settings.audience {
            guard anyResource, let resource = try await store.resourceServer(identifier: .init(trusted: claims.aud)),
                "\(resource.workspaceID)" == claims.workspaceID
            else { throw CredentialRefusal.invalid }
        }
        guard try await !store.isAccessTokenRevoked(id: claims.jti) else { throw CredentialRefusal.invalid }
        let principal = try await claims.isClientToken ? clientPrincipal(claims) : userPrincipal(claims)
        return (claims, principal)
    }

    /// A user's token follows the grant it names: it stops when the grant is revoked (the user withdrew consent,
    /// was deactivated, or a refresh token was replayed), when the client is disabled, deleted or moved, and when
    /// the user can no longer act.
    private func userPrincipal(_ claims: AccessTokenClaims) async throws -> Principal {
        guard let grantID = claims.grantID.flatMap({ UUID(text: $0) }).map(GrantID.init),
            let grant = try await store.grant(id: grantID), grant.revokedAt == nil,
            grant.clientID.value == claims.clientID, "\(grant.workspaceID)" == claims.workspaceID,
            let userID = grant.userID, "\(userID)" == claims.sub
        else { throw CredentialRefusal.invalid }
        guard let client = try await store.client(id: grant.clientID), client.workspaceID == grant.workspaceID else {
            throw CredentialRefusal.invalid
        }
        guard !client.isDisabled else { throw CredentialRefusal.clientDisabled }
        guard let user = try await store.user(id: userID), user.workspaceID == grant.workspaceID else {
            throw CredentialRefusal.invalid
        }
        guard user.isActive else { throw CredentialRefusal.userDeactivated }
        guard user.privacyNoticeAcceptedAt != nil else { throw CredentialRefusal.privacyNoticeNotAccepted }
        let rights = RoleRights(custom: try await store.scopeDefinitions(in: grant.workspaceID))
        return Principal(
            workspaceID: grant.workspaceID, user: user, role: user.role,
            scopes: claims.scopes.intersection(client.scopes).intersection(rights.scopes(of: user.role)),
            credential: .accessToken(id: claims.jti, grant: grant.id, client: client.id),
            rateLimitPerMinute: rateLimitPerMinute)
    }

    /// A client's own token (client credentials) belongs to no grant: it stops when its client is disabled,
    /// deleted or moved; a client registered again under the same id does not inherit it, since it was issued
    /// before that client existed. The client acts for itself, with administrative rights within the scopes its
    /// token carries and the client's scopes allow now.
    private func clientPrincipal(_ claims: AccessTokenClaims) async throws -> Principal {
        guard claims.sub == claims.clientID, let clientID = try? ClientID(claims.clientID),
            let client = try await store.client(id: clientID), "\(client.workspaceID)" == claims.workspaceID,
            claims.iat >= client.createdAt.secondsSince1970
        else { throw CredentialRefusal.invalid }
        guard !client.isDisabled else { throw CredentialRefusal.clientDisabled }
        let rights = RoleRights(custom: try await store.scopeDefinitions(in: client.workspaceID))
        return Principal(
            workspaceID: client.workspaceID, user: nil, client: client, role: .admin,
            scopes: claims.scopes.intersection(client.scopes).intersection(rights.scopes(of: .superAdmin)),
            credential: .accessToken(id: claims.jti, grant: nil, client: client.id),
            rateLimitPerMinute: rateLimitPerMinute)
    }

    /// Three dot-separated parts starting with a JSON object's base64url (`eyJ`): ours to judge.
    static func looksLikeJWT(_ bearer: String) -> Bool {
        bearer.utf8.starts(with: "eyJ".utf8) && bearer.utf8.count(where: { $0 == UInt8(ascii: ".") }) == 2
    }
}
