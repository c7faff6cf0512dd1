import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Testing

/// Retention under a churn of sign-ins, logins and rotations through HTTP, with the manual clock: once every
/// kind of row has lived its lifetime, the tables stop growing.
@Suite("Retention")
struct RetentionTests {
    static let day: TimeInterval = 86_400

    @Test func tablesStopGrowingUnderAChurnOfLoginsAndRotations() async throws {
        try await OAuthWorld.run { world in
            let store = world.api.store
            let clock = world.api.clock
            let retention = Retention(
                store: store, clock: clock, settings: try OAuthSettings(issuer: OAuthWorld.issuer),
                auditRetention: 7 * Self.day, batchSize: 7)
            var sizes: [[RetainedKind: Int]] = []
            for _ in 0..<40 {
                // A day of one app's use: ann signs in (once with a wrong password first), the app logs her in
                // and rotates its refresh token twice, then revokes its access token; a second login's refresh
                // token is replayed, which revokes that grant.
                #expect(
                    try await world.browser().signIn("ann@acme.test", password: "not-her-password").status
                        == .unauthorized)
                let tokens = try await world.tokens()
                var refresh = try #require(tokens.string("refresh_token"))
                for _ in 0..<2 {
                    let rotated = try await world.refresh(refresh)
                    #expect(rotated.status == .ok)
                    refresh = try #require(rotated.string("refresh_token"))
                }
                let revoked = try await world.api.form(
                    "/oauth/revoke",
                    [("token", try #require(tokens.string("access_token"))), ("client_id", "acme-spa")])
                #expect(revoked.status == .ok)
                let replayed = try #require(try await world.tokens().string("refresh_token"))
                #expect(try await world.refresh(replayed).status == .ok)
                #expect(try await world.refresh(replayed).status == .badRequest)

                clock.advance(by: Self.day)
                let deleted = try #require(try await retention.sweep())
                #expect(deleted.values.allSatisfy { $0 >= 0 })
                sizes.append(try await store.retainedRows())
            }
            // The longest lifetime in play is the refresh token's, 30 days, and a grant is kept a day and an hour
            // past its last token: from then on each day deletes what the day adds.
            let settled = sizes[33]
            for (day, size) in sizes.enumerated().dropFirst(34) {
                #expect(size == settled, "day \(day): \(size) against \(settled)")
            }
            // And what is kept is bounded by the lifetimes, not by the days gone by.
            #expect(settled[.refreshTokens, default: 0] <= 31 * 3)
            #expect(settled[.grants, default: 0] <= 31 + 2)
            #expect(settled[.webSessions, default: 0] == 0)
            #expect(settled[.authorizationCodes, default: 0] == 0)
            #expect(settled[.revokedAccessTokens, default: 0] == 0)
            #expect(try #require(sizes.first)[.auditEvents, default: 0] > 0)
            #expect(settled[.auditEvents, default: 0] <= 8 * (try #require(sizes.first)[.auditEvents, default: 0]))
            // A login made now still works end to end after all that deleting.
            let fresh = try await world.tokens()
            #expect(try await world.isActive(try #require(fresh.string("access_token"))))
            #expect(try await world.refresh(try #require(fresh.string("refresh_token"))).status == .ok)
        }
    }
}
