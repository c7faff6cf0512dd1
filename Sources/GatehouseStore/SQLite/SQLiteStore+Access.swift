import Foundation
import GRDB
import GatehouseCore

extension SQLiteStore {
    // MARK: API keys

    package func insert(_ key: APIKey) async throws {
        try await write { db in try db.insert(StoredForm.row(key)) }
    }

    package func update(_ key: APIKey) async throws {
        try await write { db in try db.update(StoredForm.change(key)) }
    }

    package func apiKey(id: APIKeyID) async throws -> APIKey? {
        try await read { db in
            try db.cachedRow(sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id.description], StoredForm.apiKey)
        }
    }

    package func apiKey(digest: KeyDigest) async throws -> APIKey? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM api_keys WHERE secret_digest = ? AND pepper_version = ?",
                arguments: [digest.hex, digest.pepperVersion], StoredForm.apiKey)
        }
    }

    package func apiKeys(in workspace: WorkspaceID, status: KeyStatus?, owner: KeyOwner?) async throws -> [APIKey] {
        var sql = "SELECT * FROM api_keys WHERE workspace_id = ?"
        var arguments: StatementArguments = [workspace.description]
        if let status {
            sql += " AND status = ?"
            _ = arguments.append(contentsOf: [status.rawValue])
        }
        switch owner {
        case .user(let user)?:
            sql += " AND owner_user_id = ?"
            _ = arguments.append(contentsOf: [user.description])
        case .client(let client)?:
            sql += " AND owner_client_id = ?"
            _ = arguments.append(contentsOf: [client.value])
        case nil:
            break
        }
        sql += " ORDER BY created_at DESC, id"
        let query = sql
        let values = arguments
        return try await read { db in try db.cachedRows(sql: query, arguments: values, StoredForm.apiKey) }
    }

    package func recordLastUse(_ uses: [APIKeyID: Date]) async throws {
        try await write { db in
            for (id, date) in uses {
                try db.cachedExecute(
                    sql: """
                        UPDATE api_keys SET last_used_at = ?
                        WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)
                        """,
                    arguments: [date.microsecondsSince1970, id.description, date.microsecondsSince1970])
            }
        }
    }

    // MARK: Scopes

    package func insert(_ definition: ScopeDefinition) async throws {
        try await write { db in try db.insert(StoredForm.row(definition)) }
    }

    package func scopeDefinitions(in workspace: WorkspaceID) async throws -> [ScopeDefinition] {
        try await read { db in
            try db.cachedRows(
                sql: "SELECT * FROM scope_definitions WHERE workspace_id = ? ORDER BY name",
                arguments: [workspace.description]
            ) { row in
                ScopeDefinition(
                    workspaceID: WorkspaceID(try Self.uuid(row["workspace_id"])), scope: try Scope(row["name"]),
                    description: row["description"], roles: try StoredForm.roles(row["roles"]),
                    createdAt: Date(microsecondsSince1970: row["created_at"]))
            }
        }
    }

    // MARK: Rate limits

    package func leaseRequests(bucket: String, windowStart: Date, limit: Int) async throws -> RequestLease {
        windows.lease(bucket, windowStart: StoredForm.windowStart(windowStart), limit: limit)
    }

    package func credentialEpoch() async throws -> Int64 {
        try epoch.read()
    }

    /// Never: the command line changes the file too, and tells no one. The epoch is read from the file instead.
    package var pushedEpochIsCurrent: Bool { false }

    // MARK: Sign-in attempts

    package func countAttempt(bucket: String, windowStart: Date) async throws -> Int {
        signInWindows.count(bucket, windowStart: StoredForm.windowStart(windowStart))
    }

    package func forgiveAttempt(bucket: String, windowStart: Date) async throws {
        signInWindows.forgive(bucket, windowStart: StoredForm.windowStart(windowStart))
    }

    // MARK: Audit

    package func append(_ event: AuditEvent) async throws {
        try await write { db in try db.insert(StoredForm.row(event)) }
    }

    package func apply(_ change: AuditedChange, recording event: AuditEvent) async throws {
        try await write { db in
            for step in change.steps(at: event.occurredAt) { try Self.write(step, db) }
            try db.insert(StoredForm.row(event))
        }
    }

    /// One step of an audited change, in SQLite's dialect.
    static func write(_ step: StoreStep, _ db: Database) throws {
        switch step {
        case .insertWorkspace(let workspace): try db.insert(StoredForm.row(workspace))
        case .updateWorkspace(let workspace): try db.update(StoredForm.change(workspace))
        case .insertUser(let user): try db.insert(StoredForm.row(user))
        case .updateUser(let user): try db.update(StoredForm.change(user))
        case .endSessionsAndGrants(let user, let time): try endSessionsAndGrants(of: user, at: time, db)
        case .endSessions(let user, let kept):
            try db.cachedExecute(
                sql: "DELETE FROM web_sessions WHERE user_id = ? AND digest <> ?",
                arguments: [user.description, kept?.hex ?? ""])
        case .insertPasswordLink(let link): try db.insert(StoredForm.row(link))
        case .deletePasswordLinks(let user, let purpose):
            try db.cachedExecute(
                sql: "DELETE FROM password_links WHERE user_id = ? AND (? IS NULL OR purpose = ?)",
                arguments: [user.description, purpose?.rawValue, purpose?.rawValue])
        case .consumePasswordLink(let digest):
            try db.cachedExecute(sql: "DELETE FROM password_links WHERE digest = ?", arguments: [digest.hex])
            guard db.changesCount == 1 else { throw RecordNotFound("password link") }
        case .putSecondFactor(let factor): try db.insert(StoredForm.row(factor))
        case .replaceRecoveryCodes(let user, let digests):
            try db.cachedExecute(sql: "DELETE FROM recovery_codes WHERE user_id = ?", arguments: [user.description])
            for digest in digests { try db.insert(StoredForm.recoveryCode(digest, of: user)) }
        case .deleteSecondFactor(let user):
            try db.cachedExecute(sql: "DELETE FROM recovery_codes WHERE user_id = ?", arguments: [user.description])
            try db.cachedExecute(sql: "DELETE FROM second_factors WHERE user_id = ?", arguments: [user.description])
        case .insertKey(let key): try db.insert(StoredForm.row(key))
        case .updateKey(let key): try db.update(StoredForm.change(key))
        case .insertScope(let definition): try db.insert(StoredForm.row(definition))
        case .insertClient(let client): try db.insert(StoredForm.row(client))
        case .updateClient(let client): try db.update(StoredForm.change(client))
        case .deleteCodesInFlight(let client):
            try db.cachedExecute(
                sql: "DELETE FROM authorization_codes WHERE client_id = ? AND consumed_at IS NULL",
                arguments: [client.value])
        case .deleteHoldings(let client): try deleteHoldings(of: client, db)
        case .deleteClient(let client): try delete(client, db)
        case .useInitialAccessToken(let id, let time): try useInitialAccessToken(id, at: time, db)
        case .insertInitialAccessToken(let token): try db.insert(StoredForm.row(token))
        case .revokeInitialAccessToken(let token): try db.update(StoredForm.revocation(token))
        case .insertResourceServer(let resource): try db.insert(StoredForm.row(resource))
        case .deleteResourceServer(let id):
            try db.cachedExecute(sql: "DELETE FROM resource_servers WHERE id = ?", arguments: [id.description])
            guard db.changesCount == 1 else { throw RecordNotFound("resource server \(id)") }
        }
    }

    package func auditEvents(in workspace: WorkspaceID, matching query: AuditQuery) async throws -> [AuditEvent] {
        var sql = "SELECT * FROM audit_events WHERE workspace_id = ?"
        var arguments: StatementArguments = [workspace.description]
        if let action = query.action {
            sql += " AND action = ?"
            _ = arguments.append(contentsOf: [action])
        }
        if let actor = query.actorUser {
            sql += " AND actor_user_id = ?"
            _ = arguments.append(contentsOf: [actor.description])
        }
        if let target = query.targetID {
            sql += " AND target_id = ?"
            _ = arguments.append(contentsOf: [target])
        }
        if let before = query.before {
            sql += " AND sequence < ?"
            _ = arguments.append(contentsOf: [before])
        }
        sql += " ORDER BY sequence DESC LIMIT ?"
        _ = arguments.append(contentsOf: [query.limit])
        let statement = sql
        let values = arguments
        return try await read { db in
            try db.cachedRows(sql: statement, arguments: values, StoredForm.auditEvent)
        }
    }

    // MARK: Resource servers

    package func resourceServer(identifier: ResourceIdentifier) async throws -> ResourceServer? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM resource_servers WHERE identifier = ?", arguments: [identifier.value],
                StoredForm.resourceServer)
        }
    }

    package func resourceServer(id: ResourceServerID) async throws -> ResourceServer? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM resource_servers WHERE id = ?", arguments: [id.description],
                StoredForm.resourceServer)
        }
    }

    package func resourceServers(in workspace: WorkspaceID) async throws -> [ResourceServer] {
        try await read { db in
            try db.cachedRows(
                sql: "SELECT * FROM resource_servers WHERE workspace_id = ? ORDER BY identifier",
                arguments: [workspace.description], StoredForm.resourceServer)
        }
    }

    // MARK: Statements

}
