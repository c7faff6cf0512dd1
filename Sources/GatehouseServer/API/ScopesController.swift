import GatehouseCore
import Hummingbird

/// `/api/v1/scopes`: the built-in scopes and the workspace's own.
struct ScopesController {
    let catalog: ScopeCatalog

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.get("scopes") { _, context in
            let caller = try context.caller()
            let scopes = try await catalog.scopes(in: try workspace(of: caller), by: caller)
            return Listing(items: scopes.map(ScopeRepresentation.init), name: "scopes")
        }
        api.post("scopes") { request, context in
            let caller = try context.caller()
            let body = try await request.decodeBody(as: NewScopeBody.self, context: context)
            let definition = try await catalog.define(
                try Scope(body.name), description: body.description,
                roles: Set(try body.roles.map(Role.init(parsing:))), in: try workspace(of: caller), by: caller)
            return EditedResponse(status: .created, response: ScopeRepresentation(definition))
        }
    }
}

struct NewScopeBody: RequestBody {
    static let fields = ["name", "description", "roles"]

    let name: String
    let description: String
    let roles: [String]
}
