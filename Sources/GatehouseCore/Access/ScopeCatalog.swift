import Foundation

/// The scopes a workspace can grant: Gatehouse's own, plus those the workspace defines for its own APIs.
package struct ScopeCatalog: Sendable {
    let store: any ScopeStore & AuditStore
    let clock: any WallClock

    package init(store: any ScopeStore & AuditStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// Defines a new scope in `workspace`, held by `roles` and always by super admins (listed too, so the
    /// listing says who really holds it). Needs `api_keys:write`, since scopes are what keys are made of.
    package func define(
        _ scope: Scope, description: String, roles: Set<Role>, in workspace: WorkspaceID, by caller: Caller
    ) async throws -> ScopeDefinition {
        try caller.require(.apiKeysWrite)
        guard caller.canSee(workspace) else { throw DomainError.notFound("There is no such workspace.") }
        guard BuiltInScopes.holders[scope] == nil else {
            throw DomainError.conflict("'\(scope)' is a built-in scope; choose another name.")
        }
        guard !roles.isEmpty else {
            throw DomainError.invalidInput(field: "roles", message: "Name at least one role that holds the scope.")
        }
        let definition = ScopeDefinition(
            workspaceID: workspace, scope: scope, description: try DisplayName(description, field: "description").value,
            roles: roles.union([.superAdmin]), createdAt: clock.now())
        try await AuditTrail(store: store, clock: clock).record(
            .insertScope(definition), as: "scope.created", by: caller,
            details: ["roles": definition.roles.map(\.rawValue).sorted().joined(separator: " ")])
        return definition
    }

    /// Every scope of `workspace`: built-in ones first, then the workspace's own, each with its holders.
    package func scopes(in workspace: WorkspaceID, by caller: Caller) async throws -> [ScopeDefinition] {
        try caller.require(.profile)
        let builtIn = BuiltInScopes.holders.sorted { $0.key < $1.key }.map { scope, roles in
            ScopeDefinition(
                workspaceID: workspace, scope: scope, description: BuiltInScopes.descriptions[scope] ?? "",
                roles: roles, createdAt: Date(timeIntervalSince1970: 0))
        }
        return builtIn + (try await store.scopeDefinitions(in: workspace))
    }
}
