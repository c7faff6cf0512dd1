import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// `POST /oauth/introspect` (RFC 7662): an authenticated confidential client asks whether a credential is
/// active. Anything not active in the client's workspace gets `{"active": false}`, and nothing more.
struct IntrospectionController {
    let clients: ClientAuthenticator
    let introspection: Introspection

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("oauth/introspect") { request, context in
            let form = try await OAuthRequest.read(request, context: context)
            let client = try await authenticate(form)
            guard let token = form.parameters["token"] else {
                throw OAuthError.invalidRequest("The token parameter is required.")
            }
            let active: ActiveCredential?
            do {
                active = try await introspection.introspect(token, by: client)
            } catch is ClientAuthenticationFailed {
                throw OAuthError.invalidClient("Only confidential clients, which authenticate, may introspect.")
            }
            var response = try IntrospectionResponse(active).response(from: request, context: context)
            response.headers[.cacheControl] = "no-store"
            return response
        }
    }

    private func authenticate(_ form: OAuthRequest) async throws -> ClientApplication {
        guard let id = form.clientID else {
            throw OAuthError.invalidClient("Authenticate the client with HTTP Basic or client_id and client_secret.")
        }
        do {
            return try await clients.authenticate(id, secret: form.clientSecret)
        } catch is ClientAuthenticationFailed {
            throw OAuthError.invalidClient()
        }
    }
}

/// RFC 7662 §2.2: `active`, and for an active credential what it may do. Times are whole seconds since 1970.
struct IntrospectionResponse: ResponseEncodable {
    let active: Bool
    let tokenType: String?
    let scope: String?
    let clientId: String?
    let sub: String?
    let workspaceId: String?
    let iat: Int64?
    let exp: Int64?

    init(_ credential: ActiveCredential?) {
        active = credential != nil
        tokenType = credential?.tokenType
        scope = credential.map { $0.scopes.sorted().map(\.name).joined(separator: " ") }
        clientId = credential?.clientID?.value
        sub = credential?.subject.map { "\($0)" }
        workspaceId = credential.map { "\($0.workspaceID)" }
        iat = credential.map { Int64($0.issuedAt.timeIntervalSince1970.rounded(.down)) }
        exp = credential?.expiresAt.map { Int64($0.timeIntervalSince1970.rounded(.down)) }
    }
}
