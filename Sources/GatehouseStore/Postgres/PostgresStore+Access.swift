import Foundation
import GatehouseCore
import PostgresNIO

extension PostgresStore {
    // MARK: API keys

    package func insert(_ key: APIKey) async throws {
        _ = try await rows(StoredForm.row(key).postgresQuery)
    }

    package func update(_ key: APIKey) async throws {
        let updated = try await changing(StoredForm.change(key).postgresQuery)
        guard updated.count == 1 else { throw RecordNotFound("api key \(key.id)") }
    }

    package func apiKey(id: APIKeyID) async throws -> APIKey? {
        try await rows("SELECT * FROM api_keys WHERE id = \(id.rawValue)").first.map(StoredForm.apiKey)
    }

    package func apiKey(digest: KeyDigest) async throws -> APIKey? {
        try await rows(
            """
            SELECT * FROM api_keys WHERE secret_digest = \(digest.hex) AND pepper_version = \(digest.pepperVersion)
            """
        ).first.map(StoredForm.apiKey)
    }

    package func apiKeys(in workspace: WorkspaceID, status: KeyStatus?, owner: KeyOwner?) async throws -> [APIKey] {
        let status = status?.rawValue
        let ownerUser = owner.flatMap { StoredForm.owner($0).user?.rawValue }
        let ownerClient = owner.flatMap { StoredForm.owner($0).client?.value }
        return try await rows(
            """
            SELECT * FROM api_keys
            WHERE workspace_id = \(workspace.rawValue)
                AND (\(status)::text IS NULL OR status = \(status))
                AND (\(ownerUser)::uuid IS NULL OR owner_user_id = \(ownerUser))
                AND (\(ownerClient)::text IS NULL OR owner_client_id = \(ownerClient))
            ORDER BY created_at DESC, id
            """
        ).map(StoredForm.apiKey)
    }

    package func recordLastUse(_ uses: [APIKeyID: Date]) async throws {
        let ids = uses.keys.map(\.rawValue)
        let dates = uses.keys.map { uses[$0] ?? Date(timeIntervalSince1970: 0) }
        _ = try await rows(
            """
            UPDATE api_keys AS k SET last_used_at = u.at
            FROM unnest(\(ids)::uuid[], \(dates)::timestamptz[]) AS u(id, at)
            WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)
            """)
    }

    // MARK: Scopes

    package func insert(_ definition: ScopeDefinition) async throws {
        _ = try await changing(StoredForm.row(definition).postgresQuery)
    }

    package func scopeDefinitions(in workspace: WorkspaceID) async throws -> [ScopeDefinition] {
        try await rows("SELECT * FROM scope_definitions WHERE workspace_id = \(workspace.rawValue) ORDER BY name")
            .map { row in
                ScopeDefinition(
                    workspaceID: WorkspaceID(try row["workspace_id"].decode(UUID.self)),
                    scope: try Scope(try row["name"].decode(String.self)),
                    description: try row["description"].decode(String.self),
                    roles: try StoredForm.roles(try row["roles"].decode(String.self)),
                    createdAt: try row["created_at"].decode(Date.self))
            }
    }

    // MARK: Rate limits

    package func leaseRequests(bucket: String, windowStart: Date, limit: Int) async throws -> RequestLease {
        let start = StoredForm.windowStart(windowStart)
        let first = RateLimiter.leaseSize(left: limit)
        // `RateLimiter.leaseSize(left:)` in SQL, of what the count before this statement leaves: both columns are
        // set from the old row, in one atomic step, so the count stops at the limit whoever asks.
        let leased = try await rows(
            """
            INSERT INTO rate_limit_windows AS w (bucket, window_start, count, granted)
            VALUES (\(bucket), \(start), \(first), \(first))
            ON CONFLICT (bucket, window_start) DO UPDATE SET
                granted = LEAST(GREATEST(\(limit) - w.count, 0), GREATEST(1, (\(limit) - w.count) / 10)),
                count = w.count + LEAST(GREATEST(\(limit) - w.count, 0), GREATEST(1, (\(limit) - w.count) / 10))
            RETURNING count, granted
            """)
        let count = try leased.first?["count"].decode(Int.self) ?? 0
        let granted = try leased.first?["granted"].decode(Int.self) ?? 0
        if count == granted {
            // The window's first lease clears the bucket's finished windows.
            _ = try await rows("DELETE FROM rate_limit_windows WHERE bucket = \(bucket) AND window_start < \(start)")
        }
        return RequestLease(granted: granted, count: count)
    }

