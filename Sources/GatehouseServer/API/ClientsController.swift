import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// `/api/v1/clients`: registering, listing, changing and deleting client applications, rotating their
/// secrets, and their service keys.
struct ClientsController {
    let clients: ClientApplications
    let keys: APIKeys

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.post("clients", use: register)
        api.get("clients", use: list)
        api.get("clients/{client_id}", use: show)
        api.patch("clients/{client_id}", use: change)
        api.delete("clients/{client_id}", use: delete)
        api.post("clients/{client_id}/secret", use: rotateSecret)
        api.post("clients/{client_id}/api-keys", use: createServiceKey)
        api.get("clients/{client_id}/api-keys", use: serviceKeys)
    }

    @Sendable func register(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        let caller = try context.caller()
        let body = try await request.decodeBody(as: NewClientBody.self, context: context)
        let (client, secret) = try await clients.create(
            try body.parsed(), in: try workspace(of: caller), by: caller)
        return try ClientWithSecret(client: ClientRepresentation(client), secret: secret?.value)
            .showingSecret(status: .created, request: request, context: context)
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        let caller = try context.caller()
        let query = request.uri.queryParameters
        let page = try await clients.list(
            in: try workspace(of: caller), after: try query["cursor"].map { try ClientCursor(String($0)).clientID },
            limit: try query["limit"].map { try Self.limit(String($0)) } ?? 50, by: caller)
        return Listing(
            items: page.clients.map(ClientRepresentation.init), name: "clients",
            nextCursor: page.next.map { ClientCursor($0).text })
    }

    @Sendable func show(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        ClientRepresentation(try await clients.client(try context.parameters.clientID(), by: try context.caller()))
    }

    @Sendable func change(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        let body = try await request.decodeBody(as: ClientChangeBody.self, context: context)
        return ClientRepresentation(
            try await clients.change(try context.parameters.clientID(), try body.parsed(), by: try context.caller())
        )
    }

    @Sendable func delete(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        try await clients.delete(try context.parameters.clientID(), by: try context.caller())
        return Response(status: .noContent)
    }

    @Sendable func rotateSecret(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator
    {
        let body = try await request.decodeBody(as: RotateSecretBody.self, context: context, optional: true)
        let (client, secret) = try await clients.rotateSecret(
            of: try context.parameters.clientID(), grace: TimeInterval(body.graceSeconds ?? 0),
            by: try context.caller())
        return try ClientWithSecret(client: ClientRepresentation(client), secret: secret.value)
            .showingSecret(status: .ok, request: request, context: context)
    }

    @Sendable func createServiceKey(_ request: Request, _ context: AppRequestContext) async throws
        -> some ResponseGenerator
    {
        let body = try await request.decodeBody(as: NewAPIKeyBody.self, context: context)
        let (key, plaintext) = try await keys.create(
            try body.parsed(), for: .client(try context.parameters.clientID()), by: try context.caller())
        return try CreatedAPIKey(apiKey: APIKeyRepresentation(key), key: plaintext.value)
            .showingSecret(status: .created, request: request, context: context)
    }

    @Sendable func serviceKeys(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator
    {
        let caller = try context.caller()
        let owner = KeyOwner.client(try context.parameters.clientID())
        let list = try await keys.list(in: try workspace(of: caller), owner: owner, by: caller)
        return Listing(items: list.map(APIKeyRepresentation.init), name: "api_keys")
    }

    private static func limit(_ text: String) throws(DomainError) -> Int {
        guard let value = Int(text) else {
            throw .invalidInput(field: "limit", message: "The limit '\(text.prefix(32))' is not a number.")
        }
        return value
    }
}

/// The position after which the next page of clients starts: opaque to callers, so its form can change.
struct ClientCursor {
    let clientID: ClientID

    init(_ clientID: ClientID) { self.clientID = clientID }

    init(_ text: String) throws(DomainError) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let id = try? ClientID(String(decoding: data, as: UTF8.self))
        else {
            throw .invalidInput(field: "cursor", message: "The cursor is not one this API gave out; start without it.")
        }
        clientID = id
    }

    var text: String { Data(clientID.value.utf8).base64URLEncodedString() }
}

extension ClientID {
    /// The client_id as one path segment: unchanged for a plain name, percent-encoded for a URL.
    var pathSegment: String {
        var unreserved = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: "\u{0}"..."\u{7F}"))
        unreserved.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }
}

extension Parameters {
    /// The `{client_id}` path segment; one that cannot be a client id names nothing, so it is 404.
    func clientID() throws -> ClientID {
        // A metadata document's URL comes percent-encoded as one segment.
        guard let text = get("client_id"), let id = try? ClientID(text.removingPercentEncoding ?? text) else {
            throw APIError.notFound("There is no client application with that client_id.")
        }
        return id
    }
}

struct NewClientBody: RequestBody {
    static let fields = [
        "client_id", "name", "description", "logo_url", "homepage_url", "type", "redirect_uris",
        "post_logout_redirect_uris", "backchannel_logout_uri", "grant_types", "scopes", "require_pkce",
        "resource_server", "id_token_signed_response_alg",
    ]

