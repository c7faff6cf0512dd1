import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// Admin → Scopes: Gatehouse's built-in scopes and the workspace's own, and which roles hold each.
struct ScopePages {
    let catalog: ScopeCatalog
    let pages: SignedInPages

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("admin/scopes") { request, context in
            let page = try await pages.open(request, context: context)
            let scopes = try await catalog.scopes(in: page.user.workspaceID, by: page.caller)
            let rows = scopes.map { definition in
                ScopesPage.Row(
                    name: definition.scope.name, description: definition.description,
                    builtIn: BuiltInScopes.holders[definition.scope] != nil,
                    roles: Role.allCases.map { .init(role: $0.rawValue, holds: definition.roles.contains($0)) })
            }
            return try pages.render(
                "admin-scopes", ScopesPage(scopes: rows, roles: Role.allCases.map(\.rawValue)), for: page, in: .scopes)
        }
    }
}

/// `admin-scopes.mustache`: every scope, and which roles hold it.
struct ScopesPage: Encodable {
    struct Row: Encodable {
        struct Holder: Encodable {
            let role: String
            let holds: Bool
        }

        let name: String
        let description: String
        let builtIn: Bool
        let roles: [Holder]
    }

    let scopes: [Row]
    let roles: [String]
}
