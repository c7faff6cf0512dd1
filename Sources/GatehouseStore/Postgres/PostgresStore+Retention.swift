import Foundation
import GatehouseCore
import PostgresNIO

extension PostgresStore {
    /// One transaction, under a transaction-level advisory lock keyed by the schema: while one instance deletes,
    /// another finds the lock taken and returns nil at once instead of queueing behind it.
    package func deleteExpired(before cutoffs: RetentionCutoffs, limit: Int) async throws -> [RetainedKind: Int]? {
        try await transaction { connection in
            let locked = try await connection.query(
                "SELECT pg_try_advisory_xact_lock(hashtext('gatehouse_retention_' || current_schema())) AS locked",
                logger: self.logger
            ).collect().first?.makeRandomAccess()["locked"].decode(Bool.self)
            guard locked == true else { return nil }
            var counts: [RetainedKind: Int] = [:]
            for (kind, query) in Self.retentionDeletes(cutoffs, limit: limit) {
                counts[kind, default: 0] += try await Self.count(query, on: connection, logger: self.logger)
            }
            return counts
        }
    }

    package func retainedRows() async throws -> [RetainedKind: Int] {
        var counts: [RetainedKind: Int] = [:]
        for (kind, tables) in RetainedKind.tables {
            for table in tables {
                let rows = try await rows(PostgresQuery(unsafeSQL: "SELECT count(*) AS n FROM \(table)"))
                counts[kind, default: 0] += try rows.first?["n"].decode(Int.self) ?? 0
            }
        }
        return counts
    }

    /// The deletes of one batch, each returning a row per row deleted, in the order foreign keys need: refresh
    /// tokens before their grants. (PostgreSQL's DELETE has no LIMIT: each picks its rows by key first.)
    private static func retentionDeletes(_ cutoffs: RetentionCutoffs, limit: Int) -> [(RetainedKind, PostgresQuery)] {
        let now = cutoffs.expiredBefore
        let ended = cutoffs.grantsEndedBefore
        let registrationEnded = cutoffs.registrationTokensEndedBefore
        let windowStart = StoredForm.windowStart(cutoffs.windowsStartedBefore)
        /// Deletes, by its key columns, at most `limit` rows of `table` whose `column` is before `cutoff`.
        func before(_ table: String, key: [String], _ column: String, _ cutoff: some PostgresNonThrowingEncodable)
            -> PostgresQuery
        {
            var binds = PostgresBindings(capacity: 2)
            binds.append(cutoff)
            binds.append(limit)
            let columns = key.joined(separator: ", ")
            return PostgresQuery(
                unsafeSQL: "DELETE FROM \(table) WHERE (\(columns)) IN (SELECT \(columns) FROM \(table) "
                    + "WHERE \(column) < $1 LIMIT $2) RETURNING 1",
                binds: binds)
        }
        return [
            (.authorizationCodes, before("authorization_codes", key: ["digest"], "expires_at", now)),
            (.deviceCodes, before("device_codes", key: ["device_digest"], "expires_at", now)),
            (.passwordLinks, before("password_links", key: ["digest"], "expires_at", now)),
            (.revokedAccessTokens, before("revoked_access_tokens", key: ["jti"], "expires_at", now)),
            (
                .webSessions,
                """
                DELETE FROM web_sessions WHERE digest IN (
                    SELECT digest FROM web_sessions WHERE expires_at < \(now) OR last_seen_at < \(cutoffs.idleBefore)
                    LIMIT \(limit)) RETURNING 1
                """
            ),
            (
                .refreshTokens,
                """
                DELETE FROM refresh_tokens WHERE digest IN (
                    (SELECT digest FROM refresh_tokens WHERE expires_at < \(now) AND issued_at < \(ended))
                    UNION ALL
                    (SELECT t.digest FROM oauth_grants g JOIN refresh_tokens t ON t.grant_id = g.id
                     WHERE g.revoked_at IS NOT NULL)
                    LIMIT \(limit)) RETURNING 1
                """
            ),
            (
                .grants,
                """
                DELETE FROM oauth_grants WHERE id IN (
                    SELECT id FROM oauth_grants g
                    WHERE coalesce(g.revoked_at, g.created_at) < \(ended)
                        AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.grant_id = g.id)
                    LIMIT \(limit)) RETURNING 1
                """
            ),
            (
                .throttleWindows,
                before("rate_limit_windows", key: ["bucket", "window_start"], "window_start", windowStart)
            ),
            (
                .throttleWindows,
                before("sign_in_attempts", key: ["bucket", "window_start"], "window_start", windowStart)
            ),
            (
                .initialAccessTokens,
                """
                DELETE FROM initial_access_tokens WHERE id IN (
                    SELECT id FROM initial_access_tokens
                    WHERE revoked_at < \(registrationEnded) OR expires_at < \(registrationEnded)
                        OR (single_use AND uses > 0 AND last_used_at < \(registrationEnded))
                    LIMIT \(limit)) RETURNING 1
                """
            ),
            (
                .auditEvents,
                """
                DELETE FROM audit_events WHERE sequence IN (
                    SELECT sequence FROM audit_events WHERE occurred_at < \(cutoffs.auditBefore)
                    ORDER BY occurred_at LIMIT \(limit)) RETURNING 1
                """
            ),
        ]
    }
}
