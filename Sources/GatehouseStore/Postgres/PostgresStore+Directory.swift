import Foundation
import GatehouseCore
import PostgresNIO

extension PostgresStore {
    package func insert(_ workspace: Workspace, firstUser: User) async throws {
        try await transaction { connection in
            try await connection.query(Self.insertQuery(workspace), logger: logger)
            try await connection.query(Self.insertQuery(firstUser), logger: logger)
        }
    }

    package func workspace(id: WorkspaceID) async throws -> Workspace? {
        try await rows("SELECT * FROM workspaces WHERE id = \(id.rawValue)").first.map(Self.workspace)
    }

    package func workspace(slug: WorkspaceSlug) async throws -> Workspace? {
        try await rows("SELECT * FROM workspaces WHERE slug = \(slug.value)").first.map(Self.workspace)
    }

    package func allWorkspaces() async throws -> [Workspace] {
        try await rows("SELECT * FROM workspaces ORDER BY created_at, slug").map(Self.workspace)
    }

    package func insert(_ user: User) async throws {
        _ = try await rows(Self.insertQuery(user))
    }

    package func update(_ user: User) async throws {
        let updated = try await rows(Self.updateQuery(user))
        guard updated.count == 1 else { throw RecordNotFound("user \(user.id)") }
    }

    package func user(id: UserID) async throws -> User? {
        try await rows("SELECT * FROM users WHERE id = \(id.rawValue)").first.map(Self.user)
    }

    package func user(email: EmailAddress) async throws -> User? {
        try await rows("SELECT * FROM users WHERE email = \(email.value)").first.map(Self.user)
    }

    package func users(in workspace: WorkspaceID) async throws -> [User] {
        try await rows("SELECT * FROM users WHERE workspace_id = \(workspace.rawValue) ORDER BY email").map(Self.user)
    }

    package func insert(_ department: Department) async throws {
        _ = try await rows(
            """
            INSERT INTO departments (id, workspace_id, name, created_at)
            VALUES (\(department.id.rawValue), \(department.workspaceID.rawValue), \(department.name),
                \(department.createdAt))
            """)
    }

    package func department(id: DepartmentID) async throws -> Department? {
        try await rows("SELECT * FROM departments WHERE id = \(id.rawValue)").first.map(Self.department)
    }

    package func department(named name: String, in workspace: WorkspaceID) async throws -> Department? {
        try await rows("SELECT * FROM departments WHERE workspace_id = \(workspace.rawValue) AND name = \(name)")
            .first.map(Self.department)
    }

    package func departments(in workspace: WorkspaceID) async throws -> [Department] {
        try await rows("SELECT * FROM departments WHERE workspace_id = \(workspace.rawValue) ORDER BY name")
            .map(Self.department)
    }

    // MARK: Rows

    static func insertQuery(_ workspace: Workspace) -> PostgresQuery {
        """
        INSERT INTO workspaces (id, name, slug, created_at)
        VALUES (\(workspace.id.rawValue), \(workspace.name), \(workspace.slug.value), \(workspace.createdAt))
        """
    }

    /// Returns the updated row's id, so an update of a missing user is noticed.
    static func updateQuery(_ user: User) -> PostgresQuery {
        """
        UPDATE users SET email = \(user.email.value), name = \(user.name), employee_id = \(user.employeeID),
            title = \(user.title), department_id = \(user.departmentID?.rawValue),
            manager_id = \(user.managerID?.rawValue), role = \(user.role.rawValue), is_active = \(user.isActive),
            privacy_notice_accepted_at = \(user.privacyNoticeAcceptedAt),
            password_hash = \(user.passwordHash?.encoded), updated_at = \(user.updatedAt)
        WHERE id = \(user.id.rawValue) AND workspace_id = \(user.workspaceID.rawValue)
        RETURNING id
        """
    }

    static func insertQuery(_ user: User) -> PostgresQuery {
        """
        INSERT INTO users (id, workspace_id, email, name, employee_id, title, department_id, manager_id, role,
            is_active, privacy_notice_accepted_at, password_hash, created_at, updated_at)
        VALUES (\(user.id.rawValue), \(user.workspaceID.rawValue), \(user.email.value), \(user.name),
            \(user.employeeID), \(user.title), \(user.departmentID?.rawValue), \(user.managerID?.rawValue),
            \(user.role.rawValue), \(user.isActive), \(user.privacyNoticeAcceptedAt), \(user.passwordHash?.encoded),
            \(user.createdAt), \(user.updatedAt))
        """
    }

    private static func workspace(_ row: PostgresRandomAccessRow) throws -> Workspace {
        Workspace(
            id: WorkspaceID(try row["id"].decode(UUID.self)), name: try row["name"].decode(String.self),
            slug: try WorkspaceSlug(try row["slug"].decode(String.self)),
            createdAt: try row["created_at"].decode(Date.self))
    }

    private static func user(_ row: PostgresRandomAccessRow) throws -> User {
        User(
            id: UserID(try row["id"].decode(UUID.self)),
            workspaceID: WorkspaceID(try row["workspace_id"].decode(UUID.self)),
            email: EmailAddress(stored: try row["email"].decode(String.self)),
            name: try row["name"].decode(String.self),
            employeeID: try row["employee_id"].decode(String?.self), title: try row["title"].decode(String?.self),
            departmentID: try row["department_id"].decode(UUID?.self).map(DepartmentID.init),
            managerID: try row["manager_id"].decode(UUID?.self).map(UserID.init),
            role: try Role(parsing: try row["role"].decode(String.self)),
            isActive: try row["is_active"].decode(Bool.self),
            privacyNoticeAcceptedAt: try row["privacy_notice_accepted_at"].decode(Date?.self),
            passwordHash: try row["password_hash"].decode(String?.self).map(PasswordHash.init(encoded:)),
            createdAt: try row["created_at"].decode(Date.self), updatedAt: try row["updated_at"].decode(Date.self))
    }

    private static func department(_ row: PostgresRandomAccessRow) throws -> Department {
        Department(
            id: DepartmentID(try row["id"].decode(UUID.self)),
            workspaceID: WorkspaceID(try row["workspace_id"].decode(UUID.self)),
            name: try row["name"].decode(String.self), createdAt: try row["created_at"].decode(Date.self))
    }
}
