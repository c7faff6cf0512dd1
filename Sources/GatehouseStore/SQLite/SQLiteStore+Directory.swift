import Foundation
import GRDB
import GatehouseCore

extension SQLiteStore {
    package func insert(_ workspace: Workspace, firstUser: User) async throws {
        try await write { db in try Self.insert(workspace, firstUser: firstUser, db) }
    }

    package func workspace(id: WorkspaceID) async throws -> Workspace? {
        try await read { db in
            try db.cachedRow(sql: "SELECT * FROM workspaces WHERE id = ?", arguments: [id.description], Self.workspace)
        }
    }

    package func workspace(slug: WorkspaceSlug) async throws -> Workspace? {
        try await read { db in
            try db.cachedRow(sql: "SELECT * FROM workspaces WHERE slug = ?", arguments: [slug.value], Self.workspace)
        }
    }

    package func allWorkspaces() async throws -> [Workspace] {
        try await read { db in
            try db.cachedRows(sql: "SELECT * FROM workspaces ORDER BY created_at, slug", Self.workspace)
        }
    }

    package func insert(_ user: User) async throws {
        try await write { db in try Self.insert(user, db) }
    }

    package func update(_ user: User) async throws {
        try await write { db in try Self.update(user, db) }
    }

    package func user(id: UserID) async throws -> User? {
        try await read { db in
            try db.cachedRow(sql: "SELECT * FROM users WHERE id = ?", arguments: [id.description], Self.user)
        }
    }

    package func user(email: EmailAddress) async throws -> User? {
        try await read { db in
            try db.cachedRow(sql: "SELECT * FROM users WHERE email = ?", arguments: [email.value], Self.user)
        }
    }

    package func users(in workspace: WorkspaceID) async throws -> [User] {
        try await read { db in
            try db.cachedRows(
                sql: "SELECT * FROM users WHERE workspace_id = ? ORDER BY email",
                arguments: [workspace.description], Self.user)
        }
    }

    package func insert(_ department: Department) async throws {
        try await write { db in
            try db.cachedExecute(
                sql: "INSERT INTO departments (id, workspace_id, name, created_at) VALUES (?, ?, ?, ?)",
                arguments: [
                    department.id.description, department.workspaceID.description, department.name,
                    department.createdAt.microsecondsSince1970,
                ])
        }
    }

    package func department(id: DepartmentID) async throws -> Department? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM departments WHERE id = ?", arguments: [id.description], Self.department)
        }
    }

    package func department(named name: String, in workspace: WorkspaceID) async throws -> Department? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM departments WHERE workspace_id = ? AND name = ?",
                arguments: [workspace.description, name], Self.department)
        }
    }

    package func departments(in workspace: WorkspaceID) async throws -> [Department] {
        try await read { db in
            try db.cachedRows(
                sql: "SELECT * FROM departments WHERE workspace_id = ? ORDER BY name",
                arguments: [workspace.description], Self.department)
        }
    }

    // MARK: Rows

    static func insert(_ workspace: Workspace, firstUser: User, _ db: Database) throws {
        try db.cachedExecute(
            sql: "INSERT INTO workspaces (id, name, slug, created_at) VALUES (?, ?, ?, ?)",
            arguments: [
                workspace.id.description, workspace.name, workspace.slug.value,
                workspace.createdAt.microsecondsSince1970,
            ])
        try insert(firstUser, db)
    }

    static func update(_ user: User, _ db: Database) throws {
        try db.cachedExecute(
            sql: """
                UPDATE users SET email = ?, name = ?, employee_id = ?, title = ?, department_id = ?,
                    manager_id = ?, role = ?, is_active = ?, privacy_notice_accepted_at = ?, password_hash = ?,
                    updated_at = ?
                WHERE id = ? AND workspace_id = ?
                """,
            arguments: [
                user.email.value, user.name, user.employeeID, user.title, user.departmentID?.description,
                user.managerID?.description, user.role.rawValue, user.isActive,
                user.privacyNoticeAcceptedAt?.microsecondsSince1970, user.passwordHash?.encoded,
                user.updatedAt.microsecondsSince1970, user.id.description, user.workspaceID.description,
            ])
        guard db.changesCount == 1 else { throw RecordNotFound("user \(user.id)") }
    }

    static func insert(_ user: User, _ db: Database) throws {
        try db.cachedExecute(
            sql: """
                INSERT INTO users (id, workspace_id, email, name, employee_id, title, department_id, manager_id, role,
                    is_active, privacy_notice_accepted_at, password_hash, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                user.id.description, user.workspaceID.description, user.email.value, user.name, user.employeeID,
                user.title, user.departmentID?.description, user.managerID?.description, user.role.rawValue,
                user.isActive, user.privacyNoticeAcceptedAt?.microsecondsSince1970, user.passwordHash?.encoded,
                user.createdAt.microsecondsSince1970, user.updatedAt.microsecondsSince1970,
            ])
    }

    private static func workspace(_ row: Row) throws -> Workspace {
        Workspace(
            id: WorkspaceID(try uuid(row["id"])), name: row["name"], slug: try WorkspaceSlug(row["slug"]),
            createdAt: Date(microsecondsSince1970: row["created_at"]))
    }

    private static func user(_ row: Row) throws -> User {
        let departmentID: String? = row["department_id"]
        let managerID: String? = row["manager_id"]
        let accepted: Int64? = row["privacy_notice_accepted_at"]
        let hash: String? = row["password_hash"]
        return User(
            id: UserID(try uuid(row["id"])), workspaceID: WorkspaceID(try uuid(row["workspace_id"])),
            email: EmailAddress(stored: row["email"]), name: row["name"], employeeID: row["employee_id"],
            title: row["title"], departmentID: try departmentID.map { DepartmentID(try uuid($0)) },
            managerID: try managerID.map { UserID(try uuid($0)) }, role: try Role(parsing: row["role"]),
            isActive: row["is_active"], privacyNoticeAcceptedAt: accepted.map(Date.init(microsecondsSince1970:)),
            passwordHash: hash.map(PasswordHash.init(encoded:)),
            createdAt: Date(microsecondsSince1970: row["created_at"]),
            updatedAt: Date(microsecondsSince1970: row["updated_at"]))
    }

    private static func department(_ row: Row) throws -> Department {
        Department(
            id: DepartmentID(try uuid(row["id"])), workspaceID: WorkspaceID(try uuid(row["workspace_id"])),
            name: row["name"], createdAt: Date(microsecondsSince1970: row["created_at"]))
    }

    static func uuid(_ text: String) throws -> UUID {
        guard let uuid = UUID(text: text) else { throw StoreUnavailable("malformed identifier in the database") }
        return uuid
    }
}
