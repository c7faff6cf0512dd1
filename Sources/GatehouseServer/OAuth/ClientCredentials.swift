import GatehouseCore
import Hummingbird

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

    /// The authenticated client and the `token` it names, as revocation (RFC 7009 §2.1) and introspection
    /// (RFC 7662 §2.1) requests both carry them.
    func tokenRequest(_ request: Request, context: AppRequestContext) async throws -> (ClientApplication, String) {
        let form = try await OAuthRequest.read(request, context: context)
        let client = try await authenticate(form)
        guard let token = form.parameters["token"] else {
            throw OAuthError.invalidRequest("The token parameter is required.")
        }
        return (client, token)
    }
}
