import Foundation

/// A change to a user; nil fields stay as they are, `.some(nil)` clears an optional one.
package struct UserChange: Sendable {
    package var email: EmailAddress?
    package var name: DisplayName?
    package var employeeID: String??
    package var title: String??
    package var departmentID: DepartmentID??
    package var managerID: UserID??
    package var role: Role?
    package var isActive: Bool?

    package init(
        email: EmailAddress? = nil, name: DisplayName? = nil, employeeID: String?? = nil, title: String?? = nil,
        departmentID: DepartmentID?? = nil, managerID: UserID?? = nil, role: Role? = nil, isActive: Bool? = nil
    ) {
        self.email = email
        self.name = name
        self.employeeID = employeeID
        self.title = title
        self.departmentID = departmentID
        self.managerID = managerID
        self.role = role
        self.isActive = isActive
    }
}

/// What managing users reads and writes.
package typealias UserAdministrationStore = DirectoryStore & AuditStore & ScopeStore & PasswordLinkStore
    & SecondFactorStore

/// Until when a user's invitation works.
package struct Invitation: Equatable, Sendable {
    package let expiresAt: Date
    package let hasExpired: Bool
}

/// A user just added, with their invitation when they were added without a password.
package struct AddedUser: Sendable {
    package let user: User
    package let invitation: IssuedPasswordLink?
}

