import Foundation

/// A client could not be authenticated. One answer for an unknown client, a wrong or expired secret, a
/// disabled client, or a secret sent for a public client, so nothing is learnt about which clients exist
/// (RFC 6749 §5.2 `invalid_client`).
package struct ClientAuthenticationFailed: Error, Equatable, Sendable {
    package init() {}
}

/// Checks a client's credentials at the OAuth endpoints.
package struct ClientAuthenticator: Sendable {
    let store: any ClientStore
    let clock: any WallClock

    package init(store: any ClientStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// The client `id` names when `secret` is its current secret, or its previous one within the grace
    /// period after a rotation. A public client is authenticated by its id alone and must send no secret.
    package func authenticate(_ id: String, secret: String?) async throws -> ClientApplication {
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
