import Foundation
import GRDB
import GatehouseCore

extension SQLiteStore {
    // MARK: Signing keys

    package func signingKeys() async throws -> [StoredSigningKey] {
        try await read { db in
            try db.cachedRows(sql: "SELECT * FROM signing_keys ORDER BY created_at, kid") { row in
                try StoredForm.signingKey(row)
            }
        }
    }

    package func rotateSigningKeys(to key: StoredSigningKey) async throws {
        try await write { db in
            try db.cachedExecute(
                sql: "UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL AND algorithm = ?",
                arguments: [key.createdAt.microsecondsSince1970, key.algorithm.rawValue])
            try db.insert(StoredForm.row(key))
        }
    }

    // MARK: Codes and tokens

    package func insert(_ code: AuthorizationCode) async throws {
        try await write { db in
            try db.insert(StoredForm.row(code))
        }
    }

    package func authorizationCode(digest: SecretDigest) async throws -> AuthorizationCode? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM authorization_codes WHERE digest = ?", arguments: [digest.hex], StoredForm.code)
        }
    }

    package func redeem(_ code: AuthorizationCode, at time: Date, issuing tokens: IssuedTokens) async throws -> Bool {
        try await markOnce(
            "UPDATE authorization_codes SET consumed_at = ? WHERE digest = ? AND consumed_at IS NULL",
            [time.microsecondsSince1970, code.digest.hex], thenStore: tokens)
    }

    // MARK: Device codes

    package func insert(_ code: DeviceCode) async throws {
        try await write { db in try db.insert(StoredForm.row(code)) }
    }

    package func deviceCode(deviceDigest: SecretDigest) async throws -> DeviceCode? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM device_codes WHERE device_digest = ?", arguments: [deviceDigest.hex],
                StoredForm.deviceCode)
        }
    }

    package func deviceCode(userCodeDigest: SecretDigest) async throws -> DeviceCode? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM device_codes WHERE user_code_digest = ?", arguments: [userCodeDigest.hex],
                StoredForm.deviceCode)
        }
    }

    package func decide(userCodeDigest: SecretDigest, approval: DeviceApproval?, at time: Date) async throws -> Bool {
        try await write { db in
            try db.cachedExecute(
                sql: """
                    UPDATE device_codes SET approved_user_id = ?, approved_scopes = ?, auth_time = ?, amr = ?,
                        denied_at = ?, decided_at = ?
                    WHERE user_code_digest = ? AND decided_at IS NULL AND expires_at > ?
                    """,
                arguments: [
                    approval?.userID.description, approval.map { StoredForm.scopeSet($0.scopes) },
                    approval?.authTime.microsecondsSince1970, StoredForm.amr(approval?.amr),
                    approval == nil ? time.microsecondsSince1970 : nil, time.microsecondsSince1970,
                    userCodeDigest.hex, time.microsecondsSince1970,
                ])
            return db.changesCount == 1
        }
    }

    package func recordPoll(deviceDigest: SecretDigest, at time: Date, interval: Int) async throws {
        try await write { db in
            try db.cachedExecute(
                sql: "UPDATE device_codes SET last_polled_at = ?, poll_interval = ? WHERE device_digest = ?",
                arguments: [time.microsecondsSince1970, interval, deviceDigest.hex])
        }
    }

    package func redeem(deviceDigest: SecretDigest, at time: Date, issuing tokens: IssuedTokens) async throws -> Bool {
        try await markOnce(
            "UPDATE device_codes SET consumed_at = ? WHERE device_digest = ? AND consumed_at IS NULL",
            [time.microsecondsSince1970, deviceDigest.hex], thenStore: tokens)
    }

    package func store(_ tokens: IssuedTokens) async throws {
        try await write { db in try Self.insert(tokens, db) }
    }

    package func grant(id: GrantID) async throws -> TokenGrant? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM oauth_grants WHERE id = ?", arguments: [id.description], StoredForm.grant)
        }
    }

    package func refreshToken(digest: SecretDigest) async throws -> (token: RefreshToken, grant: TokenGrant)? {
        try await read { db in
            try db.cachedRow(sql: Self.refreshTokenWithGrant, arguments: [digest.hex]) { row in
                (try StoredForm.refreshToken(row), try StoredForm.grant(row))
            }
        }
    }

    /// A refresh token's row and its grant's; the token's scopes are `refresh_scopes`, the grant's `scopes`.
    private static let refreshTokenWithGrant = """
        SELECT g.*, t.digest, t.grant_id, t.scopes AS refresh_scopes, t.issued_at, t.expires_at, t.used_at
        FROM refresh_tokens t JOIN oauth_grants g ON g.id = t.grant_id WHERE t.digest = ?
        """

    package func rotate(_ token: RefreshToken, at time: Date, issuing tokens: IssuedTokens) async throws -> Bool {
        try await markOnce(
            "UPDATE refresh_tokens SET used_at = ? WHERE digest = ? AND used_at IS NULL",
            [time.microsecondsSince1970, token.digest.hex], thenStore: tokens)
    }

    package func reissue(after token: RefreshToken, usedSince: Date, at time: Date, issuing tokens: IssuedTokens)
        async throws -> Bool
    {
        try await write { db in
            guard
                try db.cachedRow(
                    sql: """
                        SELECT 1 FROM refresh_tokens t JOIN oauth_grants g ON g.id = t.grant_id
                        WHERE t.digest = ? AND t.used_at >= ? AND g.revoked_at IS NULL
                        """, arguments: [token.digest.hex, usedSince.microsecondsSince1970], { _ in true }) ?? false
            else { return false }
            try db.cachedExecute(
                sql: "UPDATE refresh_tokens SET used_at = ? WHERE grant_id = ? AND used_at IS NULL",
                arguments: [time.microsecondsSince1970, token.grantID.description])
            try Self.insert(tokens, db)
            return true
        }
    }

    /// Runs `update`, which changes its row only while it is unused, and stores `tokens` when it did, in one
    /// transaction; so of two concurrent uses exactly one succeeds.
    private func markOnce(_ update: String, _ arguments: StatementArguments, thenStore tokens: IssuedTokens)
        async throws -> Bool
    {
        try await write { db in
            try db.cachedExecute(sql: update, arguments: arguments)
            guard db.changesCount == 1 else { return false }
            try Self.insert(tokens, db)
            return true
        }
    }

    package func revokeAccessToken(id: String, of client: ClientID, expiresAt: Date, at time: Date) async throws {
        try await write { db in
            try db.cachedExecute(
                sql: """
                    INSERT INTO revoked_access_tokens (jti, client_id, expires_at, revoked_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (jti) DO NOTHING
                    """,
                arguments: [id, client.value, expiresAt.microsecondsSince1970, time.microsecondsSince1970])
        }
    }

    package func isAccessTokenRevoked(id: String) async throws -> Bool {
        try await read { db in
            try db.cachedRow(sql: "SELECT 1 FROM revoked_access_tokens WHERE jti = ?", arguments: [id]) { _ in true }
                ?? false
        }
    }

    package func revokeGrant(id: GrantID, at time: Date) async throws {
        try await write { db in
            try db.cachedExecute(
                sql: "UPDATE oauth_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                arguments: [time.microsecondsSince1970, id.description])
        }
    }

    package func revokeGrants(of user: UserID, client: ClientID?, at time: Date) async throws {
        try await write { db in try Self.revokeGrants(of: user, client: client, at: time, db) }
    }

    // MARK: Consents

    package func consent(of user: UserID, for client: ClientID) async throws -> Consent? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM consents WHERE user_id = ? AND client_id = ?",
                arguments: [user.description, client.value], StoredForm.consent)
        }
    }

    package func consents(of user: UserID) async throws -> [Consent] {
        try await read { db in
            try db.cachedRows(
                sql: "SELECT * FROM consents WHERE user_id = ? ORDER BY client_id", arguments: [user.description],
                StoredForm.consent)
        }
    }

    package func save(_ consent: Consent) async throws {
        try await write { db in try db.insert(StoredForm.row(consent)) }
    }

    package func withdraw(consentOf user: UserID, for client: ClientID, at time: Date) async throws -> Bool {
        try await write { db in
            try db.cachedExecute(
                sql: "DELETE FROM consents WHERE user_id = ? AND client_id = ?",
                arguments: [user.description, client.value])
            guard db.changesCount == 1 else { return false }
            try Self.revokeGrants(of: user, client: client, at: time, db)
            return true
        }
    }

    // MARK: Sessions

    package func rememberDevice(_ digest: SecretDigest, of user: UserID, at time: Date) async throws
        -> DeviceSighting
    {
        try await write { db in
            let others =
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM known_devices WHERE user_id = ?", arguments: [user.description]) ?? 0
            try db.cachedExecute(
                sql:
                    "INSERT INTO known_devices (user_id, digest, first_seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [user.description, digest.hex, StoredValue.date(time).sqlite])
            return db.changesCount == 0 ? .known : others == 0 ? .first : .new
        }
    }

    package func insert(_ session: WebSession) async throws {
        try await write { db in
            try db.insert(StoredForm.row(session))
        }
    }

    package func session(digest: SecretDigest) async throws -> WebSession? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM web_sessions WHERE digest = ?", arguments: [digest.hex], StoredForm.session)
        }
    }

    package func sessions(of user: UserID) async throws -> [WebSession] {
        try await read { db in
            try db.cachedRows(
                sql: "SELECT * FROM web_sessions WHERE user_id = ? ORDER BY last_seen_at DESC, digest",
                arguments: [user.description], StoredForm.session)
        }
    }

    package func touchSession(digest: SecretDigest, at time: Date) async throws {
        try await write { db in
            try db.cachedExecute(
                sql: "UPDATE web_sessions SET last_seen_at = ? WHERE digest = ?",
                arguments: [time.microsecondsSince1970, digest.hex])
        }
    }

    package func deleteSession(digest: SecretDigest) async throws {
        try await write { db in
            try db.cachedExecute(sql: "DELETE FROM web_sessions WHERE digest = ?", arguments: [digest.hex])
        }
    }

    package func deleteSessions(of user: UserID) async throws {
        try await write { db in
            try db.cachedExecute(sql: "DELETE FROM web_sessions WHERE user_id = ?", arguments: [user.description])
        }
    }

    // MARK: Statements

    static func insert(_ tokens: IssuedTokens, _ db: Database) throws {
        for row in StoredForm.rows(tokens) { try db.insert(row) }
    }

    /// Revokes the grants and deletes the unused codes of `user` (with `client` only, when given): a code in
    /// flight dies with the grants.
    static func revokeGrants(of user: UserID, client: ClientID?, at time: Date, _ db: Database) throws {
        try db.cachedExecute(
            sql: """
                DELETE FROM authorization_codes
                WHERE user_id = ? AND (? IS NULL OR client_id = ?) AND consumed_at IS NULL
                """,
            arguments: [user.description, client?.value, client?.value])
        try db.cachedExecute(
            sql: """
                UPDATE oauth_grants SET revoked_at = ?
                WHERE user_id = ? AND (? IS NULL OR client_id = ?) AND revoked_at IS NULL
                """,
            arguments: [time.microsecondsSince1970, user.description, client?.value, client?.value])
    }

    /// What deactivating a user ends besides the account: their sessions and every grant they hold.
    static func endSessionsAndGrants(of user: UserID, at time: Date, _ db: Database) throws {
        try db.cachedExecute(sql: "DELETE FROM web_sessions WHERE user_id = ?", arguments: [user.description])
        try revokeGrants(of: user, client: nil, at: time, db)
    }

}