    let clientId: String
    let name: String
    let description: String?
    let logoUrl: String?
    let homepageUrl: String?
    let type: String?
    let redirectUris: [String]?
    let postLogoutRedirectUris: [String]?
    let backchannelLogoutUri: String?
    let grantTypes: [String]?
    let scopes: [String]?
    let requirePkce: Bool?
    let resourceServer: Bool?
    let idTokenSignedResponseAlg: String?

    func parsed() throws -> NewClientApplication {
        NewClientApplication(
            id: try ClientID(clientId), name: try DisplayName(name), description: description, logoURL: logoUrl,
            homepageURL: homepageUrl, type: try type.map(ClientType.init(parsing:)) ?? .confidential,
            redirectURIs: try RedirectURI.parseAll(redirectUris ?? []),
            postLogoutRedirectURIs: try RedirectURI.parseAll(
                postLogoutRedirectUris ?? [], field: "post_logout_redirect_uris"),
            backchannelLogoutURI: try backchannelLogoutUri.map { try RedirectURI($0, field: "backchannel_logout_uri") },
            grantTypes: try grantTypes.map { Set(try $0.map(GrantType.init(parsing:))) },
            scopes: try scopes.map { Set(try $0.map(Scope.init)) }, requirePKCE: requirePkce ?? true,
            isResourceServer: resourceServer ?? false,
            idTokenSigningAlgorithm: try idTokenSignedResponseAlg.map(SigningAlgorithm.init(parsing:)) ?? .rs256)
    }
}

struct ClientChangeBody: RequestBody {
    static let fields = [
        "name", "description", "logo_url", "homepage_url", "redirect_uris", "post_logout_redirect_uris",
        "backchannel_logout_uri", "grant_types", "scopes", "require_pkce", "resource_server",
        "id_token_signed_response_alg", "disabled",
    ]
    static let nullable: Set = ["description", "logo_url", "homepage_url", "backchannel_logout_uri"]

    var name: String?
    var description: String??
    var logoUrl: String??
    var homepageUrl: String??
    var redirectUris: [String]?
    var postLogoutRedirectUris: [String]?
    var backchannelLogoutUri: String??
    var grantTypes: [String]?
    var scopes: [String]?
    var requirePkce: Bool?
    var resourceServer: Bool?
    var idTokenSignedResponseAlg: String?
    var disabled: Bool?

    enum CodingKeys: String, CodingKey {
        case name, description, logoUrl, homepageUrl, redirectUris, postLogoutRedirectUris, backchannelLogoutUri
        case grantTypes, scopes, requirePkce, resourceServer, idTokenSignedResponseAlg, disabled
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeUnlessAbsent(String.self, forKey: .name)
        description = try container.decodePatch(String.self, forKey: .description)
        logoUrl = try container.decodePatch(String.self, forKey: .logoUrl)
        homepageUrl = try container.decodePatch(String.self, forKey: .homepageUrl)
        redirectUris = try container.decodeUnlessAbsent([String].self, forKey: .redirectUris)
        postLogoutRedirectUris = try container.decodeUnlessAbsent([String].self, forKey: .postLogoutRedirectUris)
        backchannelLogoutUri = try container.decodePatch(String.self, forKey: .backchannelLogoutUri)
        grantTypes = try container.decodeUnlessAbsent([String].self, forKey: .grantTypes)
        scopes = try container.decodeUnlessAbsent([String].self, forKey: .scopes)
        requirePkce = try container.decodeUnlessAbsent(Bool.self, forKey: .requirePkce)
        resourceServer = try container.decodeUnlessAbsent(Bool.self, forKey: .resourceServer)
        idTokenSignedResponseAlg = try container.decodeUnlessAbsent(String.self, forKey: .idTokenSignedResponseAlg)
        disabled = try container.decodeUnlessAbsent(Bool.self, forKey: .disabled)
    }

    func parsed() throws -> ClientChange {
        ClientChange(
            name: try name.map { try DisplayName($0) }, description: description, logoURL: logoUrl,
            homepageURL: homepageUrl, redirectURIs: try redirectUris.map { try RedirectURI.parseAll($0) },
            postLogoutRedirectURIs: try postLogoutRedirectUris.map {
                try RedirectURI.parseAll($0, field: "post_logout_redirect_uris")
            },
            backchannelLogoutURI: try backchannelLogoutUri.map { raw in
                try raw.map { try RedirectURI($0, field: "backchannel_logout_uri") }
            },
            grantTypes: try grantTypes.map { Set(try $0.map(GrantType.init(parsing:))) },
            scopes: try scopes.map { Set(try $0.map(Scope.init)) }, requirePKCE: requirePkce,
            isResourceServer: resourceServer,
            idTokenSigningAlgorithm: try idTokenSignedResponseAlg.map(SigningAlgorithm.init(parsing:)),
            isDisabled: disabled)
    }
}

struct RotateSecretBody: RequestBody {
    static let fields = ["grace_seconds"]
    let graceSeconds: Int?
}
