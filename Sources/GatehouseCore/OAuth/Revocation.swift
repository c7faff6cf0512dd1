import Foundation

/// Token revocation (RFC 7009): a client ends a token it was issued. Revoking a refresh token revokes its
/// whole grant, access tokens included (§2.1); revoking an access token ends that token (a client's own
/// token, which has no row, by putting its id on the revocation list). Anything else —
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
                claims.clientID == client.id.value
            else { return }
            if claims.isClientToken {
                // No row to mark: its id goes on the list of revoked client tokens, unless it has expired anyway.
                let expiresAt = Date(timeIntervalSince1970: TimeInterval(claims.exp))
                guard now < expiresAt else { return }
                try await store.revokeClientToken(id: claims.jti, of: client.id, expiresAt: expiresAt, at: now)
                return
            }
            guard try await store.accessToken(id: claims.jti) != nil else { return }
            try await store.revokeAccessToken(id: claims.jti, at: now)
            return
        }
        guard let record = try await store.refreshToken(digest: OpaqueToken(token).digest),
            let grant = try await store.grant(id: record.grantID), grant.clientID == client.id
        else { return }
        try await store.revokeGrant(id: grant.id, at: now)
    }
}
