import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// `/api/v1/users/{id}/api-keys` and `/api/v1/api-keys`: generating, listing, changing, revoking and
/// reactivating keys.
struct APIKeysController {
    let keys: APIKeys

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.post("users/{id}/api-keys", use: createUserKey)
        api.get("users/{id}/api-keys", use: userKeys)
        api.get("api-keys", use: list)
        api.get("api-keys/{id}", use: show)
        api.patch("api-keys/{id}", use: change)
        api.post("api-keys/{id}/revoke", use: revoke)
        api.post("api-keys/{id}/reactivate", use: reactivate)
    }

    @Sendable func createUserKey(_ request: Request, _ context: AppRequestContext) async throws
        -> some ResponseGenerator
    {
        let body = try await request.decodeBody(as: NewAPIKeyBody.self, context: context)
        let (key, plaintext) = try await keys.create(
            try body.parsed(), for: .user(try context.parameters.id("id")), by: try context.caller())
        return try CreatedAPIKey(apiKey: APIKeyRepresentation(key), key: plaintext.value)
            .showingSecret(status: .created, request: request, context: context)
    }

    @Sendable func userKeys(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        let caller = try context.caller()
        let owner: UserID = try context.parameters.id("id")
        let list = try await keys.list(in: try workspace(of: caller), owner: .user(owner), by: caller)
        return Listing(items: list.map(APIKeyRepresentation.init), name: "api_keys")
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        let caller = try context.caller()
        let query = request.uri.queryParameters
        let status = try query["status"].map { try KeyStatus(parsing: String($0)) }
        let owner = try query["owner"].map { try Self.owner(String($0)) }
        let list = try await keys.list(in: try workspace(of: caller), status: status, owner: owner, by: caller)
        return Listing(items: list.map(APIKeyRepresentation.init), name: "api_keys")
    }

    @Sendable func show(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        APIKeyRepresentation(try await keys.key(try context.parameters.id("id"), by: try context.caller()))
    }

    @Sendable func change(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        let body = try await request.decodeBody(as: APIKeyChangeBody.self, context: context)
        return APIKeyRepresentation(
            try await keys.change(try context.parameters.id("id"), try body.parsed(), by: try context.caller()))
    }

    @Sendable func revoke(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        APIKeyRepresentation(
            try await keys.setStatus(.revoked, of: try context.parameters.id("id"), by: try context.caller()))
    }

    @Sendable func reactivate(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        APIKeyRepresentation(
            try await keys.setStatus(.active, of: try context.parameters.id("id"), by: try context.caller()))
    }

    /// `?owner=` names a user by id, or a client application as `client:<client_id>`.
    private static func owner(_ text: String) throws -> KeyOwner {
        if text.hasPrefix("client:") { return .client(try ClientID(String(text.dropFirst("client:".count)))) }
        return .user(try uuid(text, field: "owner"))
    }
}

struct NewAPIKeyBody: RequestBody {
    static let fields = ["name", "scopes", "expires_at", "rate_limit_per_minute"]

    let name: String
    let scopes: [String]?
    let expiresAt: Date?
    let rateLimitPerMinute: Int?

    func parsed() throws -> NewAPIKey {
        NewAPIKey(
            name: try DisplayName(name), scopes: try KeyScopes(names: scopes), expiresAt: expiresAt,
            rateLimitPerMinute: rateLimitPerMinute)
    }
}

struct APIKeyChangeBody: RequestBody {
    static let fields = ["name", "scopes", "expires_at", "rate_limit_per_minute"]
    static let nullable: Set = ["scopes", "expires_at", "rate_limit_per_minute"]

    var name: String?
    var scopes: [String]??
    var expiresAt: Date??
    var rateLimitPerMinute: Int??

    enum CodingKeys: String, CodingKey {
        case name, scopes, expiresAt, rateLimitPerMinute
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeUnlessAbsent(String.self, forKey: .name)
        scopes = try container.decodePatch([String].self, forKey: .scopes)
        expiresAt = try container.decodePatch(Date.self, forKey: .expiresAt)
        rateLimitPerMinute = try container.decodePatch(Int.self, forKey: .rateLimitPerMinute)
    }

    func parsed() throws -> APIKeyChange {
        APIKeyChange(
            name: try name.map { try DisplayName($0) }, scopes: try scopes.map { try KeyScopes(names: $0) },
            expiresAt: expiresAt, rateLimitPerMinute: rateLimitPerMinute)
    }
}
