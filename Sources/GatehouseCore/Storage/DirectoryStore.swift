/// Persists workspaces. Implementations hold no rules beyond integrity.
package protocol WorkspaceStore: Sendable {
    /// Stores a new workspace together with its first user, in one transaction.
    func insert(_ workspace: Workspace, firstUser: User) async throws
    func workspace(id: WorkspaceID) async throws -> Workspace?
    func workspace(slug: WorkspaceSlug) async throws -> Workspace?
    /// All workspaces, oldest first.
    func allWorkspaces() async throws -> [Workspace]
}

/// Persists users.
package protocol UserStore: Sendable {
    func insert(_ user: User) async throws
    /// Replaces the stored user with the same id; throws `RecordNotFound` when there is none.
    func update(_ user: User) async throws
    func user(id: UserID) async throws -> User?
    func user(email: EmailAddress) async throws -> User?
    /// The workspace's users, ordered by email.
    func users(in workspace: WorkspaceID) async throws -> [User]
}

/// Persists departments.
package protocol DepartmentStore: Sendable {
    func insert(_ department: Department) async throws
    func department(id: DepartmentID) async throws -> Department?
    func department(named name: String, in workspace: WorkspaceID) async throws -> Department?
    /// The workspace's departments, ordered by name.
    func departments(in workspace: WorkspaceID) async throws -> [Department]
}

/// Everything the directory (workspaces, users, departments) needs from storage.
package typealias DirectoryStore = WorkspaceStore & UserStore & DepartmentStore

/// A uniqueness rule the store enforces, named in the domain's words.
package enum UniqueField: String, Sendable {
    case workspaceSlug = "workspace slug"
    case userEmail = "user email"
    case departmentName = "department name"
    case scopeName = "scope name"
    case apiKeyDigest = "API key digest"
    case clientID = "client_id"
    case resourceIdentifier = "resource identifier"
}

/// A write broke a uniqueness rule; the domain turns it into a `DomainError.conflict` for the caller.
package struct UniqueViolation: Error, Equatable, Sendable {
    package let field: UniqueField
    package init(_ field: UniqueField) { self.field = field }
}

/// An update named a record that is not there.
package struct RecordNotFound: Error, Equatable, Sendable {
    package let what: String
    package init(_ what: String) { self.what = what }
}

extension UniqueField {
    /// What the person who made the request is told.
    package var conflictMessage: String {
        switch self {
        case .workspaceSlug: "A workspace with that slug already exists."
        case .userEmail: "A user with that email already exists."
        case .departmentName: "A department with that name already exists in this workspace."
        case .scopeName: "This workspace already defines that scope."
        case .apiKeyDigest: "That key already exists."
        case .clientID: "A client application with that client_id already exists; choose another."
        case .resourceIdentifier: "A resource server with that identifier is registered already."
        }
    }
}

/// Runs a write, turning the store's `UniqueViolation` into the domain's `conflict`.
package func translatingConflicts<T>(_ write: () async throws -> T) async throws -> T {
    do {
        return try await write()
    } catch let violation as UniqueViolation {
        throw DomainError.conflict(violation.field.conflictMessage)
    }
}
