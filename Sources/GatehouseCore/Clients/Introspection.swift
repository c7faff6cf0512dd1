import Foundation

/// What token introspection (RFC 7662) says about an active credential.
package struct ActiveCredential: Equatable, Sendable {
    /// `api_key` now; access and refresh tokens join with the OAuth work.
    package var tokenType: String
    package var scopes: Set<Scope>
    /// The client application a service key belongs to.
    package var clientID: ClientID?
    /// The user a user credential acts for.
    package var subject: UserID?
    package var workspaceID: WorkspaceID
    package var issuedAt: Date
    package var expiresAt: Date?
}

/// Answers a resource server (an authenticated confidential client) asking whether a credential is active
/// and what it may do: one way to check any credential Gatehouse issues.
package struct Introspection: Sendable {
    let keys: APIKeyVerifier

    package init(keys: APIKeyVerifier) { self.keys = keys }

    /// The credential's current rights, or nil — inactive — for anything unknown, malformed, revoked, expired,
    /// stopped by its owner's state, or belonging to another workspace than `client`'s. Public clients cannot
    /// keep a secret, so they may not ask.
    package func introspect(_ token: String, by client: ClientApplication) async throws -> ActiveCredential? {
        guard client.type == .confidential else { throw ClientAuthenticationFailed() }
        guard let key = PlaintextKey(parsing: token) else { return nil }
        let record: APIKey
        let principal: Principal
        do {
            (record, principal) = try await keys.check(key)
        } catch is CredentialRefusal {
            return nil
        }
        guard principal.workspaceID == client.workspaceID else { return nil }
        return ActiveCredential(
            tokenType: "api_key", scopes: principal.scopes, clientID: principal.client?.id,
            subject: principal.user?.id, workspaceID: principal.workspaceID, issuedAt: record.createdAt,
            expiresAt: record.expiresAt)
    }
}
