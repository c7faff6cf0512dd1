/// Who is asking the domain to do something: a verified principal (from the API), or the operator at the
/// command line, who has shell access to the installation and so may do anything.
package struct Caller: Sendable {
    /// Nil for the operator.
    package var principal: Principal?
    /// The client address of the request, for the audit trail.
    package var address: String?

    /// How the audit trail names an operator acting without a credential.
    private let operatorName: String

    package init(_ principal: Principal, address: String?) {
        self.principal = principal
        self.address = address
        self.operatorName = ""
    }

    private init(operatorName: String) {
        self.principal = nil
        self.address = nil
        self.operatorName = operatorName
    }

    /// The operator at the command line.
    package static let commandLine = Caller(operatorName: AuditActor.commandLine.credential)

    /// The server preparing an empty installation on its first start.
    package static let firstRun = Caller(operatorName: "first_run")

    package var actor: AuditActor { principal?.actor ?? AuditActor(user: nil, credential: operatorName) }

    /// The role bounding this caller; the operator is treated as a super admin.
    package var role: Role { principal?.role ?? .superAdmin }

    /// Throws `forbidden` unless the caller holds `scope`.
    package func require(_ scope: Scope) throws(DomainError) {
        try principal?.require(scope)
    }

    /// Whether the caller may see records of `workspace`; another workspace's records are reported missing.
    package func canSee(_ workspace: WorkspaceID) -> Bool {
        principal.map { $0.workspaceID == workspace } ?? true
    }

    /// Of `scopes`, those the caller holds (all of them for the operator).
    package func held(of scopes: Set<Scope>) -> Set<Scope> {
        principal.map { scopes.intersection($0.scopes) } ?? scopes
    }

    /// Whether the caller holds every scope in `scopes`, so may hand them to someone else.
    package func holds(_ scopes: Set<Scope>) -> Bool {
        principal.map { scopes.isSubset(of: $0.scopes) } ?? true
    }
}

extension UserStore {
    /// The user `id` if the caller may see them; otherwise `notFound`, so another workspace's users look
    /// exactly like ones that do not exist.
    package func user(_ id: UserID, visibleTo caller: Caller) async throws -> User {
        guard let user = try await user(id: id), caller.canSee(user.workspaceID) else {
            throw DomainError.notFound("There is no user with that id.")
        }
        return user
    }
}
