import Foundation
import GatehouseCore
import PostgresNIO

extension PostgresStore {
    package func insert(_ workspace: Workspace, firstUser: User) async throws {
        try await transaction { connection in
            try await connection.query(StoredForm.row(workspace).postgresQuery, logger: self.logger)
            try await connection.query(StoredForm.row(firstUser).postgresQuery, logger: self.logger)
        }
    }

    package func workspace(id: WorkspaceID) async throws -> Workspace? {
        try await rows("SELECT * FROM workspaces WHERE id = \(id.rawValue)").first.map(StoredForm.workspace)
    }

    package func workspace(slug: WorkspaceSlug) async throws -> Workspace? {
        try await rows("SELECT * FROM workspaces WHERE slug = \(slug.value)").first.map(StoredForm.workspace)
    }

    package func allWorkspaces() async throws -> [Workspace] {
        try await rows("SELECT * FROM workspaces ORDER BY created_at, slug").map(StoredForm.workspace)
    }

    package func insert(_ user: User) async throws {
        _ = try await rows(StoredForm.row(user).postgresQuery)
    }

    package func update(_ user: User) async throws {
        let updated = try await changing(StoredForm.change(user).postgresQuery)
        guard updated.count == 1 else { throw RecordNotFound("user \(user.id)") }
    }

    package func user(id: UserID) async throws -> User? {
        try await rows("SELECT * FROM users WHERE id = \(id.rawValue)").first.map(StoredForm.user)
    }

    package func user(email: EmailAddress) async throws -> User? {
        try await rows("SELECT * FROM users WHERE email = \(email.value)").first.map(StoredForm.user)
    }

    package func users(in workspace: WorkspaceID) async throws -> [User] {
        try await rows("SELECT * FROM users WHERE workspace_id = \(workspace.rawValue) ORDER BY email").map(
            StoredForm.user)
    }

    package func passwordLink(digest: SecretDigest) async throws -> PasswordLink? {
        try await rows("SELECT * FROM password_links WHERE digest = \(digest.hex)").first.map(StoredForm.passwordLink)
    }

    package func passwordLinks(in workspace: WorkspaceID) async throws -> [PasswordLink] {
        try await rows(
            "SELECT * FROM password_links WHERE workspace_id = \(workspace.rawValue) ORDER BY user_id, purpose"
        ).map(StoredForm.passwordLink)
    }

    package func secondFactor(of user: UserID) async throws -> StoredSecondFactor? {
        try await rows("SELECT * FROM second_factors WHERE user_id = \(user.rawValue)").first.map(
            StoredForm.secondFactor)
    }

    package func unusedRecoveryCodes(of user: UserID) async throws -> Int {
        try await rows(
            "SELECT count(*) AS unused FROM recovery_codes WHERE user_id = \(user.rawValue) AND used_at IS NULL"
        ).first?["unused"].decode(Int.self) ?? 0
    }

    package func useTOTPStep(_ step: Int64, of user: UserID) async throws -> Bool {
        try await !rows(
            """
            UPDATE second_factors SET last_used_step = \(step)
            WHERE user_id = \(user.rawValue) AND (last_used_step IS NULL OR last_used_step < \(step))
            RETURNING user_id
            """
        ).isEmpty
    }

    package func useRecoveryCode(_ digest: SecretDigest, of user: UserID, at time: Date) async throws -> Bool {
        try await !rows(
            """
            UPDATE recovery_codes SET used_at = \(time)
            WHERE user_id = \(user.rawValue) AND digest = \(digest.hex) AND used_at IS NULL
            RETURNING digest
            """
        ).isEmpty
    }

    package func insert(_ department: Department) async throws {
        _ = try await rows(StoredForm.row(department).postgresQuery)
    }

    package func department(id: DepartmentID) async throws -> Department? {
        try await rows("SELECT * FROM departments WHERE id = \(id.rawValue)").first.map(StoredForm.department)
    }

    package func department(named name: String, in workspace: WorkspaceID) async throws -> Department? {
        try await rows("SELECT * FROM departments WHERE workspace_id = \(workspace.rawValue) AND name = \(name)")
            .first.map(StoredForm.department)
    }

    package func departments(in workspace: WorkspaceID) async throws -> [Department] {
        try await rows("SELECT * FROM departments WHERE workspace_id = \(workspace.rawValue) ORDER BY name")
            .map(StoredForm.department)
    }

    // MARK: Statements

}