    package func credentialEpoch() async throws -> Int64 {
        try await rows("SELECT value FROM credential_epoch WHERE id = 1").first?["value"].decode(Int64.self) ?? 0
    }

    // MARK: Sign-in attempts

    package func countAttempt(bucket: String, windowStart: Date) async throws -> Int {
        let start = StoredForm.windowStart(windowStart)
        let counted = try await rows(
            """
            INSERT INTO sign_in_attempts (bucket, window_start, count) VALUES (\(bucket), \(start), 1)
            ON CONFLICT (bucket, window_start) DO UPDATE SET count = sign_in_attempts.count + 1
            RETURNING count
            """)
        let count = try counted.first?["count"].decode(Int.self) ?? 0
        if count == 1 {
            // The first attempt of a window clears the bucket's finished windows.
            _ = try await rows("DELETE FROM sign_in_attempts WHERE bucket = \(bucket) AND window_start < \(start)")
        }
        return count
    }

    package func forgiveAttempt(bucket: String, windowStart: Date) async throws {
        let start = StoredForm.windowStart(windowStart)
        _ = try await rows(
            """
            UPDATE sign_in_attempts SET count = count - 1
            WHERE bucket = \(bucket) AND window_start = \(start) AND count > 0
            """)
    }

    // MARK: Audit

    package func append(_ event: AuditEvent) async throws {
        _ = try await rows(StoredForm.row(event).postgresQuery)
    }

    package func apply(_ change: AuditedChange, recording event: AuditEvent) async throws {
        try await transaction { connection in
            for step in change.steps(at: event.occurredAt) {
                let (queries, record) = Self.queries(step)
                for (index, query) in queries.enumerated() {
                    let changed = try await Self.count(query, on: connection, logger: self.logger)
                    // An update or deletion names its record in its last query, so that changing nothing is noticed.
                    if let record, index == queries.count - 1, changed != 1 { throw RecordNotFound(record) }
                }
            }
            try await connection.query(StoredForm.row(event).postgresQuery, logger: self.logger)
        }
    }

