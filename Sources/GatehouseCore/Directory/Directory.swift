import Foundation

/// What an admin supplies to add a user, already parsed at the edge.
package struct NewUser: Sendable {
    package var email: EmailAddress
    package var name: DisplayName
    package var role: Role
    package var employeeID: String?
    package var title: String?
    /// The department's name in the same workspace.
    package var departmentName: String?
    /// The manager's email; they must be in the same workspace.
    package var managerEmail: EmailAddress?
    /// The department by id instead of by name, as the API names it.
    package var departmentID: DepartmentID?
    /// The manager by id instead of by email, as the API names them.
    package var managerID: UserID?
    package var password: Password?

    package init(
        email: EmailAddress, name: DisplayName, role: Role, employeeID: String? = nil, title: String? = nil,
        departmentName: String? = nil, managerEmail: EmailAddress? = nil, departmentID: DepartmentID? = nil,
        managerID: UserID? = nil, password: Password? = nil
    ) {
        self.email = email
        self.name = name
        self.role = role
        self.employeeID = employeeID
        self.title = title
        self.departmentName = departmentName
        self.managerEmail = managerEmail
        self.departmentID = departmentID
        self.managerID = managerID
        self.password = password
    }
}

/// The domain's rules for workspaces, users and departments.
///
/// Every lookup that crosses a reference (a manager, a department) stays inside the workspace, so a user
/// can never be tied to another tenant's records.
package struct Directory: Sendable {
    let store: any DirectoryStore & AuditStore
    let clock: any WallClock
    let passwords: any PasswordHasher

    package init(store: any DirectoryStore & AuditStore, clock: any WallClock, passwords: any PasswordHasher) {
        self.store = store
        self.clock = clock
        self.passwords = passwords
    }

    // MARK: Workspaces

    /// Creates a workspace with its first user, a super admin, in one transaction with its audit event.
    package func createWorkspace(
        name: DisplayName, slug: WorkspaceSlug, admin: NewUser, by caller: Caller
    ) async throws -> (Workspace, User) {
        let now = clock.now()
        let workspace = Workspace(name: name.value, slug: slug, createdAt: now)
        var owner = try await makeUser(admin, in: workspace.id, now: now)
        owner.role = .superAdmin
        try await AuditTrail(store: store, clock: clock).record(
            .insertWorkspace(workspace, firstUser: owner), as: "workspace.created", by: caller,
            details: ["slug": slug.value, "super_admin": owner.email.value])
        return (workspace, owner)
    }

    /// The workspace called `slug`, or `notFound`.
    package func workspace(_ slug: WorkspaceSlug) async throws -> Workspace {
        guard let workspace = try await store.workspace(slug: slug) else {
            throw DomainError.notFound("There is no workspace '\(slug)'.")
        }
        return workspace
    }

    /// Every workspace, oldest first.
    package func workspaces() async throws -> [Workspace] {
        try await store.allWorkspaces()
    }

    // MARK: Users

    /// The workspace's users, ordered by email.
    package func users(in workspace: WorkspaceSlug) async throws -> [User] {
        try await store.users(in: try await self.workspace(workspace).id)
    }

    /// The user with `email`, or `notFound`.
    package func user(email: EmailAddress) async throws -> User {
        guard let user = try await store.user(email: email) else {
            throw DomainError.notFound("There is no user with the email \(email).")
        }
        return user
    }

    // MARK: Departments

    /// Adds a department to `workspace`; names are unique per workspace.
    package func createDepartment(named name: DisplayName, in workspace: WorkspaceSlug) async throws -> Department {
        let workspace = try await self.workspace(workspace)
        let department = Department(workspaceID: workspace.id, name: name.value, createdAt: clock.now())
        try await translatingConflicts { try await store.insert(department) }
        return department
    }

    /// The workspace's departments, ordered by name.
    package func departments(in workspace: WorkspaceSlug) async throws -> [Department] {
        try await store.departments(in: try await self.workspace(workspace).id)
    }

    // MARK: Helpers

    func makeUser(_ input: NewUser, in workspace: WorkspaceID, now: Date) async throws -> User {
        // The CLI names references by department name and manager email, the API by id.
        let departmentID =
            if input.departmentName != nil { try await department(input.departmentName, in: workspace)?.id } else {
                try await department(id: input.departmentID, in: workspace)
            }
        let managerID =
            if input.managerEmail != nil { try await manager(input.managerEmail, in: workspace)?.id } else {
                try await manager(id: input.managerID, in: workspace)
            }
        let employeeID = try optionalText(input.employeeID, field: "employee_id")
        let title = try optionalText(input.title, field: "title")
        try input.password?.check(for: input.email, name: input.name.value)
        // Hash last: it is the slow step, and every check above is cheap.
        let passwordHash: PasswordHash? =
            if let password = input.password { await passwords.hash(password) } else { nil }
        return User(
            workspaceID: workspace, email: input.email, name: input.name.value, employeeID: employeeID, title: title,
            departmentID: departmentID, managerID: managerID, role: input.role, passwordHash: passwordHash,
            createdAt: now, updatedAt: now)
    }

    private func department(_ name: String?, in workspace: WorkspaceID) async throws -> Department? {
        guard let name else { return nil }
        guard let department = try await store.department(named: name, in: workspace) else {
            throw DomainError.invalidInput(
                field: "department", message: "There is no department '\(name)' in this workspace.")
        }
        return department
    }

    private func manager(_ email: EmailAddress?, in workspace: WorkspaceID) async throws -> User? {
        guard let email else { return nil }
        guard let manager = try await store.user(email: email), manager.workspaceID == workspace else {
            throw DomainError.invalidInput(
                field: "manager", message: "There is no user \(email) in this workspace to be the manager.")
        }
        return manager
    }

    /// Checks that the department `id` (if any) is in `workspace`.
    func department(id: DepartmentID?, in workspace: WorkspaceID) async throws -> DepartmentID? {
        guard let id else { return nil }
        guard try await store.department(id: id)?.workspaceID == workspace else {
            throw DomainError.invalidInput(
                field: "department_id", message: "There is no such department in this workspace.")
        }
        return id
    }

    /// Checks that the user `id` (if any) is in `workspace`, to be someone's manager.
    func manager(id: UserID?, in workspace: WorkspaceID) async throws -> UserID? {
        guard let id else { return nil }
        guard try await store.user(id: id)?.workspaceID == workspace else {
            throw DomainError.invalidInput(
                field: "manager_id", message: "There is no such user in this workspace to be the manager.")
        }
        return id
    }

    /// Optional free text: blank means none, anything else follows the display-name rules.
    func optionalText(_ raw: String?, field: String) throws(DomainError) -> String? {
        guard let raw, !raw.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return try DisplayName(raw, field: field).value
    }
}
