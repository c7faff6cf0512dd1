import Foundation

/// Token revocation (RFC 7009): a client ends a token it was issued. Revoking a refresh token revokes its
/// whole grant, access tokens included (§2.1); revoking an access token puts its id on the revocation list
/// until it expires. Anything else — unknown, malformed, expired, already revoked, another client's — is
/// quietly left alone, as §2.2 asks.
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
            // Only the signature decides whether it is ours; an expired one ends by itself, with nothing to record.
            guard
                let claims = try? await keys.verify(
                    token, as: AccessTokenClaims.self, type: "at+jwt", algorithms: Set(SigningAlgorithm.allCases)),
                claims.clientID == client.id.value
            else { return }
            let expiresAt = Date(timeIntervalSince1970: TimeInterval(claims.exp))
            guard now < expiresAt else { return }
            try await store.revokeAccessToken(id: claims.jti, of: client.id, expiresAt: expiresAt, at: now)
            return
        }
        guard let (_, grant) = try await store.refreshToken(digest: OpaqueToken(token).digest),
            grant.clientID == client.id
        else { return }
        try await store.revokeGrant(id: grant.id, at: now)
    }
}
