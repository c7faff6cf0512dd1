import Foundation

/// An application a user has allowed, as their account page lists it.
package struct ConnectedApplication: Equatable, Sendable {
    package var consent: Consent
    package var client: ClientApplication
}

/// A user's view of the applications they have allowed, and the way to take that back.
package struct Consents: Sendable {
    let store: any ConsentStore & ClientStore
    let clock: any WallClock

    package init(store: any ConsentStore & ClientStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// The applications `user` has allowed, by client_id.
    package func connected(for user: User) async throws -> [ConnectedApplication] {
        var connected: [ConnectedApplication] = []
        for consent in try await store.consents(of: user.id) {
            if let client = try await store.client(id: consent.clientID) {
                connected.append(ConnectedApplication(consent: consent, client: client))
            }
        }
        return connected
    }

    /// Withdraws the consent: the application must ask again, and every token it holds for the user stops.
    package func withdraw(_ client: ClientID, for user: User) async throws {
        guard try await store.withdraw(consentOf: user.id, for: client, at: clock.now()) else {
            throw DomainError.notFound("You have not allowed an application '\(client)'.")
        }
    }
}
