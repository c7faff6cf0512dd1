/// The one rule of the rights model (shared/README.md): whoever creates, changes, rotates, enables, reactivates
/// or extends anything that carries rights — a client application and its secret, grant types and redirect URIs;
/// a key; a user's role — must hold every right that thing can exercise, now.
///
/// Every domain service that changes such a thing asks here, so the JSON API, the admin pages and the command
/// line cannot disagree. The operator at the command line holds every right.
package struct Rights: Sendable {
    let store: any ScopeStore & APIKeyStore & UserStore

    package init(store: any ScopeStore & APIKeyStore & UserStore) {
        self.store = store
    }

    /// What anyone with `role` holds in `workspace` now, built-in and the workspace's own scopes.
    package static func of(_ role: Role, in workspace: WorkspaceID, store: any ScopeStore) async throws -> Set<Scope> {
        RoleRights(custom: try await store.scopeDefinitions(in: workspace)).scopes(of: role)
    }

    /// `RoleRights.nonAdministrative` of `workspace`, read now.
    package static func nonAdministrative(in workspace: WorkspaceID, store: any ScopeStore) async throws -> Set<Scope> {
        RoleRights(custom: try await store.scopeDefinitions(in: workspace)).nonAdministrative
    }

    /// What `key` could use now: its scopes, bounded by what its holder holds (a user key by its owner's role,
    /// a service key by every scope of the workspace). A key whose owner is gone can use nothing.
    package func of(_ key: APIKey) async throws -> Set<Scope> {
        let rights = RoleRights(custom: try await store.scopeDefinitions(in: key.workspaceID))
        let held: Set<Scope>
        switch key.owner {
        case .user(let id):
            guard let owner = try await store.user(id: id) else { return [] }
            held = rights.scopes(of: owner.role)
        case .client:
            held = rights.scopes(of: .superAdmin)
        }
        guard case .only(let chosen) = key.scopes else { return held }
        return held.intersection(chosen)
    }

    /// What a resource server learns by introspection — every credential of its workspace, with its scopes and
    /// its user — is what reading keys and users shows: whoever makes one must hold both.
    package static let ofResourceServer: Set<Scope> = [.apiKeysRead, .usersRead]

    /// What `client` carries: every scope its tokens may hold (through `client_credentials` on its own, through
    /// a user's consent at its redirect URIs), what a resource server learns, and what each of its active service
    /// keys could use — enabling a disabled client revives them.
    package func of(_ client: ClientApplication) async throws -> Set<Scope> {
        var carried = client.scopes
        if client.isResourceServer { carried.formUnion(Self.ofResourceServer) }
        for key in try await store.apiKeys(in: client.workspaceID, status: .active, owner: .client(client.id)) {
            carried.formUnion(try await of(key))
        }
        return carried
    }

    /// Throws `forbidden` unless `caller` holds every scope in `rights`. `action` says what was refused, as in
    /// "You cannot change the client 'billing'".
    package static func require(
        _ caller: Caller, toHold rights: Set<Scope>, toDo action: @autoclosure () -> String
    ) throws(DomainError) {
        guard let principal = caller.principal else { return }
        let missing = rights.subtracting(principal.scopes)
        guard !missing.isEmpty else { return }
        throw .forbidden(
            "\(action()): it carries rights you do not hold (\(missing.sorted().map(\.name).joined(separator: ", "))).")
    }
}
