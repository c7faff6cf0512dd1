import Foundation
import GatehouseCore
import PostgresNIO

extension PostgresStore {
    // MARK: Signing keys

    package func signingKeys() async throws -> [StoredSigningKey] {
        try await rows("SELECT * FROM signing_keys ORDER BY created_at, kid").map(StoredForm.signingKey)
    }

    package func rotateSigningKeys(to key: StoredSigningKey) async throws {
        try await transaction { connection in
            try await connection.query(
                """
                UPDATE signing_keys SET retired_at = \(key.createdAt)
                WHERE retired_at IS NULL AND algorithm = \(key.algorithm.rawValue)
                """, logger: self.logger)
            try await connection.query(StoredForm.row(key).postgresQuery, logger: self.logger)
        }
    }

    // MARK: Codes and tokens

    package func insert(_ code: AuthorizationCode) async throws {
        _ = try await rows(StoredForm.row(code).postgresQuery)
    }

    package func authorizationCode(digest: SecretDigest) async throws -> AuthorizationCode? {
        try await rows("SELECT * FROM authorization_codes WHERE digest = \(digest.hex)").first.map(StoredForm.code)
    }

    package func redeem(_ code: AuthorizationCode, at time: Date, issuing tokens: IssuedTokens) async throws -> Bool {
        try await markOnce(
            """
            UPDATE authorization_codes SET consumed_at = \(time)
            WHERE digest = \(code.digest.hex) AND consumed_at IS NULL RETURNING digest
            """, thenStore: tokens)
    }

    // MARK: Device codes

    package func insert(_ code: DeviceCode) async throws {
        _ = try await rows(StoredForm.row(code).postgresQuery)
    }

    package func deviceCode(deviceDigest: SecretDigest) async throws -> DeviceCode? {
        try await rows("SELECT * FROM device_codes WHERE device_digest = \(deviceDigest.hex)").first.map(
            StoredForm.deviceCode)
    }

    package func deviceCode(userCodeDigest: SecretDigest) async throws -> DeviceCode? {
        try await rows("SELECT * FROM device_codes WHERE user_code_digest = \(userCodeDigest.hex)").first.map(
            StoredForm.deviceCode)
    }

    package func decide(userCodeDigest: SecretDigest, approval: DeviceApproval?, at time: Date) async throws -> Bool {
        let user = approval?.userID.rawValue
        let scopes = approval.map { StoredForm.scopeSet($0.scopes) }
        let authTime = approval?.authTime
        let amr = StoredForm.amr(approval?.amr)
        let denied: Date? = approval == nil ? time : nil
        return try await !rows(
            """
            UPDATE device_codes SET approved_user_id = \(user), approved_scopes = \(scopes), auth_time = \(authTime),
                amr = \(amr), denied_at = \(denied), decided_at = \(time)
            WHERE user_code_digest = \(userCodeDigest.hex) AND decided_at IS NULL AND expires_at > \(time)
            RETURNING device_digest
            """
        ).isEmpty
    }

    package func recordPoll(deviceDigest: SecretDigest, at time: Date, interval: Int) async throws {
        _ = try await rows(
            """
            UPDATE device_codes SET last_polled_at = \(time), poll_interval = \(interval)
            WHERE device_digest = \(deviceDigest.hex)
            """)
    }

    package func redeem(deviceDigest: SecretDigest, at time: Date, issuing tokens: IssuedTokens) async throws -> Bool {
        try await markOnce(
            """
            UPDATE device_codes SET consumed_at = \(time)
            WHERE device_digest = \(deviceDigest.hex) AND consumed_at IS NULL RETURNING device_digest
            """, thenStore: tokens)
    }

    package func store(_ tokens: IssuedTokens) async throws {
        try await transaction { connection in
            for query in Self.insertQueries(tokens) { try await connection.query(query, logger: self.logger) }
        }
    }

    package func grant(id: GrantID) async throws -> TokenGrant? {
        try await rows("SELECT * FROM oauth_grants WHERE id = \(id.rawValue)").first.map(StoredForm.grant)
    }

