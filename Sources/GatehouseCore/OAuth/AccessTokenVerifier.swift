import Foundation

/// What checking an access token needs to read.
package typealias AccessTokenStore = KeyVerificationStore & TokenStore

/// Verifies an OAuth access token for the Bearer path, introspection and userinfo: the signature, type,
/// issuer, audience and expiry, then that neither the token nor its grant is revoked, that the client is
/// enabled and that the user may still act. It acts with the user's rights as they are now, so a demotion
/// narrows a live token at once.
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
        guard claims.iss == settings.issuer, claims.aud == settings.audience, now < claims.exp,
            let record = try await store.accessToken(id: claims.jti), record.revokedAt == nil,
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
            let principal = Principal(
                workspaceID: grant.workspaceID, user: nil, client: client, role: .admin,
                scopes: carried.intersection(rights.scopes(of: .superAdmin)), credential: credential,
                rateLimitPerMinute: rateLimitPerMinute)
            return (claims, principal)
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

    /// Three dot-separated parts starting with a JSON object's base64url (`eyJ`): ours to judge.
    static func looksLikeJWT(_ bearer: String) -> Bool {
        bearer.utf8.starts(with: "eyJ".utf8) && bearer.utf8.count(where: { $0 == UInt8(ascii: ".") }) == 2
    }
}
