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
        return [
            (
                .authorizationCodes,
                """
                DELETE FROM authorization_codes WHERE digest IN
                    (SELECT digest FROM authorization_codes WHERE expires_at < \(now) LIMIT \(limit)) RETURNING 1
                """
            ),
            (
                .deviceCodes,
                """
                DELETE FROM device_codes WHERE device_digest IN
                    (SELECT device_digest FROM device_codes WHERE expires_at < \(now) LIMIT \(limit)) RETURNING 1
                """
            ),
            (
                .passwordLinks,
                """
                DELETE FROM password_links WHERE digest IN
                    (SELECT digest FROM password_links WHERE expires_at < \(now) LIMIT \(limit)) RETURNING 1
                """
            ),
            (
                .revokedAccessTokens,
                """
                DELETE FROM revoked_access_tokens WHERE jti IN
                    (SELECT jti FROM revoked_access_tokens WHERE expires_at < \(now) LIMIT \(limit)) RETURNING 1
                """
            ),
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
                """
                DELETE FROM rate_limit_windows WHERE (bucket, window_start) IN
                    (SELECT bucket, window_start FROM rate_limit_windows WHERE window_start < \(windowStart)
                     LIMIT \(limit)) RETURNING 1
                """
            ),
            (
                .throttleWindows,
                """
                DELETE FROM sign_in_attempts WHERE (bucket, window_start) IN
                    (SELECT bucket, window_start FROM sign_in_attempts WHERE window_start < \(windowStart)
                     LIMIT \(limit)) RETURNING 1
                """
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
