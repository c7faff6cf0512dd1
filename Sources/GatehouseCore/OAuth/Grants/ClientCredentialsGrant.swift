import Foundation

/// `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client acting for itself, with no user and
/// no refresh token, and never more than the client's own scopes. The token is self-contained (see
/// `AccessTokenClaims.isClientToken`).
package struct ClientCredentialsGrant: GrantHandler {
    package let grantType = GrantType.clientCredentials
    let store: any GrantStore
    let issuer: TokenIssuer
    let clock: any WallClock
    var cache: EpochCache? = nil

    package func exchange(_ parameters: [String: String], client: ClientApplication) async throws -> TokenResponse {
        guard client.type == .confidential else {
            throw OAuthFailure(.unauthorizedClient, "Only a confidential client may use client_credentials.")
        }
        let requested = try GrantableScopes.parse(parameters["scope"])
        let resource = try await ResourceIndicator.resolve(
            parameters["resource"], in: client.workspaceID, settings: issuer.settings, store: store)
        let rights = try await rights(in: client.workspaceID, store: store, cache: cache)
        let scopes = try GrantableScopes(rights: rights).forClient(requested: requested, client: client)
        let now = clock.now()
        // Nothing is stored: the token carries all it grants, and is checked against its client (and the
        // revocation list) each time it is used. So issuing one costs a signature, not a write. The grant below
        // only tells the issuer the workspace; it is kept nowhere, and the token does not name it.
        let grant = TokenGrant(
            workspaceID: client.workspaceID, clientID: client.id, userID: nil, scopes: scopes, authTime: nil,
            createdAt: now)
        let (response, _) = try await issuer.issue(
            under: grant, scopes: scopes, for: .client, client: client, resource: resource, refreshScopes: nil, at: now)
        return response
    }
}