    package func refreshToken(digest: SecretDigest) async throws -> (token: RefreshToken, grant: TokenGrant)? {
        try await rows(Prepared<RefreshTokenLookup>(RefreshTokenLookup.query(digest: digest.hex))).first.map { row in
            (try StoredForm.refreshToken(row), try StoredForm.grant(row))
        }
    }

    package func rotate(_ token: RefreshToken, at time: Date, issuing tokens: IssuedTokens) async throws -> Bool {
        // No credential trigger fires on refresh tokens or new grants, so nothing waits for the instances'
        // acknowledgements. The usual rotation runs prepared; any other is the same statement, unnamed.
        let rotation = RefreshTokenRotation.query(of: token.digest.hex, at: time, issuing: tokens)
        if let prepared = try? Prepared<RefreshTokenRotation>(rotation) { return try await rows(prepared).count == 1 }
        return try await rows(rotation).count == 1
    }

    package func reissue(after token: RefreshToken, usedSince: Date, at time: Date, issuing tokens: IssuedTokens)
        async throws -> Bool
    {
        try await transaction { connection in
            // Locks the presented token's row, so two retries of it take turns.
            let standing = """
                SELECT 1 FROM refresh_tokens t JOIN oauth_grants g ON g.id = t.grant_id
                WHERE t.digest = \(token.digest.hex) AND t.used_at >= \(usedSince) AND g.revoked_at IS NULL
                FOR UPDATE OF t
                """ as PostgresQuery
            guard try await Self.count(standing, on: connection, logger: self.logger) == 1 else { return false }
            try await connection.query(
                "UPDATE refresh_tokens SET used_at = \(time) WHERE grant_id = \(token.grantID.rawValue) AND used_at IS NULL",
                logger: self.logger)
            for query in Self.insertQueries(tokens) { try await connection.query(query, logger: self.logger) }
            return true
        }
    }

    /// Runs `update`, which returns its row only if it changed it while unused, and stores `tokens` when it did,
    /// in one statement; so of two concurrent uses exactly one succeeds. No credential trigger fires on codes,
    /// grants or refresh tokens being stored, so nothing waits for the instances' acknowledgements.
    private func markOnce(_ update: PostgresQuery, thenStore tokens: IssuedTokens) async throws -> Bool {
        try await rows(StoredInsert.postgresQuery(StoredForm.rows(tokens), onlyIf: update)).count == 1
    }

    package func revokeAccessToken(id: String, of client: ClientID, expiresAt: Date, at time: Date) async throws {
        _ = try await changing(
            """
            INSERT INTO revoked_access_tokens (jti, client_id, expires_at, revoked_at)
            VALUES (\(id), \(client.value), \(expiresAt), \(time)) ON CONFLICT (jti) DO NOTHING
            """)
    }

    package func isAccessTokenRevoked(id: String) async throws -> Bool {
        try await !rows("SELECT 1 FROM revoked_access_tokens WHERE jti = \(id)").isEmpty
    }

    package func revokeGrant(id: GrantID, at time: Date) async throws {
        _ = try await changing(
            "UPDATE oauth_grants SET revoked_at = \(time) WHERE id = \(id.rawValue) AND revoked_at IS NULL")
    }

    package func revokeGrants(of user: UserID, client: ClientID?, at time: Date) async throws {
        try await transaction { connection in
            try await connection.query(Self.deleteCodesQuery(of: user, client: client), logger: self.logger)
            try await connection.query(Self.revokeGrantsQuery(of: user, client: client, at: time), logger: self.logger)
        }
    }

    // MARK: Consents

    package func consent(of user: UserID, for client: ClientID) async throws -> Consent? {
        try await rows("SELECT * FROM consents WHERE user_id = \(user.rawValue) AND client_id = \(client.value)")
            .first.map(StoredForm.consent)
    }

    package func consents(of user: UserID) async throws -> [Consent] {
        try await rows("SELECT * FROM consents WHERE user_id = \(user.rawValue) ORDER BY client_id COLLATE \"C\"")
            .map(StoredForm.consent)
    }

