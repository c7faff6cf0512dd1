import Foundation

/// A client could not be authenticated. One answer for an unknown client, a wrong or expired secret, a
/// disabled client, or a secret sent for a public client, so nothing is learnt about which clients exist
/// (RFC 6749 §5.2 `invalid_client`).
package struct ClientAuthenticationFailed: Error, Equatable, Sendable {
    package init() {}
}

/// Checks a client's credentials at the OAuth endpoints.
///
/// With a cache, an authentication is kept at the credential epoch it was made at, keyed by a digest of the id
/// and secret: every change to a client (a rotated secret, disabling, deleting) raises the epoch, so a kept one
/// is never served after the change, and only the same id and secret find it again.
package struct ClientAuthenticator: Sendable {
    let store: any ClientStore
    let clock: any WallClock
    let cache: EpochCache?

    package init(store: any ClientStore, clock: any WallClock, cache: EpochCache? = nil) {
        self.store = store
        self.clock = clock
        self.cache = cache
    }

    /// The client `id` names when `secret` is its current secret, or its previous one within the grace
    /// period after a rotation. A public client is authenticated by its id alone and must send no secret.
    package func authenticate(_ id: String, secret: String?) async throws -> ClientApplication {
        guard let cache else { return try await read(id, secret: secret) }
        let epoch = try await cache.currentEpoch()
        // The id's length first, so no id and secret can run together into another pair.
        let credentials = SecretDigest(of: "\(id.utf8.count):\(id)\(secret.map { ":" + $0 } ?? "")")
        if let client = cache.cache.client(authenticatedBy: credentials, at: clock.now()) { return client }
        let client = try await read(id, secret: secret)
        cache.cache.remember(client, authenticatedBy: credentials, readAt: epoch)
        return client
    }

    private func read(_ id: String, secret: String?) async throws -> ClientApplication {
        guard let clientID = try? ClientID(id), let client = try await store.client(id: clientID), !client.isDisabled
        else { throw ClientAuthenticationFailed() }
        switch (client.secret, secret) {
        case (nil, nil):
            return client
        case (let digests?, let secret?) where digests.accept(secret, at: clock.now()):
            return client
        default:
            throw ClientAuthenticationFailed()
        }
    }
}
