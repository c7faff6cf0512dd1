import Foundation
import GatehouseCore
import Hummingbird

/// `/api/v1/resources`: the APIs of the workspace that apps may ask tokens for (RFC 8707).
struct ResourcesController {
    let resources: ResourceServers

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.get("resources") { _, context in
            let caller = try context.caller()
            let found = try await resources.list(in: try workspace(of: caller), by: caller)
            return Listing(items: found.map(ResourceRepresentation.init), name: "resources")
        }
        api.post("resources") { request, context in
            let caller = try context.caller()
            let body = try await request.decodeBody(as: NewResourceBody.self, context: context)
            let resource = try await resources.register(
                identifier: try ResourceIdentifier(body.identifier), name: try DisplayName(body.name),
                scopes: Set(try (body.scopes ?? []).map { try Scope($0) }),
                accessTokenLifetime: body.accessTokenLifetime.map(TimeInterval.init), in: try workspace(of: caller),
                by: caller)
            return EditedResponse(status: .created, response: ResourceRepresentation(resource))
        }
        api.get("resources/{id}") { _, context in
            ResourceRepresentation(
                try await resources.resource(try context.parameters.resourceID(), by: context.caller()))
        }
        api.delete("resources/{id}") { _, context in
            try await resources.delete(try context.parameters.resourceID(), by: try context.caller())
            return Response(status: .noContent)
        }
    }
}

struct NewResourceBody: RequestBody {
    static let fields = ["identifier", "name", "scopes", "access_token_lifetime"]

    let identifier: String
    let name: String
    let scopes: [String]?
    let accessTokenLifetime: Int?
}

struct ResourceRepresentation: ResponseEncodable {
    let id: String
    let identifier: String
    let name: String
    let scopes: [String]
    /// Seconds; null for the server's setting.
    let accessTokenLifetime: Int?
    let createdBy: String?
    let createdAt: Date

    init(_ resource: ResourceServer) {
        id = "\(resource.id)"
        identifier = resource.identifier.value
        name = resource.name
        scopes = resource.scopes.map(\.name).sorted()
        accessTokenLifetime = resource.accessTokenLifetime.map { Int($0) }
        createdBy = resource.createdBy.map { "\($0)" }
        createdAt = resource.createdAt
    }

    enum CodingKeys: CodingKey { case id, identifier, name, scopes, accessTokenLifetime, createdBy, createdAt }

    /// Every field is always present; an unset one is `null`.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(identifier, forKey: .identifier)
        try container.encode(name, forKey: .name)
        try container.encode(scopes, forKey: .scopes)
        try container.encode(accessTokenLifetime, forKey: .accessTokenLifetime)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(createdAt, forKey: .createdAt)
    }
}

extension Parameters {
    func resourceID() throws -> ResourceServerID {
        guard let text = get("id"), let uuid = UUID(text: text) else {
            throw APIError.notFound("There is no such resource server.")
        }
        return ResourceServerID(uuid)
    }
}
