import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Logging

/// `POST /oauth/token` (RFC 6749 §3.2): authenticates the client once, then hands the request to the
/// handler of its grant type.
struct TokenController {
    let clients: ClientAuthenticator
    let endpoint: TokenEndpoint
    let registration: ClientRegistration
    var metrics: GatehouseMetrics? = nil

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("oauth/token") { request, context in
            let form = try await OAuthRequest.read(request, context: context)
            var authenticated: ClientID?
            let client: ClientApplication
            let tokens: TokenResponse
            do {
                client = try await clients.authenticate(form)
                authenticated = client.id
                tokens = try await endpoint.exchange(
                    grantType: form.parameters["grant_type"], form.parameters, client: client)
            } catch {
                if let code = (error as? OAuthFailure)?.code ?? (error as? OAuthError)?.code {
                    metrics?.tokenError(code.rawValue, client: authenticated)
                }
                throw error
            }
            // The grant type tokens were issued for is one Gatehouse knows: never a label a caller made up.
            metrics?.tokensIssued(grantType: form.parameters["grant_type"] ?? "", client: client.id)
            do {
                try await registration.recordUse(of: client)
            } catch {
                context.logger.warning("could not record a client's use", metadata: ["error": "\(error)"])
            }
            return try TokenResponseBody(tokens).noStoreResponse(from: request, context: context)
        }
    }
}

/// RFC 6749 §5.1, plus `id_token` (OIDC Core §3.1.3.3). `scope` always says what was granted.
struct TokenResponseBody: ResponseEncodable {
    let accessToken: String
    let tokenType = "Bearer"
    let expiresIn: Int
    let refreshToken: String?
    let scope: String
    let idToken: String?

    init(_ tokens: TokenResponse) {
        accessToken = tokens.accessToken
        expiresIn = tokens.expiresIn
        refreshToken = tokens.refreshToken
        scope = tokens.scopes.sorted().map(\.name).joined(separator: " ")
        idToken = tokens.idToken
    }
}

/// `POST /oauth/revoke` (RFC 7009): the client authenticates and names a token; the answer is 200 whether or
/// not there was anything to revoke.
struct RevocationController {
    let clients: ClientAuthenticator
    let revocation: Revocation

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("oauth/revoke") { request, context in
            let (client, token) = try await clients.tokenRequest(request, context: context)
            try await revocation.revoke(token, by: client)
            return Response(status: .ok, headers: [.cacheControl: "no-store"])
        }
    }
}
