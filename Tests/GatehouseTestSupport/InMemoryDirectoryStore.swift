import Foundation
import GatehouseCore

/// A directory store with its audit trail in memory, for domain unit tests that should touch no disk or
/// network.
///
/// It enforces the same uniqueness rules as the real backends, which the conformance suite pins down. It
/// keeps no keys or scopes of the workspaces' own: changes to those are refused as unsupported.
package actor InMemoryDirectoryStore: DirectoryStore, AuditStore, ScopeStore, PasswordLinkStore, SecondFactorStore {
    private var events: [AuditEvent] = []
    private var workspaces: [WorkspaceID: Workspace] = [:]
    private var users: [UserID: User] = [:]
    private var departments: [DepartmentID: Department] = [:]
    private var links: [PasswordLink] = []

    package init() {}

    package func insert(_ workspace: Workspace, firstUser: User) throws {
        guard !workspaces.values.contains(where: { $0.slug == workspace.slug }) else {
            throw UniqueViolation(.workspaceSlug)
        }
        try checkEmailFree(firstUser.email)
        workspaces[workspace.id] = workspace
        users[firstUser.id] = firstUser
    }

    package func workspace(id: WorkspaceID) -> Workspace? { workspaces[id] }
    package func workspace(slug: WorkspaceSlug) -> Workspace? { workspaces.values.first { $0.slug == slug } }
    package func allWorkspaces() -> [Workspace] { workspaces.values.sorted { $0.createdAt < $1.createdAt } }

    package func insert(_ user: User) throws {
        try checkEmailFree(user.email)
        users[user.id] = user
    }

    package func update(_ user: User) throws {
        guard users[user.id] != nil else { throw RecordNotFound("user \(user.id)") }
        users[user.id] = user
    }

    package func user(id: UserID) -> User? { users[id] }
    package func user(email: EmailAddress) -> User? { users.values.first { $0.email == email } }
    package func users(in workspace: WorkspaceID) -> [User] {
        users.values.filter { $0.workspaceID == workspace }.sorted { $0.email.value < $1.email.value }
    }

    package func insert(_ department: Department) throws {
        guard
            !departments.values.contains(where: {
                $0.workspaceID == department.workspaceID && $0.name == department.name
            })
        else { throw UniqueViolation(.departmentName) }
        departments[department.id] = department
    }

    package func department(id: DepartmentID) -> Department? { departments[id] }
    package func department(named name: String, in workspace: WorkspaceID) -> Department? {
        departments.values.first { $0.workspaceID == workspace && $0.name == name }
    }
    package func departments(in workspace: WorkspaceID) -> [Department] {
        departments.values.filter { $0.workspaceID == workspace }.sorted { $0.name < $1.name }
    }

    private func checkEmailFree(_ email: EmailAddress) throws {
        guard !users.values.contains(where: { $0.email == email }) else { throw UniqueViolation(.userEmail) }
    }

    package func append(_ event: AuditEvent) {
        var event = event
        event.sequence = Int64(events.count + 1)
        events.append(event)
    }

    package func apply(_ change: AuditedChange, recording event: AuditEvent) throws {
        switch change {
        case .insertWorkspace(let workspace, let firstUser): try insert(workspace, firstUser: firstUser)
        case .insertUser(let user): try insert(user)
        case .updateWorkspace(let workspace):
            guard workspaces[workspace.id] != nil else { throw RecordNotFound("workspace \(workspace.id)") }
            workspaces[workspace.id] = workspace
        case .updateUser(let user), .deactivateUser(let user), .changePassword(let user, _): try update(user)
        // This store keeps no sessions.
        case .endSessions: break
        case .inviteUser(let user, let link):
            try insert(user)
            links.append(link)
        case .issuePasswordLink(let user, let link):
            links.removeAll { $0.userID == user.id && $0.purpose == link.purpose }
            links.append(link)
        case .cancelPasswordLink(let user, let purpose):
            links.removeAll { $0.userID == user.id && $0.purpose == purpose }
        case .setPasswordWithLink(let user, let link):
            guard links.contains(link) else { throw RecordNotFound("password link") }
            try update(user)
            links.removeAll { $0.userID == user.id }
        case .insertKey, .updateKey, .insertScope, .insertClient, .updateClient, .deleteClient, .insertResourceServer,
            .deleteResourceServer, .registerClient, .issueInitialAccessToken, .revokeInitialAccessToken,
            .startTwoFactor,
            .confirmTwoFactor, .replaceRecoveryCodes, .removeTwoFactor:
            throw Unsupported()
        }
        append(event)
    }

    package func auditEvents(in workspace: WorkspaceID, matching query: AuditQuery) -> [AuditEvent] {
        let matching = events.reversed().filter { event in
            event.workspaceID == workspace && (query.action == nil || query.action == event.action)
        }
        return Array(matching.prefix(query.limit))
    }

    package func passwordLink(digest: SecretDigest) -> PasswordLink? { links.first { $0.digest == digest } }
    package func passwordLinks(in workspace: WorkspaceID) -> [PasswordLink] {
        links.filter { $0.workspaceID == workspace }
    }

    // This store keeps no second factors.
    package func secondFactor(of user: UserID) -> StoredSecondFactor? { nil }
    package func unusedRecoveryCodes(of user: UserID) -> Int { 0 }
    package func useTOTPStep(_ step: Int64, of user: UserID) -> Bool { false }
    package func useRecoveryCode(_ digest: SecretDigest, of user: UserID, at time: Date) -> Bool { false }

    package func insert(_ definition: ScopeDefinition) throws { throw Unsupported() }
    package func scopeDefinitions(in workspace: WorkspaceID) -> [ScopeDefinition] { [] }

    /// This store keeps only the directory.
    package struct Unsupported: Error {}
}
