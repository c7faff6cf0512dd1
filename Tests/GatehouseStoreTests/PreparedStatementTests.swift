import Foundation
import GatehouseCore
import GatehouseTestSupport
import PostgresNIO
import Testing

@testable import GatehouseStore

/// The statements of a refresh are prepared once per PostgreSQL connection, and a prepared statement survives what
/// a newer instance's migration does to its tables during a rolling upgrade.
@Suite("PostgreSQL prepared statements")
struct PreparedStatementTests {
    @Test func aRunWhoseSQLIsNotThePreparedStatementsIsRefused() throws {
        let digest = OpaqueToken.generate().digest.hex
        #expect(throws: Never.self) { try Prepared<RefreshTokenLookup>(RefreshTokenLookup.query(digest: digest)) }
        #expect(throws: PreparedTextMismatch.self) {
            try Prepared<RefreshTokenLookup>("SELECT * FROM refresh_tokens WHERE digest = \(digest)")
        }
        let grant = GrantID()
        let successor = RefreshToken(
            digest: OpaqueToken.generate().digest, grantID: grant, scopes: [.openid, .profile],
            issuedAt: Fixture.epoch, expiresAt: Fixture.epoch.addingTimeInterval(60), usedAt: Fixture.epoch)
        let usual = RefreshTokenRotation.query(
            of: digest, at: Fixture.epoch, issuing: IssuedTokens(newGrant: nil, refreshToken: successor))
        #expect(throws: Never.self) { try Prepared<RefreshTokenRotation>(usual) }
        // A rotation that also stores a grant is other SQL: it runs unnamed.
        let withGrant = RefreshTokenRotation.query(
            of: digest, at: Fixture.epoch,
            issuing: IssuedTokens(
                newGrant: TokenGrant(
                    id: grant, workspaceID: WorkspaceID(), clientID: try ClientID("app"), userID: nil, scopes: [],
                    authTime: nil, createdAt: Fixture.epoch),
                refreshToken: successor))
        #expect(throws: PreparedTextMismatch.self) { try Prepared<RefreshTokenRotation>(withGrant) }
    }

    /// One connection, so that every statement runs where the refresh statements were prepared.
    @Test(.enabled(if: Backend.all.contains(.postgres)))
    func theRefreshStatementsArePreparedOnceAndSurviveANewColumn() async throws {
        guard case .postgres(let location) = try Backend.postgres.freshLocation() else { return }
        let store = PostgresStore(location, maximumConnections: 1, logger: TestBackend.quietLogger)
        try await store.whileRunning { _ in
            let seed = try await OAuthStoreConformanceTests.seeded(store)
            let grant = GrantID()
            let first = OAuthStoreConformanceTests.tokens(seed, grant: grant, new: true)
            try await store.store(first)
            var current = try #require(first.refreshToken)
            var rotatedAt = Fixture.epoch
            for round in 0..<2 {
                // The second round runs after a migration of a later version added a column to both tables.
                for _ in 0..<3 {
                    let found = try #require(try await store.refreshToken(digest: current.digest))
                    #expect(found.token == current)
                    #expect(found.grant == first.newGrant)
                    let next = OAuthStoreConformanceTests.tokens(seed, grant: grant, new: false)
                    rotatedAt += 1
                    #expect(try await store.rotate(current, at: rotatedAt, issuing: next))
                    #expect(try await store.refreshToken(digest: current.digest)?.token.usedAt == rotatedAt)
                    current = try #require(next.refreshToken)
                }
                let prepared = try await store.rows("SELECT name FROM pg_prepared_statements ORDER BY name")
                    .map { try $0["name"].decode(String.self) }
                #expect(prepared == [RefreshTokenLookup.name, RefreshTokenRotation.name], "round \(round)")
                if round == 0 {
                    _ = try await store.rows("ALTER TABLE oauth_grants ADD COLUMN added_by_a_later_version text")
                    _ = try await store.rows(
                        "ALTER TABLE refresh_tokens ADD COLUMN added_by_a_later_version text DEFAULT 'x'")
                }
            }
        }
    }
}
