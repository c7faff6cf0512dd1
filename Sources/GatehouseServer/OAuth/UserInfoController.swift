import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// `GET`/`POST /oauth/userinfo` (OIDC Core §5.3): the signed-in user's claims, for an access token with
/// `openid`; `profile` adds the name and `email` the address. Errors follow RFC 6750 §3.
struct UserInfoController {
    let tokens: AccessTokenVerifier

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("oauth/userinfo") { request, context in try await userInfo(request, context) }
        router.post("oauth/userinfo") { request, context in try await userInfo(request, context) }
    }

    private func userInfo(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw OAuthError(
                status: .unauthorized, code: "invalid_request", description: "Send the access token as a Bearer token.",
                headers: [.wwwAuthenticate: #"Bearer realm="gatehouse""#])
        }
        let invalid = OAuthError(
            status: .unauthorized, code: "invalid_token",
            description: "The access token is invalid, expired or revoked, or its user cannot sign in.",
            headers: [.wwwAuthenticate: #"Bearer realm="gatehouse", error="invalid_token""#])
        guard let token = BearerAuthenticator.bearerCredential(header) else { throw invalid }
        let principal: Principal
        do {
            principal = try await tokens.check(token).principal
        } catch is CredentialRefusal {
            throw invalid
        }
        guard let user = principal.user, principal.scopes.contains(.openid) else {
            throw OAuthError(
                status: .forbidden, code: "insufficient_scope",
                description: "userinfo needs a user's access token with the openid scope.",
                headers: [.wwwAuthenticate: #"Bearer realm="gatehouse", error="insufficient_scope", scope="openid""#])
        }
        let claims = UserInfoClaims(
            sub: "\(user.id)", name: principal.scopes.contains(.profile) ? user.name : nil,
            email: principal.scopes.contains(.email) ? user.email.value : nil)
        return try claims.noStoreResponse(from: request, context: context)
    }
}

struct UserInfoClaims: ResponseEncodable {
    let sub: String
    let name: String?
    let email: String?
}
