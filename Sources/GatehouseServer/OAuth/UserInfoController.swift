import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// `GET`/`POST /oauth/userinfo` (OIDC Core §5.3): the signed-in user's claims, for an access token with
/// `openid`; `profile` adds the name and `email` the address. Errors follow RFC 6750 §3.
struct UserInfoController {
    let tokens: AccessTokenVerifier

    func addRoutes(to router: Router<AppRequestContext>) {
        let userInfo = router.group().add(middleware: AccessTokenAuthenticator(tokens: tokens))
        userInfo.get("oauth/userinfo", use: claims)
        userInfo.post("oauth/userinfo", use: claims)
    }

    @Sendable private func claims(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let principal = context.principal, let user = principal.user, principal.scopes.contains(.openid) else {
            throw OAuthError.bearer(
                .forbidden, .insufficientScope, "userinfo needs a user's access token with the openid scope.",
                scope: "openid")
        }
        let claims = UserInfoClaims(
            sub: "\(user.id)", name: principal.scopes.contains(.profile) ? user.name : nil,
            email: principal.scopes.contains(.email) ? user.email.value : nil)
        return try claims.noStoreResponse(from: request, context: context)
    }
}

/// The authenticator of a protected resource that takes only access tokens and answers in RFC 6750 §3's
/// shape (`/oauth/userinfo`): the token in the `Authorization` header (§2.1) or a form body (§2.2), never both;
/// it puts the token's principal on the context, or throws the challenge.
struct AccessTokenAuthenticator: RouterMiddleware {
    typealias Context = AppRequestContext
    let tokens: AccessTokenVerifier

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let invalid = OAuthError.bearer(
            .unauthorized, .invalidToken,
            "The access token is invalid, expired or revoked, or its user cannot sign in.")
        let inBody = try await Self.bodyToken(request, context: context)
        let token: String
        switch (request.headers[.authorization], inBody) {
        case (let header?, nil):
            guard let bearer = BearerAuthenticator.bearerCredential(header) else { throw invalid }
            token = bearer
        case (nil, let body?): token = body
        case (_?, _?):
            throw OAuthError.bearer(
                .badRequest, .invalidRequest, "Send the access token once: in the header or in the body, not both.")
        case (nil, nil):
            throw OAuthError.bearer(
                .unauthorized, .invalidRequest, "Send the access token as a Bearer token.", namingTheError: false)
        }
        var context = context
        do {
            context.principal = try await tokens.check(token).principal
        } catch is CredentialRefusal {
            throw invalid
        }
        return try await next(request, context)
    }

    /// The `access_token` of a form-encoded POST body (RFC 6750 §2.2), which OpenID Connect clients may send
    /// to userinfo instead of the header; nil for any other request.
    static func bodyToken(_ request: Request, context: Context) async throws -> String? {
        guard request.method == .post else { return nil }
        do {
            return try await FormEncoded.body(of: request, context: context).singleValued()["access_token"]
        } catch FormError.notFormEncoded {
            return nil
        } catch let error as FormError {
            throw OAuthError.bearer(.badRequest, .invalidRequest, error.message)
        }
    }
}

struct UserInfoClaims: ResponseEncodable {
    let sub: String
    let name: String?
    let email: String?
}
