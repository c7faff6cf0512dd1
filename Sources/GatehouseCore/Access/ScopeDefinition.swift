import Foundation

/// A scope a workspace defines for its own APIs (`okrs:read`), with the roles that hold it.
package struct ScopeDefinition: Equatable, Sendable {
    package var workspaceID: WorkspaceID
    package var scope: Scope
    package var description: String
    package var roles: Set<Role>
    package var createdAt: Date

    package init(workspaceID: WorkspaceID, scope: Scope, description: String, roles: Set<Role>, createdAt: Date) {
        self.workspaceID = workspaceID
        self.scope = scope
        self.description = description
        self.roles = roles
        self.createdAt = createdAt
    }
}

/// Which scopes each role holds in one workspace: the built-in table plus the workspace's own scopes.
package struct RoleRights: Sendable {
    let custom: [ScopeDefinition]

    package init(custom: [ScopeDefinition]) { self.custom = custom }

    /// Every scope `role` holds here. A super admin holds every scope the workspace defines, whichever
    /// roles it names, so that nobody in the workspace holds a right its super admins lack.
    package func scopes(of role: Role) -> Set<Scope> {
        let own = custom.filter { role == .superAdmin || $0.roles.contains(role) }.map(\.scope)
        return BuiltInScopes.scopes(of: role).union(own)
    }

    /// Every scope of the workspace that is not one of Gatehouse's administrative scopes: the most a client gets by
    /// default, and all an app that registers itself may ever get.
    package var nonAdministrative: Set<Scope> { scopes(of: .superAdmin).subtracting(BuiltInScopes.administrative) }

    /// Whether the scope exists here at all.
    package func isDefined(_ scope: Scope) -> Bool {
        BuiltInScopes.holders[scope] != nil || custom.contains { $0.scope == scope }
    }
}
