import Foundation

/// Token revocation (RFC 7009): a client ends a token it was issued. Revoking a refresh token revokes its
/// whole grant, access tokens included (§2.1); revoking an access token ends that token. Anything else —
/// unknown, malformed, already revoked, another client's — is quietly left alone, as §2.2 asks.
package struct Revocation: Sendable {
    let keys: SigningKeyRing
    let store: any TokenStore
    let clock: any WallClock

    package init(keys: SigningKeyRing, store: any TokenStore, clock: any WallClock) {
        self.keys = keys
        self.store = store
        self.clock = clock
    }

    package func revoke(_ token: String, by client: ClientApplication) async throws {
        let now = clock.now()
        if AccessTokenVerifier.looksLikeJWT(token) {
            // An expired token may still be revoked: only the signature decides whether it is ours.
            guard let claims = try? await keys.verify(token, as: AccessTokenClaims.self, type: "at+jwt"),
                claims.clientID == client.id.value, try await store.accessToken(id: claims.jti) != nil
            else { return }
            try await store.revokeAccessToken(id: claims.jti, at: now)
            return
        }
        guard let record = try await store.refreshToken(digest: OpaqueToken(token).digest),
            let grant = try await store.grant(id: record.grantID), grant.clientID == client.id
        else { return }
        try await store.revokeGrant(id: grant.id, at: now)
    }
}
