import Foundation
import GatehouseCore
import GatehouseTestSupport
import PostgresNIO
import Testing

@testable import GatehouseStore

/// Retention's deletes, on every backend: what is past its cut-off goes, a batch at a time; what is still of
/// use stays.
@Suite("Retention store conformance")
struct RetentionStoreConformanceTests {
    typealias Seed = OAuthStoreConformanceTests.Seed

    static let day: TimeInterval = 86_400
    /// Forty days after the fixtures' epoch: every row made at the epoch with a lifetime under that has ended.
    static let now = Fixture.epoch.addingTimeInterval(40 * day)

    static let cutoffs = RetentionCutoffs(
        expiredBefore: now, idleBefore: now.addingTimeInterval(-1800),
        grantsEndedBefore: now.addingTimeInterval(-2 * day), windowsStartedBefore: now.addingTimeInterval(-day),
        registrationTokensEndedBefore: now.addingTimeInterval(-30 * day),
        auditBefore: now.addingTimeInterval(-365 * day)
    )

    static func grant(_ seed: Seed, createdAt: Date) -> TokenGrant {
        TokenGrant(
            id: GrantID(), workspaceID: seed.workspace.id, clientID: seed.client.id, userID: seed.user.id,
            scopes: [.openid], authTime: createdAt, amr: ["pwd"], resource: nil, createdAt: createdAt)
    }

    static func refresh(_ grant: TokenGrant, issuedAt: Date, lifetime: TimeInterval = 30 * day) -> RefreshToken {
        RefreshToken(
            digest: OpaqueToken.generate().digest, grantID: grant.id, scopes: [.openid], issuedAt: issuedAt,
            expiresAt: issuedAt.addingTimeInterval(lifetime))
    }

