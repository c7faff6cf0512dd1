import Foundation
import GatehouseCore
import PostgresNIO

/// A statement that each pooled connection has PostgreSQL parse and plan once, then only binds and runs: for the
/// statements of a refresh, where parsing, analysing and planning each statement anew were a third of
/// PostgreSQL's work (`perf`, docs/performance.md). Every other statement stays unnamed, planned at each run.
///
/// The statement's SQL is built by `query`, the one place it is written, from placeholder values once for
/// `sql`, and with the real values at each run; a run whose SQL is not `sql` (a builder whose text depends on
/// its values) is refused rather than run under another statement's name. Columns are listed by name, never
/// `*`: a prepared `SELECT *` fails ("cached plan must not change result type") once a migration run by a newer
/// instance adds a column, while a named column list survives it, PostgreSQL planning it again by itself.
protocol PreparedText: SendableMetatype {
    /// The statement's name on each connection (PostgresNIO's default, the type's full name, is built anew at
    /// every run).
    static var name: String { get }
    /// The SQL with `$n` placeholders, as PostgreSQL prepares it; built by the type's own query builder.
    static var sql: String { get }
}

/// A run of `Text`'s statement: its bindings, and its rows as the store reads them.
struct Prepared<Text: PreparedText>: PostgresPreparedStatement {
    typealias Row = PostgresRandomAccessRow

    static var name: String { Text.name }
    static var sql: String { Text.sql }

    let bindings: PostgresBindings

    /// `query` as a run of the prepared statement; throws when its SQL is not the prepared statement's.
    init(_ query: PostgresQuery) throws {
        guard query.sql == Text.sql else { throw PreparedTextMismatch(statement: "\(Text.self)") }
        bindings = query.binds
    }

    func makeBindings() -> PostgresBindings { bindings }

    func decodeRow(_ row: PostgresRow) -> PostgresRandomAccessRow { row.makeRandomAccess() }
}

/// A prepared statement's builder wrote other SQL than the statement was prepared with: a defect in the store.
struct PreparedTextMismatch: Error, CustomStringConvertible {
    let statement: String
    var description: String { "the SQL of the prepared statement \(statement) depends on its values" }
}

/// A refresh token and its grant, by the token's digest.
enum RefreshTokenLookup: PreparedText {
    static let name = "gatehouse_refresh_token_lookup"

    static func query(digest: String) -> PostgresQuery {
        // The token's scopes are `refresh_scopes`, the grant's `scopes`.
        """
        SELECT g.id, g.workspace_id, g.client_id, g.user_id, g.scopes, g.auth_time, g.amr, g.resource,
            g.created_at, g.revoked_at,
            t.digest, t.grant_id, t.scopes AS refresh_scopes, t.issued_at, t.expires_at, t.used_at
        FROM refresh_tokens t JOIN oauth_grants g ON g.id = t.grant_id WHERE t.digest = \(digest)
        """
    }

    static let sql = query(digest: "").sql
}

/// A rotation: marks a refresh token used and stores what replaces it only if it did, in one statement. The usual
/// rotation (a successor, no new grant) is the prepared one.
enum RefreshTokenRotation: PreparedText {
    static let name = "gatehouse_refresh_token_rotation"

    static func query(of digest: String, at time: Date, issuing tokens: IssuedTokens) -> PostgresQuery {
        StoredInsert.postgresQuery(
            StoredForm.rows(tokens),
            onlyIf:
                "UPDATE refresh_tokens SET used_at = \(time) WHERE digest = \(digest) AND used_at IS NULL RETURNING 1")
    }

    static let sql = query(
        of: "", at: .distantPast,
        issuing: IssuedTokens(
            newGrant: nil,
            refreshToken: RefreshToken(
                digest: SecretDigest(storedHex: ""), grantID: GrantID(UUID()), scopes: [], issuedAt: .distantPast,
                expiresAt: .distantPast))
    ).sql
}