    /// One step of an audited change in PostgreSQL's dialect, and the record its last query must change.
    static func queries(_ step: StoreStep) -> (queries: [PostgresQuery], record: String?) {
        switch step {
        case .insertWorkspace(let workspace): ([StoredForm.row(workspace).postgresQuery], nil)
        case .updateWorkspace(let workspace):
            ([StoredForm.change(workspace).postgresQuery], "workspace \(workspace.id)")
        case .insertUser(let user): ([StoredForm.row(user).postgresQuery], nil)
        case .updateUser(let user): ([StoredForm.change(user).postgresQuery], "user \(user.id)")
        case .endSessionsAndGrants(let user, let time): (endSessionsAndGrantsQueries(of: user, at: time), nil)
        case .endSessions(let user, let kept):
            (["DELETE FROM web_sessions WHERE user_id = \(user.rawValue) AND digest <> \(kept?.hex ?? "")"], nil)
        case .insertPasswordLink(let link): ([StoredForm.row(link).postgresQuery], nil)
        case .deletePasswordLinks(let user, let purpose): ([deleteLinksQuery(of: user, purpose?.rawValue)], nil)
        case .consumePasswordLink(let digest):
            (["DELETE FROM password_links WHERE digest = \(digest.hex) RETURNING digest"], "password link")
        case .putSecondFactor(let factor): ([StoredForm.row(factor).postgresQuery], nil)
        case .replaceRecoveryCodes(let user, let digests):
            (
                ["DELETE FROM recovery_codes WHERE user_id = \(user.rawValue)"]
                    + digests.map { StoredForm.recoveryCode($0, of: user).postgresQuery }, nil
            )
        case .deleteSecondFactor(let user):
            (
                [
                    "DELETE FROM recovery_codes WHERE user_id = \(user.rawValue)",
                    "DELETE FROM second_factors WHERE user_id = \(user.rawValue)",
                ], nil
            )
        case .insertKey(let key): ([StoredForm.row(key).postgresQuery], nil)
        case .updateKey(let key): ([StoredForm.change(key).postgresQuery], "api key \(key.id)")
        case .insertScope(let definition): ([StoredForm.row(definition).postgresQuery], nil)
        case .insertClient(let client): ([StoredForm.row(client).postgresQuery], nil)
        case .updateClient(let client): ([StoredForm.change(client).postgresQuery], "client \(client.id)")
        case .deleteCodesInFlight(let client):
            (["DELETE FROM authorization_codes WHERE client_id = \(client.value) AND consumed_at IS NULL"], nil)
        case .deleteHoldings(let client): (deleteHoldingsQueries(of: client), nil)
        case .deleteClient(let client): ([deleteQuery(client)], "client \(client.id)")
        case .useInitialAccessToken(let id, let time):
            ([useInitialAccessTokenQuery(id, at: time)], "initial access token \(id)")
        case .insertInitialAccessToken(let token): ([StoredForm.row(token).postgresQuery], nil)
        case .revokeInitialAccessToken(let token):
            ([StoredForm.revocation(token).postgresQuery], "initial access token \(token.id)")
        case .insertResourceServer(let resource): ([StoredForm.row(resource).postgresQuery], nil)
        case .deleteResourceServer(let id):
            (["DELETE FROM resource_servers WHERE id = \(id.rawValue) RETURNING id"], "resource server \(id)")
        }
    }

    package func auditEvents(in workspace: WorkspaceID, matching query: AuditQuery) async throws -> [AuditEvent] {
        let actor = query.actorUser?.rawValue
        return try await rows(
            """
            SELECT sequence, workspace_id, actor_user_id, actor_credential, action, target_kind, target_id, address,
                details::text AS details, occurred_at
            FROM audit_events
            WHERE workspace_id = \(workspace.rawValue)
                AND (\(query.action)::text IS NULL OR action = \(query.action))
                AND (\(actor)::uuid IS NULL OR actor_user_id = \(actor))
                AND (\(query.targetID)::text IS NULL OR target_id = \(query.targetID))
                AND (\(query.before)::bigint IS NULL OR sequence < \(query.before))
            ORDER BY sequence DESC
            LIMIT \(query.limit)
            """
        ).map(StoredForm.auditEvent)
    }

    // MARK: Resource servers

    package func resourceServer(identifier: ResourceIdentifier) async throws -> ResourceServer? {
        try await rows("SELECT * FROM resource_servers WHERE identifier = \(identifier.value)").first.map(
            StoredForm.resourceServer)
    }

    package func resourceServer(id: ResourceServerID) async throws -> ResourceServer? {
        try await rows("SELECT * FROM resource_servers WHERE id = \(id.rawValue)").first.map(
            StoredForm.resourceServer)
    }

    package func resourceServers(in workspace: WorkspaceID) async throws -> [ResourceServer] {
        try await rows(
            "SELECT * FROM resource_servers WHERE workspace_id = \(workspace.rawValue) ORDER BY identifier"
        ).map(StoredForm.resourceServer)
    }

    // MARK: Statements

    static func deleteLinksQuery(of user: UserID, _ purpose: String?) -> PostgresQuery {
        """
        DELETE FROM password_links
        WHERE user_id = \(user.rawValue) AND (\(purpose)::text IS NULL OR purpose = \(purpose))
        """
    }

}
