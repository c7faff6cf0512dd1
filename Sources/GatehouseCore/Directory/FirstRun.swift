/// What the first start of an empty installation created.
package struct FirstRunOutcome: Sendable {
    package let workspace: Workspace
    package let admin: User
    /// The admin's password when Gatehouse generated it; shown once, then only its hash exists.
    package let generatedPassword: Password?
}

/// Prepares an empty installation: the default workspace and its super admin.
package struct FirstRun: Sendable {
    /// The slug of the workspace every installation starts with.
    package static let defaultWorkspaceSlug = "default"

    let directory: Directory
    let store: any WorkspaceStore

    package init(directory: Directory, store: any WorkspaceStore) {
        self.directory = directory
        self.store = store
    }

    /// Creates the default workspace and a super admin when no workspace exists yet; returns nil otherwise,
    /// including when another instance starting at the same moment won the race.
    package func bootstrapIfNeeded(adminEmail: EmailAddress, password: Password?) async throws -> FirstRunOutcome? {
        guard try await store.allWorkspaces().isEmpty else { return nil }
        let generated = password == nil ? Password.generate() : nil
        let admin = NewUser(
            email: adminEmail, name: try DisplayName("Administrator"), role: .superAdmin,
            password: password ?? generated)
        do {
            let (workspace, user) = try await directory.createWorkspace(
                name: try DisplayName("Default"), slug: try WorkspaceSlug(Self.defaultWorkspaceSlug), admin: admin,
                by: .firstRun)
            return FirstRunOutcome(workspace: workspace, admin: user, generatedPassword: generated)
        } catch DomainError.conflict {
            return nil
        }
    }
}
