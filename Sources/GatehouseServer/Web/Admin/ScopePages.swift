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
            let rows = scopes.map { definition -> [String: Any] in
                [
                    "name": definition.scope.name, "description": definition.description,
                    "built_in": BuiltInScopes.holders[definition.scope] != nil,
                    "roles": Role.allCases.map { role in
                        ["role": role.rawValue, "holds": definition.roles.contains(role)]
                    },
                ]
            }
            return try pages.render(
                "admin-scopes", ["scopes": rows, "roles": Role.allCases.map(\.rawValue)], for: page, in: .scopes)
        }
    }
}