    package func save(_ consent: Consent) async throws {
        _ = try await rows(StoredForm.row(consent).postgresQuery)
    }

    package func withdraw(consentOf user: UserID, for client: ClientID, at time: Date) async throws -> Bool {
        try await transaction { connection in
            let deleted = try await Self.count(
                """
                DELETE FROM consents WHERE user_id = \(user.rawValue) AND client_id = \(client.value) RETURNING user_id
                """, on: connection, logger: self.logger)
            guard deleted == 1 else { return false }
            try await connection.query(Self.deleteCodesQuery(of: user, client: client), logger: self.logger)
            try await connection.query(
                Self.revokeGrantsQuery(of: user, client: client, at: time), logger: self.logger)
            return true
        }
    }

    // MARK: Sessions

    package func rememberDevice(_ digest: SecretDigest, of user: UserID, at time: Date) async throws
        -> DeviceSighting
    {
        let others =
            try await rows("SELECT count(*) AS devices FROM known_devices WHERE user_id = \(user.rawValue)")
            .first?["devices"].decode(Int.self) ?? 0
        let inserted = try await !rows(
            """
            INSERT INTO known_devices (user_id, digest, first_seen_at) VALUES (\(user.rawValue), \(digest.hex), \(time))
            ON CONFLICT DO NOTHING RETURNING digest
            """
        ).isEmpty
        return !inserted ? .known : others == 0 ? .first : .new
    }

    package func insert(_ session: WebSession) async throws {
        _ = try await rows(StoredForm.row(session).postgresQuery)
    }

    package func session(digest: SecretDigest) async throws -> WebSession? {
        try await rows("SELECT * FROM web_sessions WHERE digest = \(digest.hex)").first.map(StoredForm.session)
    }

    package func sessions(of user: UserID) async throws -> [WebSession] {
        try await rows(
            "SELECT * FROM web_sessions WHERE user_id = \(user.rawValue) ORDER BY last_seen_at DESC, digest COLLATE \"C\""
        ).map(StoredForm.session)
    }

    package func touchSession(digest: SecretDigest, at time: Date) async throws {
        _ = try await rows("UPDATE web_sessions SET last_seen_at = \(time) WHERE digest = \(digest.hex)")
    }

    package func deleteSession(digest: SecretDigest) async throws {
        _ = try await rows("DELETE FROM web_sessions WHERE digest = \(digest.hex)")
    }

    package func deleteSessions(of user: UserID) async throws {
        _ = try await rows("DELETE FROM web_sessions WHERE user_id = \(user.rawValue)")
    }

    // MARK: Statements

    static func insertQueries(_ tokens: IssuedTokens) -> [PostgresQuery] {
        StoredForm.rows(tokens).map(\.postgresQuery)
    }

    /// Deletes the unused codes of `user` (with `client` only, when given): a code in flight dies with the grants.
    static func deleteCodesQuery(of user: UserID, client: ClientID?) -> PostgresQuery {
        """
        DELETE FROM authorization_codes
        WHERE user_id = \(user.rawValue) AND (\(client?.value)::text IS NULL OR client_id = \(client?.value))
            AND consumed_at IS NULL
        """
    }

    static func revokeGrantsQuery(of user: UserID, client: ClientID?, at time: Date) -> PostgresQuery {
        """
        UPDATE oauth_grants SET revoked_at = \(time)
        WHERE user_id = \(user.rawValue) AND (\(client?.value)::text IS NULL OR client_id = \(client?.value))
            AND revoked_at IS NULL
        """
    }

    /// What deactivating a user ends besides the account: their sessions and every grant they hold.
    static func endSessionsAndGrantsQueries(of user: UserID, at time: Date) -> [PostgresQuery] {
        [
            "DELETE FROM web_sessions WHERE user_id = \(user.rawValue)",
            deleteCodesQuery(of: user, client: nil),
            revokeGrantsQuery(of: user, client: nil, at: time),
        ]
    }

    /// Runs `query` on `connection` and counts the rows it returns.
    static func count(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        var count = 0
        for try await _ in try await connection.query(query, logger: logger) { count += 1 }
        return count
    }

}
