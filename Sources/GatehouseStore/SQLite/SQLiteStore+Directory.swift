import Foundation
import GRDB
import GatehouseCore

extension SQLiteStore {
    package func insert(_ workspace: Workspace, firstUser: User) async throws {
        try await write { db in try Self.insert(workspace, firstUser: firstUser, db) }
    }

    package func workspace(id: WorkspaceID) async throws -> Workspace? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM workspaces WHERE id = ?", arguments: [id.description], StoredForm.workspace)
        }
    }

    package func workspace(slug: WorkspaceSlug) async throws -> Workspace? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM workspaces WHERE slug = ?", arguments: [slug.value], StoredForm.workspace)
        }
    }

    package func allWorkspaces() async throws -> [Workspace] {
        try await read { db in
            try db.cachedRows(sql: "SELECT * FROM workspaces ORDER BY created_at, slug", StoredForm.workspace)
        }
    }

    package func insert(_ user: User) async throws {
        try await write { db in try db.insert(StoredForm.row(user)) }
    }

    package func update(_ user: User) async throws {
        try await write { db in try db.update(StoredForm.change(user)) }
    }

    package func user(id: UserID) async throws -> User? {
        try await read { db in
            try db.cachedRow(sql: "SELECT * FROM users WHERE id = ?", arguments: [id.description], StoredForm.user)
        }
    }

    package func user(email: EmailAddress) async throws -> User? {
        try await read { db in
            try db.cachedRow(sql: "SELECT * FROM users WHERE email = ?", arguments: [email.value], StoredForm.user)
        }
    }

    package func users(in workspace: WorkspaceID) async throws -> [User] {
        try await read { db in
            try db.cachedRows(
                sql: "SELECT * FROM users WHERE workspace_id = ? ORDER BY email",
                arguments: [workspace.description], StoredForm.user)
        }
    }

    package func insert(_ department: Department) async throws {
        try await write { db in
            try db.insert(StoredForm.row(department))
        }
    }

    package func department(id: DepartmentID) async throws -> Department? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM departments WHERE id = ?", arguments: [id.description], StoredForm.department)
        }
    }

    package func department(named name: String, in workspace: WorkspaceID) async throws -> Department? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM departments WHERE workspace_id = ? AND name = ?",
                arguments: [workspace.description, name], StoredForm.department)
        }
    }

    package func departments(in workspace: WorkspaceID) async throws -> [Department] {
        try await read { db in
            try db.cachedRows(
                sql: "SELECT * FROM departments WHERE workspace_id = ? ORDER BY name",
                arguments: [workspace.description], StoredForm.department)
        }
    }

    package func passwordLink(digest: SecretDigest) async throws -> PasswordLink? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM password_links WHERE digest = ?", arguments: [digest.hex], StoredForm.passwordLink)
        }
    }

    package func passwordLinks(in workspace: WorkspaceID) async throws -> [PasswordLink] {
        try await read { db in
            try db.cachedRows(
                sql: "SELECT * FROM password_links WHERE workspace_id = ? ORDER BY user_id, purpose",
                arguments: [workspace.description], StoredForm.passwordLink)
        }
    }

    package func secondFactor(of user: UserID) async throws -> StoredSecondFactor? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM second_factors WHERE user_id = ?", arguments: [user.description],
                StoredForm.secondFactor)
        }
    }

    package func unusedRecoveryCodes(of user: UserID) async throws -> Int {
        try await read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL",
                arguments: [user.description]) ?? 0
        }
    }

    package func useTOTPStep(_ step: Int64, of user: UserID) async throws -> Bool {
        try await write { db in
            try db.cachedExecute(
                sql: """
                    UPDATE second_factors SET last_used_step = ?
                    WHERE user_id = ? AND (last_used_step IS NULL OR last_used_step < ?)
                    """,
                arguments: [step, user.description, step])
            return db.changesCount == 1
        }
    }

    package func useRecoveryCode(_ digest: SecretDigest, of user: UserID, at time: Date) async throws -> Bool {
        try await write { db in
            try db.cachedExecute(
                sql: "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND digest = ? AND used_at IS NULL",
                arguments: [StoredValue.date(time).sqlite, user.description, digest.hex])
            return db.changesCount == 1
        }
    }

    // MARK: Statements

    static func insert(_ workspace: Workspace, firstUser: User, _ db: Database) throws {
        try db.insert(StoredForm.row(workspace))
        try db.insert(StoredForm.row(firstUser))
    }

    static func uuid(_ text: String) throws -> UUID {
        guard let uuid = UUID(text: text) else { throw StoreUnavailable("malformed identifier in the database") }
        return uuid
    }
}
