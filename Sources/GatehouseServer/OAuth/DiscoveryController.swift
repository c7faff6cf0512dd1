import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// What a client needs to find Gatehouse's endpoints and keys: the authorization server metadata
/// (RFC 8414), the same document as OpenID Provider metadata (OIDC Discovery §3), the JWKS, and the protected
/// resource metadata of Gatehouse's own API (RFC 9728).
struct DiscoveryController {
    let issuer: String
    let keys: SigningKeyRing

    func addRoutes(to router: Router<AppRequestContext>) {
        let metadata = ServerMetadata(issuer: issuer)
        let resource = ResourceMetadata(issuer: issuer)
        let wellKnown = WellKnown(issuer: issuer)
        for path in wellKnown.paths(of: .authorizationServer) + wellKnown.paths(of: .openIDConfiguration) {
            router.get(RouterPath(path)) { request, context in
                try Self.cacheable(metadata.response(from: request, context: context))
            }
        }
        for path in wellKnown.paths(of: .protectedResource) {
            router.get(RouterPath(path)) { request, context in
                try Self.cacheable(resource.response(from: request, context: context))
            }
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
    /// Dynamic client registration (RFC 7591), under each workspace's policy.
    let registrationEndpoint: String
    /// The device authorization grant (RFC 8628).
    let deviceAuthorizationEndpoint: String
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
    /// A client_id may be the https URL of the app's metadata document (draft-ietf-oauth-client-id-metadata-
    /// document), where the registration workspace's policy is open.
    let clientIdMetadataDocumentSupported = true
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
        registrationEndpoint = issuer + "/oauth/register"
        deviceAuthorizationEndpoint = issuer + "/oauth/device_authorization"
        endSessionEndpoint = issuer + "/oauth/logout"
        jwksUri = issuer + "/oauth/jwks"
        scopesSupported = BuiltInScopes.holders.keys.map(\.name).sorted()
    }
}

/// Where the well-known documents of an issuer are (RFC 8414 §3.1, RFC 9728 §3.1): the well-known segment
/// goes between the host and the issuer's path, if it has one. OpenID Connect appends it to the issuer
/// instead (Discovery §4); Gatehouse answers at all of these, so an issuer with a path works for both.
struct WellKnown {
    enum Document: String {
        case authorizationServer = "oauth-authorization-server"
        case openIDConfiguration = "openid-configuration"
        case protectedResource = "oauth-protected-resource"
    }

    /// Scheme, host and port.
    let origin: String
    /// Empty, or the issuer's path starting with `/`.
    let path: String

    init(issuer: String) {
        let components = URLComponents(string: issuer)
        path = components?.percentEncodedPath ?? ""
        origin = path.isEmpty ? issuer : String(issuer.dropLast(path.count))
    }

    /// The document's URL, as clients derive it from the issuer.
    func url(of document: Document) -> String {
        origin + "/.well-known/" + document.rawValue + path
    }

    /// The paths this server answers the document at: the bare one, and with the issuer's path after it.
    func paths(of document: Document) -> [String] {
        let bare = ".well-known/" + document.rawValue
        return path.isEmpty ? [bare] : [bare, bare + path]
    }
}

/// RFC 9728 §2: the protected resource metadata of Gatehouse's own API, the default resource, whose tokens
/// this server issues. Keys are written in snake_case.
struct ResourceMetadata: ResponseEncodable {
    let resource: String
    let authorizationServers: [String]
    let scopesSupported: [String]
    let bearerMethodsSupported = ["header"]
    let resourceName = "Gatehouse API"
    let resourceDocumentation: String

    init(issuer: String) {
        resource = issuer
        authorizationServers = [issuer]
        scopesSupported = BuiltInScopes.holders.keys.map(\.name).sorted()
        resourceDocumentation = issuer + "/openapi.json"
    }
}

/// A JWK Set (RFC 7517 §5) of the published keys of every algorithm, oldest first.
struct JWKSet: ResponseEncodable {
    let keys: [PublicJWK]

    init(_ stored: [StoredSigningKey]) {
        keys = stored.compactMap(\.jwk)
    }
}