/// The users and departments API's rules: who may read, add and change whom.
///
/// A role carries rights, so the rights model's rule holds here (`Rights`): adding a user, changing anything of
/// theirs or giving them a role needs every right of their role, now. Beyond that, only a super admin may grant
/// `super_admin` or `admin`, or change an account that holds either — a service key holds every scope but never
/// makes or changes an administrator.
package struct UserAdministration: Sendable {
    let store: any UserAdministrationStore
    let clock: any WallClock
    let directory: Directory
    let trail: AuditTrail
    let passwords: any PasswordHasher

    package init(store: any UserAdministrationStore, clock: any WallClock, passwords: any PasswordHasher) {
        self.store = store
        self.clock = clock
        self.passwords = passwords
        self.directory = Directory(store: store, clock: clock, passwords: passwords)
        self.trail = AuditTrail(store: store, clock: clock)
    }

    /// Whom the caller's credential acts for: its user, or for a service key its client application.
    package func me(by caller: Caller) throws(DomainError) -> CredentialHolder {
        try caller.require(.profile)
        if let user = caller.principal?.user { return .user(user) }
        if let client = caller.principal?.client { return .client(client) }
        throw .forbidden("This credential does not act for a user or a client application.")
    }

    package func users(in workspace: WorkspaceID, by caller: Caller) async throws -> [User] {
        try caller.require(.usersRead)
        guard caller.canSee(workspace) else { return [] }
        return try await store.users(in: workspace)
    }

    /// The workspace's users whose name, email or title contains `text`, ignoring case; all of them when
    /// `text` is blank.
    package func users(in workspace: WorkspaceID, matching text: String, by caller: Caller) async throws -> [User] {
        let all = try await users(in: workspace, by: caller)
        let needle = text.trimmingCharacters(in: .whitespaces)
        guard !needle.isEmpty else { return all }
        return all.filter { user in
            [user.name, user.email.value, user.title ?? ""].contains { $0.localizedStandardContains(needle) }
        }
    }

    package func user(_ id: UserID, by caller: Caller) async throws -> User {
        try caller.require(.usersRead)
        return try await store.user(id, visibleTo: caller)
    }

    package func departments(in workspace: WorkspaceID, by caller: Caller) async throws -> [Department] {
        try caller.require(.departmentsRead)
        guard caller.canSee(workspace) else { return [] }
        return try await store.departments(in: workspace)
    }

    /// Throws `forbidden` unless the caller may add users; a page asks before it offers the form.
    package func checkMayAdd(by caller: Caller) throws(DomainError) {
        try caller.require(.usersWrite)
    }

    /// Adds a user to `workspace`. Without a password they are invited: the link to choose one is returned, to
    /// be shown to the admin and emailed, this once.
    package func create(_ input: NewUser, in workspace: WorkspaceID, by caller: Caller) async throws -> AddedUser {
        try checkMayAdd(by: caller)
        guard caller.canSee(workspace) else { throw DomainError.notFound("There is no such workspace.") }
        try await checkMayGrant(input.role, in: workspace, by: caller)
        let now = clock.now()
        let user = try await directory.makeUser(input, in: workspace, now: now)
        let details = ["email": user.email.value, "role": user.role.rawValue]
        guard user.passwordHash == nil else {
            try await trail.record(.insertUser(user), as: "user.created", by: caller, details: details)
            return AddedUser(user: user, invitation: nil)
        }
        let invitation = IssuedPasswordLink(.invitation, for: user, at: now)
        try await trail.record(
            .inviteUser(user, invitation.link), as: "user.created", by: caller,
            details: details.merging(["invited_until": Self.timestamp(invitation.link.expiresAt)]) { $1 })
        return AddedUser(user: user, invitation: invitation)
    }

    /// The workspace's invitations, expired ones included, by user.
    package func invitations(in workspace: WorkspaceID, by caller: Caller) async throws -> [UserID: Invitation] {
        try caller.require(.usersRead)
        guard caller.canSee(workspace) else { return [:] }
        let now = clock.now()
        let links = try await store.passwordLinks(in: workspace).filter { $0.purpose == .invitation }
        return Dictionary(
            links.map { ($0.userID, Invitation(expiresAt: $0.expiresAt, hasExpired: now >= $0.expiresAt)) }
        ) { first, _ in first }
    }

    /// A new invitation for a user who has no password yet, replacing the one before (whose link stops working).
    package func invite(_ id: UserID, by caller: Caller) async throws -> IssuedPasswordLink {
        let user = try await userToChange(id, by: caller)
        guard user.passwordHash == nil else {
            throw DomainError.conflict(
                "\(user.email.value) has a password already; make a password reset link instead.")
        }
        return try await issue(.invitation, for: user, as: "user.invited", by: caller)
    }

    /// Cancels the user's invitation: its link stops working.
    package func cancelInvitation(_ id: UserID, by caller: Caller) async throws {
        let user = try await userToChange(id, by: caller)
        try await trail.record(.cancelPasswordLink(user, .invitation), as: "user.invitation_cancelled", by: caller)
    }

    /// A link for the user to choose a new password, valid half an hour, for an admin to hand over when no mail
    /// can be sent. Making it changes nothing until it is used; using it ends the user's sessions.
    package func resetLink(_ id: UserID, by caller: Caller) async throws -> IssuedPasswordLink {
        try await issue(.reset, for: try await userToChange(id, by: caller), as: "user.password_reset_link", by: caller)
    }

    /// The caller's workspace, with its settings.
    package func workspace(_ id: WorkspaceID, by caller: Caller) async throws -> Workspace {
        guard caller.canSee(id), let workspace = try await store.workspace(id: id) else {
            throw DomainError.notFound("There is no such workspace.")
        }
        return workspace
    }

    /// Requires (or stops requiring) a second factor of the workspace's super admins, admins and HR admins. Only
    /// a super admin decides it: it binds every administrator, them included.
    package func requireAdminTwoFactor(_ required: Bool, in id: WorkspaceID, by caller: Caller) async throws
        -> Workspace
    {
        try caller.require(.usersWrite)
        guard caller.role == .superAdmin else {
            throw DomainError.forbidden("Only a super admin may change whether administrators need two-factor sign-in.")
        }
        var workspace = try await workspace(id, by: caller)
        guard workspace.requiresAdminTwoFactor != required else { return workspace }
        workspace.requiresAdminTwoFactor = required
        try await trail.record(
            .updateWorkspace(workspace), as: "workspace.admin_two_factor_changed", by: caller,
            details: ["required": "\(required)"])
        return workspace
    }

    /// Whether the user has turned two-factor sign-in on.
    package func hasTwoFactor(_ id: UserID, by caller: Caller) async throws -> Bool {
        try caller.require(.usersRead)
        let user = try await store.user(id, visibleTo: caller)
        return try await store.hasSecondFactor(user.id)
    }

    /// Removes the user's second factor and recovery codes, for someone who lost both, and ends every session of
    /// theirs: they sign in with their password and may set it up again.
    package func resetTwoFactor(_ id: UserID, by caller: Caller) async throws {
        let user = try await userToChange(id, by: caller)
        try await trail.record(.removeTwoFactor(user), as: "user.two_factor_reset", by: caller)
    }

    /// Ends every session of the user: each browser signed in as them must sign in again.
    package func endSessions(_ id: UserID, by caller: Caller) async throws {
        let user = try await userToChange(id, by: caller)
        try await trail.record(.endSessions(user, keepingSession: nil), as: "user.sessions_ended", by: caller)
    }

    private func issue(_ purpose: PasswordLinkPurpose, for user: User, as action: String, by caller: Caller)
        async throws -> IssuedPasswordLink
    {
        guard user.isActive else {
            throw DomainError.conflict("\(user.email.value)'s account is deactivated; reactivate it first.")
        }
        let issued = IssuedPasswordLink(purpose, for: user, at: clock.now())
        try await trail.record(
            .issuePasswordLink(user, issued.link), as: action, by: caller,
            details: ["expires_at": Self.timestamp(issued.link.expiresAt)])
        return issued
    }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// Applies `change` to the user `id`.
    package func update(_ id: UserID, _ change: UserChange, by caller: Caller) async throws -> User {
        var user = try await userToChange(id, by: caller)
        let wasActive = user.isActive
        if let role = change.role, role != user.role { try await checkMayGrant(role, in: user.workspaceID, by: caller) }
        let changed = try await apply(change, to: &user)
        guard !changed.isEmpty else { return user }
        user.updatedAt = clock.now()
        var details = ["fields": changed.joined(separator: " ")]
        if changed.contains("role") { details["role"] = user.role.rawValue }
        if changed.contains("active") { details["active"] = "\(user.isActive)" }
        // Deactivation also ends the user's sessions and token grants, in the same transaction.
        let stored: AuditedChange = wasActive && !user.isActive ? .deactivateUser(user) : .updateUser(user)
        try await trail.record(stored, as: "user.updated", by: caller, details: details)
        return user
    }

    /// Copies the fields `change` sets onto `user`, checking each, and names the ones that changed.
    private func apply(_ change: UserChange, to user: inout User) async throws -> [String] {
        var changed: [String] = []
        if let email = change.email, email != user.email {
            user.email = email
            changed.append("email")
        }
        if let name = change.name {
            user.name = name.value
            changed.append("name")
        }
        if let employeeID = change.employeeID {
            user.employeeID = try directory.optionalText(employeeID, field: "employee_id")
            changed.append("employee_id")
        }
        if let title = change.title {
            user.title = try directory.optionalText(title, field: "title")
            changed.append("title")
        }
        if let departmentID = change.departmentID {
            user.departmentID = try await directory.department(id: departmentID, in: user.workspaceID)
            changed.append("department")
        }
        if let managerID = change.managerID {
            guard managerID != user.id else {
                throw DomainError.invalidInput(field: "manager_id", message: "A user cannot be their own manager.")
            }
            user.managerID = try await directory.manager(id: managerID, in: user.workspaceID)
            changed.append("manager")
        }
        if let role = change.role, role != user.role {
            user.role = role
            changed.append("role")
        }
        if let isActive = change.isActive, isActive != user.isActive {
            user.isActive = isActive
            changed.append("active")
        }
        return changed
    }

    /// Sets the user's password, and ends every session of theirs. Only the operator at the command line does
    /// this for someone else: in the API and the pages nobody learns or chooses another person's password.
    package func setPassword(_ id: UserID, to password: Password, by caller: Caller) async throws -> User {
        guard caller.principal == nil else {
            throw DomainError.forbidden("Only the operator, at the command line, sets another person's password.")
        }
        var user = try await store.user(id, visibleTo: caller)
        try password.check(for: user.email, name: user.name)
        user.passwordHash = await passwords.hash(password)
        user.updatedAt = clock.now()
        try await trail.record(.changePassword(user, keepingSession: nil), as: "user.password_set", by: caller)
        return user
    }

    /// Records that the user accepted the privacy notice; their credentials work from then on. Only the user
    /// themselves accepts it, or the operator recording an acceptance made elsewhere.
    package func acceptPrivacyNotice(_ id: UserID, by caller: Caller) async throws -> User {
        if let principal = caller.principal, principal.user?.id != id {
            throw DomainError.forbidden("Only the person themselves can accept the privacy notice.")
        }
        var user = try await store.user(id, visibleTo: caller)
        guard user.privacyNoticeAcceptedAt == nil else { return user }
        let now = clock.now()
        user.privacyNoticeAcceptedAt = now
        user.updatedAt = now
        try await trail.record(.updateUser(user), as: "user.privacy_notice_accepted", by: caller)
        return user
    }

    // MARK: Rules

    /// The user `id`, when the caller may change their account: `users:write`, every right of the user's role,
    /// and for a super admin's or an admin's account, the super admin role.
    private func userToChange(_ id: UserID, by caller: Caller) async throws -> User {
        try caller.require(.usersWrite)
        let user = try await store.user(id, visibleTo: caller)
        if Self.privileged.contains(user.role), caller.role != .superAdmin {
            throw DomainError.forbidden("Only a super admin may change a super admin's or an admin's account.")
        }
        try Rights.require(
            caller, toHold: try await Rights.of(user.role, in: user.workspaceID, store: store),
            toDo: "You cannot change \(user.email.value)'s account")
        return user
    }

    private static let privileged: Set<Role> = [.superAdmin, .admin]

    private func checkMayGrant(_ role: Role, in workspace: WorkspaceID, by caller: Caller) async throws {
        if Self.privileged.contains(role), caller.role != .superAdmin {
            throw DomainError.forbidden("Only a super admin may grant the \(role.rawValue) role.")
        }
        try Rights.require(
            caller, toHold: try await Rights.of(role, in: workspace, store: store),
            toDo: "You cannot give the \(role.rawValue) role")
    }
}