    @Test(arguments: Backend.all) func whatEndedIsDeletedAndWhatIsOfUseStays(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let seed = try await OAuthStoreConformanceTests.seeded(store)
            let (now, day) = (Self.now, Self.day)
            let before = try await store.retainedRows()

            // Codes: one expired at the epoch, one still waiting for its exchange.
            let (_, oldCode) = OAuthStoreConformanceTests.code(seed)
            let (liveCodeToken, liveCode) = OAuthStoreConformanceTests.code(seed, at: now.addingTimeInterval(-10))
            try await store.insert(oldCode)
            try await store.insert(liveCode)

            // Grants: revoked three days ago (its refresh token unused and unexpired), long expired, in use, and
            // one whose refresh token expired yesterday: access tokens it issued may still be alive.
            let revoked = Self.grant(seed, createdAt: now.addingTimeInterval(-10 * day))
            let revokedRefresh = Self.refresh(revoked, issuedAt: revoked.createdAt)
            let expired = Self.grant(seed, createdAt: Fixture.epoch)
            let expiredRefresh = Self.refresh(expired, issuedAt: Fixture.epoch, lifetime: 5 * day)
            let live = Self.grant(seed, createdAt: now.addingTimeInterval(-day))
            let liveRefresh = Self.refresh(live, issuedAt: now.addingTimeInterval(-day))
            let recent = Self.grant(seed, createdAt: now.addingTimeInterval(-2 * day))
            let recentRefresh = Self.refresh(recent, issuedAt: recent.createdAt, lifetime: day)
            for (grant, token) in [
                (revoked, revokedRefresh), (expired, expiredRefresh), (live, liveRefresh), (recent, recentRefresh),
            ] {
                try await store.store(IssuedTokens(newGrant: grant, refreshToken: token))
            }
            try await store.revokeGrant(id: revoked.id, at: now.addingTimeInterval(-3 * day))

            // The revocation list: one entry past its token's expiry, one not.
            try await store.revokeAccessToken(
                id: "old-jti", of: seed.client.id, expiresAt: now.addingTimeInterval(-1), at: Fixture.epoch)
            try await store.revokeAccessToken(
                id: "live-jti", of: seed.client.id, expiresAt: now.addingTimeInterval(600), at: now)

            // Sessions: past their lifetime, idle, in use.
            func session(authTime: Date, lastSeen: Date) -> WebSession {
                var session = WebSession(
                    digest: OpaqueToken.generate().digest, userID: seed.user.id, workspaceID: seed.workspace.id,
                    authTime: authTime, expiresAt: authTime.addingTimeInterval(12 * 3600))
                session.lastSeenAt = lastSeen
                return session
            }
            let ended = session(authTime: Fixture.epoch, lastSeen: Fixture.epoch)
            let idle = session(authTime: now.addingTimeInterval(-3600), lastSeen: now.addingTimeInterval(-3600))
            let active = session(authTime: now.addingTimeInterval(-3600), lastSeen: now.addingTimeInterval(-60))
            for session in [ended, idle, active] { try await store.insert(session) }

            // Device codes: expired, waiting.
            func deviceCode(at time: Date) -> DeviceCode {
                DeviceCode(
                    deviceDigest: OpaqueToken.generate().digest, userCodeDigest: UserCode.generate().digest,
                    workspaceID: seed.workspace.id, clientID: seed.client.id, requestedScopes: [.openid],
                    resource: nil, createdAt: time, expiresAt: time.addingTimeInterval(600), interval: 5)
            }
            let oldDevice = deviceCode(at: Fixture.epoch)
            let liveDevice = deviceCode(at: now.addingTimeInterval(-60))
            try await store.insert(oldDevice)
            try await store.insert(liveDevice)

            // Password links: an invitation that expired, a reset link just sent.
            let bea = try Fixture.user("bea@acme.test", in: seed.workspace)
            let invitation = OAuthStoreConformanceTests.link(bea, .invitation)
            let event = AuditEvent(
                workspaceID: seed.workspace.id, actor: .commandLine, action: "user.invited", targetKind: "user",
                targetID: "\(bea.id)", address: nil, occurredAt: Fixture.epoch)
            try await store.apply(.inviteUser(bea, invitation), recording: event)
            let reset = PasswordLink(
                digest: OpaqueToken.generate().digest, userID: seed.user.id, workspaceID: seed.workspace.id,
                purpose: .reset, createdAt: now, expiresAt: now.addingTimeInterval(3600))
            try await store.apply(.issuePasswordLink(seed.user, reset), recording: event)

            // Initial access tokens: expired 35 days ago, expired 5 days ago (an admin still sees it), usable.
            func initialToken(expiring expiry: Date) -> InitialAccessToken {
                InitialAccessToken(
                    workspaceID: seed.workspace.id, digest: OpaqueToken.generate().digest, label: "partner",
                    scopes: [.profile], singleUse: true, expiresAt: expiry, createdBy: seed.user.id,
                    createdAt: Fixture.epoch)
            }
            let longGone = initialToken(expiring: Fixture.epoch.addingTimeInterval(day))
            let lately = initialToken(expiring: now.addingTimeInterval(-5 * day))
            let usable = initialToken(expiring: now.addingTimeInterval(day))
            for token in [longGone, lately, usable] {
                try await store.apply(.issueInitialAccessToken(token), recording: event)
            }

            // Audit events: one two years old (the seeding's are at the epoch, forty days ago).
            var ancient = event
            ancient.occurredAt = now.addingTimeInterval(-730 * day)
            try await store.append(ancient)

            let seeded = try await store.retainedRows()
            // One row of each kind at a time, until nothing is left to delete.
            var deleted: [RetainedKind: Int] = [:]
            var rounds = 0
            while let batch = try await store.deleteExpired(before: Self.cutoffs, limit: 1),
                batch.values.contains(where: { $0 > 0 })
            {
                #expect(batch.filter { $0.key != .throttleWindows }.values.allSatisfy { $0 <= 1 })
                deleted.merge(batch, uniquingKeysWith: +)
                rounds += 1
                try #require(rounds < 20)
            }
            #expect(deleted[.authorizationCodes] == 1)
            #expect(deleted[.deviceCodes] == 1)
            #expect(deleted[.passwordLinks] == 1)
            #expect(deleted[.revokedAccessTokens] == 1)
            #expect(deleted[.webSessions] == 2)
            #expect(deleted[.refreshTokens] == 2)
            #expect(deleted[.grants] == 2)
            #expect(deleted[.initialAccessTokens] == 1)
            #expect(deleted[.auditEvents] == 1)
            // Two grants and their refresh tokens went a round apart: the tokens first.
            #expect(rounds >= 2)

            let after = try await store.retainedRows()
            for kind in RetainedKind.allCases where kind != .throttleWindows {
                #expect(after[kind, default: 0] == seeded[kind, default: 0] - deleted[kind, default: 0], "\(kind)")
            }
            #expect(after[.auditEvents, default: 0] >= before[.auditEvents, default: 0])

            // What is still of use reads back.
            #expect(try await store.authorizationCode(digest: liveCodeToken.digest) == liveCode)
            #expect(try await store.authorizationCode(digest: oldCode.digest) == nil)
            #expect(try await store.grant(id: live.id) != nil)
            #expect(try await store.grant(id: recent.id) != nil)
            #expect(try await store.grant(id: revoked.id) == nil)
            #expect(try await store.grant(id: expired.id) == nil)
            #expect(try await store.refreshToken(digest: liveRefresh.digest) != nil)
            #expect(try await store.refreshToken(digest: recentRefresh.digest) != nil)
            #expect(try await store.isAccessTokenRevoked(id: "live-jti"))
            #expect(try await !store.isAccessTokenRevoked(id: "old-jti"))
            #expect(try await store.session(digest: active.digest) != nil)
            #expect(try await store.session(digest: idle.digest) == nil)
            #expect(try await store.deviceCode(deviceDigest: liveDevice.deviceDigest) != nil)
            #expect(try await store.deviceCode(deviceDigest: oldDevice.deviceDigest) == nil)
            #expect(try await store.passwordLink(digest: reset.digest) != nil)
            #expect(try await store.passwordLink(digest: invitation.digest) == nil)
            #expect(try await store.initialAccessToken(id: usable.id) != nil)
            #expect(try await store.initialAccessToken(id: lately.id) != nil)
            #expect(try await store.initialAccessToken(id: longGone.id) == nil)

            // A second pass finds nothing.
            let again = try #require(try await store.deleteExpired(before: Self.cutoffs, limit: 100))
            #expect(again.values.allSatisfy { $0 == 0 }, "\(again)")
        }
    }

    @Test func onPostgreSQLAnInstanceFindingAnotherDeletingSkipsItsTurn() async throws {
        guard Backend.all.contains(.postgres) else { return }
        try await Backend.postgres.withStore { store async throws in
            let postgres = try #require(store as? PostgresStore)
            // Another instance is deleting: it holds the schema's retention lock in its transaction.
            try await postgres.transaction { connection in
                _ = try await connection.query(
                    "SELECT pg_advisory_xact_lock(hashtext('gatehouse_retention_' || current_schema()))",
                    logger: postgres.logger
                ).collect()
                #expect(try await store.deleteExpired(before: Self.cutoffs, limit: 100) == nil)
            }
            // Its transaction over, the lock is free again.
            #expect(try await store.deleteExpired(before: Self.cutoffs, limit: 100) != nil)
        }
    }
}
