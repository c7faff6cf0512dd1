import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// Dynamic client registration (RFC 7591) at `POST /oauth/register`, and its management (RFC 7592) at
/// `/oauth/register/{client_id}` with the registration access token as the Bearer credential.
struct RegistrationController {
    let registration: ClientRegistration
    let issuer: String

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("oauth/register") { request, context in
            try await answering {
                let (metadata, _) = try await Self.parsed(request, context: context)
                let registered = try await registration.register(
                    metadata, initialAccessToken: try Self.bearer(request), address: context.remoteAddress)
                return try RegistrationResponse(registered, issuer: issuer)
                    .noStoreResponse(from: request, context: context, status: .created)
            }
        }
        router.get("oauth/register/{client_id}") { request, context in
            try await answering {
                let client = try await registration.read(
                    context.parameters.get("client_id") ?? "", registrationToken: try Self.bearer(request))
                return try RegistrationResponse(RegisteredClient(client: client), issuer: issuer)
                    .noStoreResponse(from: request, context: context)
            }
        }
        router.put("oauth/register/{client_id}") { request, context in
            try await answering {
                let id = context.parameters.get("client_id") ?? ""
                let token = try Self.bearer(request)
                let (metadata, object) = try await Self.parsed(request, context: context)
                // RFC 7592 §2.2: the body names the client, and may repeat its secret, which must be its own.
                if object["client_id"] as? String != id {
                    _ = try await registration.read(id, registrationToken: token)
                    throw RegistrationRefusal.invalidClientMetadata("client_id must be the client's own client_id.")
                }
                let client = try await registration.update(
                    id, metadata, registrationToken: token, address: context.remoteAddress)
                return try RegistrationResponse(RegisteredClient(client: client), issuer: issuer)
                    .noStoreResponse(from: request, context: context)
            }
        }
        router.delete("oauth/register/{client_id}") { request, context in
            try await answering {
                try await registration.delete(
                    context.parameters.get("client_id") ?? "", registrationToken: try Self.bearer(request),
                    address: context.remoteAddress)
                return Response(status: .noContent, headers: [.cacheControl: "no-store"])
            }
        }
    }

    /// Runs `body`, putting a `RegistrationRefusal` on the wire in RFC 7591 §3.2.2's shape (RFC 6750's for the
    /// tokens).
    private func answering(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let refusal as RegistrationRefusal {
            throw Self.error(refusal)
        }
    }

    static func error(_ refusal: RegistrationRefusal) -> OAuthError {
        switch refusal {
        case .invalidRedirectURI(let message):
            OAuthError(status: .badRequest, code: .invalidRedirectURI, description: message)
        case .invalidClientMetadata(let message):
            OAuthError(status: .badRequest, code: .invalidClientMetadata, description: message)
        case .softwareStatementRefused:
            OAuthError(
                status: .badRequest, code: .invalidSoftwareStatement,
                description: "Software statements are not accepted; send the metadata itself.")
        case .invalidToken(let message): .bearer(.unauthorized, .invalidToken, message)
        case .notAllowed(let message): OAuthError(status: .forbidden, code: .accessDenied, description: message)
        case .throttled(let retryAfter):
            OAuthError(
                status: .tooManyRequests, code: .temporarilyUnavailable,
                description: "Too many registrations; try again in \(retryAfter) seconds.",
                headers: [.retryAfter: "\(retryAfter)"])
        }
    }

    /// The Bearer token of the request (RFC 6750 §2.1), if it sent one.
    static func bearer(_ request: Request) throws -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw RegistrationRefusal.invalidToken("Send the token as 'Authorization: Bearer <token>'.")
        }
        return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    /// The JSON object of the body as client metadata (RFC 7591 §2), and the object itself. Fields Gatehouse
    /// does not know are ignored, as §2 asks; a known field of the wrong type is `invalid_client_metadata`.
    static func parsed(_ request: Request, context: AppRequestContext) async throws -> (ClientMetadata, [String: Any]) {
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any]
        else { throw RegistrationRefusal.invalidClientMetadata("The body must be a JSON object of client metadata.") }
        func string(_ name: String) throws -> String? {
            guard let value = object[name] else { return nil }
            guard let text = value as? String else {
                throw RegistrationRefusal.invalidClientMetadata("\(name) must be a string.")
            }
            return text
        }
        func strings(_ name: String) throws -> [String]? {
            guard let value = object[name] else { return nil }
            guard let list = value as? [Any], list.count <= 100, let texts = list as? [String] else {
                throw RegistrationRefusal.invalidClientMetadata("\(name) must be an array of strings.")
            }
            return texts
        }
        let metadata = ClientMetadata(
            redirectURIs: try strings("redirect_uris") ?? [],
            tokenEndpointAuthMethod: try string("token_endpoint_auth_method"),
            grantTypes: try strings("grant_types"), responseTypes: try strings("response_types"),
            clientName: try string("client_name"), clientURI: try string("client_uri"), logoURI: try string("logo_uri"),
            scope: try string("scope"), softwareStatement: try string("software_statement"))
        return (metadata, object)
    }
}

/// RFC 7591 §3.2.1 and RFC 7592 §3: the client's metadata as registered, and its secrets when just issued.
struct RegistrationResponse: ResponseEncodable {
    let clientId: String
    let clientIdIssuedAt: Int64
    let clientSecret: String?
    /// 0: the secret does not expire.
    let clientSecretExpiresAt: Int64?
    let registrationAccessToken: String?
    let registrationClientUri: String
    let clientName: String
    let redirectUris: [String]
    let grantTypes: [String]
    let responseTypes: [String]
    let tokenEndpointAuthMethod: String
    let scope: String
    let clientUri: String?
    let logoUri: String?

    init(_ registered: RegisteredClient, issuer: String) throws {
        let client = registered.client
        clientId = client.id.value
        clientIdIssuedAt = client.createdAt.secondsSince1970
        clientSecret = registered.secret?.value
        clientSecretExpiresAt = client.type == .confidential ? 0 : nil
        registrationAccessToken = registered.registrationToken?.value
        registrationClientUri = issuer + "/oauth/register/" + client.id.value
        clientName = client.name
        redirectUris = client.redirectURIs.map(\.value)
        grantTypes = client.grantTypes.sorted().map(\.rawValue)
        responseTypes = client.grantTypes.contains(.authorizationCode) ? ["code"] : []
        tokenEndpointAuthMethod =
            (client.tokenEndpointAuthMethod ?? (client.type == .public ? .none : .clientSecretBasic)).rawValue
        scope = client.scopes.sorted().map(\.name).joined(separator: " ")
        clientUri = client.homepageURL
        logoUri = client.logoURL
    }
}
