import Foundation
import GRDB
import GatehouseCore

extension SQLiteStore {
    /// One process serves an SQLite file, so there is nobody to take turns with: never nil.
    package func deleteExpired(before cutoffs: RetentionCutoffs, limit: Int) async throws -> [RetainedKind: Int]? {
        try await write { db in
            var deleted: [RetainedKind: Int] = [:]
            for (kind, sql, arguments) in Self.retentionDeletes(cutoffs, limit: limit) {
                try db.execute(sql: sql, arguments: arguments)
                deleted[kind, default: 0] += db.changesCount
            }
            return deleted
        }
    }

    package func retainedRows() async throws -> [RetainedKind: Int] {
        try await read { db in
            var rows: [RetainedKind: Int] = [:]
            for (kind, tables) in RetainedKind.tables {
                for table in tables where table != "sign_in_attempts" {
                    rows[kind, default: 0] += try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0
                }
            }
            return rows
        }
    }

    /// The deletes of one batch, in the order foreign keys need: refresh tokens before their grants. Each
    /// picks at most `limit` rows by key first, as SQLite's DELETE has no LIMIT of its own here.
    private static func retentionDeletes(_ cutoffs: RetentionCutoffs, limit: Int)
        -> [(RetainedKind, String, StatementArguments)]
    {
        let now = cutoffs.expiredBefore.microsecondsSince1970
        let ended = cutoffs.grantsEndedBefore.microsecondsSince1970
        let registrationEnded = cutoffs.registrationTokensEndedBefore.microsecondsSince1970
        func expired(_ table: String, key: String) -> String {
            "DELETE FROM \(table) WHERE \(key) IN (SELECT \(key) FROM \(table) WHERE expires_at < ? LIMIT ?)"
        }
        return [
            (.authorizationCodes, expired("authorization_codes", key: "digest"), [now, limit]),
            (.deviceCodes, expired("device_codes", key: "device_digest"), [now, limit]),
            (.passwordLinks, expired("password_links", key: "digest"), [now, limit]),
            (.revokedAccessTokens, expired("revoked_access_tokens", key: "jti"), [now, limit]),
            (
                .webSessions,
                """
                DELETE FROM web_sessions WHERE digest IN
                    (SELECT digest FROM web_sessions WHERE expires_at < ? OR last_seen_at < ? LIMIT ?)
                """, [now, cutoffs.idleBefore.microsecondsSince1970, limit]
            ),
            // Expired ones (kept until their grant could have no live access token, whose issue they date), and
            // every one of a revoked grant.
            (
                .refreshTokens,
                """
                DELETE FROM refresh_tokens WHERE digest IN (
                    SELECT digest FROM refresh_tokens WHERE expires_at < ? AND issued_at < ?
                    UNION ALL
                    SELECT t.digest FROM oauth_grants g JOIN refresh_tokens t ON t.grant_id = g.id
                    WHERE g.revoked_at IS NOT NULL
                    LIMIT ?)
                """, [now, ended, limit]
            ),
            // A grant with no refresh token left, revoked or made before the cut-off: whatever it issued is gone.
            (
                .grants,
                """
                DELETE FROM oauth_grants WHERE id IN (
                    SELECT id FROM oauth_grants g
                    WHERE coalesce(g.revoked_at, g.created_at) < ?
                        AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.grant_id = g.id)
                    LIMIT ?)
                """, [ended, limit]
            ),
            (
                .throttleWindows,
                """
                DELETE FROM rate_limit_windows WHERE (bucket, window_start) IN
                    (SELECT bucket, window_start FROM rate_limit_windows WHERE window_start < ? LIMIT ?)
                """, [StoredForm.windowStart(cutoffs.windowsStartedBefore), limit]
            ),
            (
                .initialAccessTokens,
                """
                DELETE FROM initial_access_tokens WHERE id IN (
                    SELECT id FROM initial_access_tokens
                    WHERE revoked_at < ?1 OR expires_at < ?1 OR (single_use = 1 AND uses > 0 AND last_used_at < ?1)
                    LIMIT ?2)
                """, [registrationEnded, limit]
            ),
            (
                .auditEvents,
                """
                DELETE FROM audit_events WHERE sequence IN
                    (SELECT sequence FROM audit_events WHERE occurred_at < ? ORDER BY occurred_at LIMIT ?)
                """, [cutoffs.auditBefore.microsecondsSince1970, limit]
            ),
        ]
    }
}

extension RetainedKind {
    /// The tables each kind is kept in; PostgreSQL keeps sign-in attempts apart from request counts.
    static let tables: [RetainedKind: [String]] = [
        .authorizationCodes: ["authorization_codes"], .deviceCodes: ["device_codes"],
        .passwordLinks: ["password_links"], .webSessions: ["web_sessions"],
        .revokedAccessTokens: ["revoked_access_tokens"], .refreshTokens: ["refresh_tokens"],
        .grants: ["oauth_grants"], .throttleWindows: ["rate_limit_windows", "sign_in_attempts"],
        .initialAccessTokens: ["initial_access_tokens"], .auditEvents: ["audit_events"],
    ]
}
