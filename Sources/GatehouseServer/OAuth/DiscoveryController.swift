import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// What a client needs to find Gatehouse's endpoints and keys: the authorization server metadata
/// (RFC 8414), the same document as OpenID Provider metadata (OIDC Discovery §3), and the JWKS.
struct DiscoveryController {
    let issuer: String
    let keys: SigningKeyRing

    func addRoutes(to router: Router<AppRequestContext>) {
        let metadata = ServerMetadata(issuer: issuer)
        router.get(".well-known/oauth-authorization-server") { request, context in
            try Self.cacheable(metadata.response(from: request, context: context))
        }
        router.get(".well-known/openid-configuration") { request, context in
            try Self.cacheable(metadata.response(from: request, context: context))
        }
        router.get("oauth/jwks") { request, context in
            let published = try await keys.publishedKeys()
            var response = try JWKSet(published).response(from: request, context: context)
            response.headers[.contentType] = "application/jwk-set+json"
            // Short, so a rotation reaches clients soon; they refetch on an unknown kid anyway.
            response.headers[.cacheControl] = "public, max-age=60"
            return response
        }
    }

    private static func cacheable(_ response: Response) -> Response {
        var response = response
        response.headers[.cacheControl] = "public, max-age=300"
        return response
    }
}

/// RFC 8414 §2 and OIDC Discovery §3. Keys are written in snake_case by the context's encoder.
struct ServerMetadata: ResponseEncodable {
    let issuer: String
    let authorizationEndpoint: String
    let tokenEndpoint: String
    let revocationEndpoint: String
    let introspectionEndpoint: String
    let userinfoEndpoint: String
    /// RP-Initiated Logout 1.0 §2.1.
    let endSessionEndpoint: String
    /// Back-Channel Logout 1.0 §2.1: logout tokens name the user, never a session (`sid`).
    let backchannelLogoutSupported = true
    let backchannelLogoutSessionSupported = false
    let jwksUri: String
    let scopesSupported: [String]
    let responseTypesSupported = ["code"]
    let responseModesSupported = ["query"]
    let grantTypesSupported = GrantType.allCases.map(\.rawValue).sorted()
    let codeChallengeMethodsSupported = ["S256"]
    let tokenEndpointAuthMethodsSupported = ["client_secret_basic", "client_secret_post", "none"]
    let revocationEndpointAuthMethodsSupported = ["client_secret_basic", "client_secret_post", "none"]
    let introspectionEndpointAuthMethodsSupported = ["client_secret_basic", "client_secret_post"]
    let authorizationResponseIssParameterSupported = true
    let subjectTypesSupported = ["public"]
    /// RS256 first: what a client that registers none gets, and the one every OpenID Connect library takes.
    let idTokenSigningAlgValuesSupported = [SigningAlgorithm.rs256, .es256].map(\.rawValue)
    let claimsSupported = [
        "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "name", "email", "amr", "acr",
    ]
    /// `acr_values=mfa` asks for a sign-in with a second factor; ID tokens then carry `acr: mfa`.
    let acrValuesSupported = [Authorization.multiFactorACR]
    let promptValuesSupported = ["none", "login", "consent", "select_account"]
    /// The `claims` request parameter (Core §5.5) is accepted and ignored: ID tokens and userinfo carry what
    /// the scopes grant.
    let claimsParameterSupported = false
    let requestParameterSupported = false
    let requestUriParameterSupported = false

    init(issuer: String) {
        self.issuer = issuer
        authorizationEndpoint = issuer + "/oauth/authorize"
        tokenEndpoint = issuer + "/oauth/token"
        revocationEndpoint = issuer + "/oauth/revoke"
        introspectionEndpoint = issuer + "/oauth/introspect"
        userinfoEndpoint = issuer + "/oauth/userinfo"
        endSessionEndpoint = issuer + "/oauth/logout"
        jwksUri = issuer + "/oauth/jwks"
        scopesSupported = BuiltInScopes.holders.keys.map(\.name).sorted()
    }
}

/// A JWK Set (RFC 7517 §5) of the published keys of every algorithm, oldest first.
struct JWKSet: ResponseEncodable {
    let keys: [PublicJWK]

    init(_ stored: [StoredSigningKey]) {
        keys = stored.compactMap(\.jwk)
    }
}
