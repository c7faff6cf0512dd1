import GatehouseCore

extension ClientAuthenticator {
    /// The client that sent `form`, authenticated by `client_secret_basic`, `client_secret_post` or, for a
    /// public client, its `client_id` alone (RFC 6749 §2.3). Anything else is `invalid_client`.
    func authenticate(_ form: OAuthRequest) async throws -> ClientApplication {
        guard let id = form.clientID else {
            throw OAuthError.invalidClient("Authenticate the client with HTTP Basic or client_id and client_secret.")
        }
        do {
            return try await authenticate(id, secret: form.clientSecret)
        } catch is ClientAuthenticationFailed {
            throw OAuthError.invalidClient()
        }
    }
}
