import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// `POST /oauth/introspect` (RFC 7662): an authenticated confidential client asks whether a credential —
/// access token, refresh token or API key — is active. Anything not active, or not the client's to know about
/// (see `Introspection`), gets `{"active": false}`, and nothing more. Each client may ask `perMinute` times a
/// minute; past that, 429 with `Retry-After`.
struct IntrospectionController {
    let clients: ClientAuthenticator
    let introspection: Introspection
    let limiter: RateLimiter
    let perMinute: Int
    var metrics: GatehouseMetrics? = nil

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("oauth/introspect") { request, context in
            let (client, token) = try await clients.tokenRequest(request, context: context)
            let decision = try await limiter.admit(bucket: "introspect:\(client.id)", limit: perMinute)
            guard decision.allowed else {
                metrics?.rateLimited("introspection")
                throw OAuthError(
                    status: .tooManyRequests, code: .temporarilyUnavailable,
                    description: "This client may introspect \(perMinute) times a minute; "
                        + "try again in \(decision.resetAfter) seconds.",
                    headers: [.retryAfter: "\(decision.resetAfter)"])
            }
            let active: ActiveCredential?
            do {
                active = try await introspection.introspect(token, by: client)
            } catch is ClientAuthenticationFailed {
                throw OAuthError.invalidClient("Only confidential clients, which authenticate, may introspect.")
            }
            return try IntrospectionResponse(active).noStoreResponse(from: request, context: context)
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
    let iss: String?
    let aud: String?
    let jti: String?

    init(_ credential: ActiveCredential?) {
        active = credential != nil
        tokenType = credential?.tokenType
        scope = credential.map { $0.scopes.sorted().map(\.name).joined(separator: " ") }
        clientId = credential?.clientID?.value
        sub = credential?.subject.map { "\($0)" }
        workspaceId = credential.map { "\($0.workspaceID)" }
        iat = credential?.issuedAt.secondsSince1970
        exp = credential?.expiresAt?.secondsSince1970
        iss = credential?.issuer
        aud = credential?.audience
        jti = credential?.tokenID
    }
}

extension ResponseEncodable {
    /// The JSON response with `Cache-Control: no-store` and `Pragma: no-cache`, as every answer that carries
    /// or describes a token must be (RFC 6749 §5.1).
    func noStoreResponse(
        from request: Request, context: AppRequestContext, status: HTTPResponse.Status = .ok
    ) throws -> Response {
        var response = try response(from: request, context: context)
        response.status = status
        response.headers[.cacheControl] = "no-store"
        response.headers[.pragma] = "no-cache"
        return response
    }
}

extension HTTPField.Name {
    static let pragma = HTTPField.Name(literal: "Pragma")
}
