import Foundation

/// The kinds of rows that outlive their use, each deleted by retention once it is past its moment.
package enum RetainedKind: String, CaseIterable, Comparable, Sendable {
    case authorizationCodes = "authorization_codes"
    case deviceCodes = "device_codes"
    case passwordLinks = "password_links"
    case webSessions = "web_sessions"
    case revokedAccessTokens = "revoked_access_tokens"
    /// Expired refresh tokens, and every refresh token of a grant that has ended.
    case refreshTokens = "refresh_tokens"
    /// Grants no token issued under can still use: revoked, or with no refresh token left, for longer than any
    /// access token lives.
    case grants = "oauth_grants"
    /// Request counts and sign-in, reset and registration attempts, in windows that ended.
    case throttleWindows = "throttle_windows"
    case initialAccessTokens = "initial_access_tokens"
    case auditEvents = "audit_events"

    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The moments before which each kind of row is of no more use (`RetentionStore.deleteExpired`).
package struct RetentionCutoffs: Equatable, Sendable {
    /// Codes, device codes, password links, sessions, revocation-list entries and refresh tokens that expired
    /// before this are deleted: now.
    package var expiredBefore: Date
    /// Sessions last used before this have timed out for idleness.
    package var idleBefore: Date
    /// Grants that ended before this (revoked, or their last refresh token expired) are deleted with their
    /// refresh tokens: no access token issued under them is alive any more.
    package var grantsEndedBefore: Date
    /// Throttle windows that started before this have ended.
    package var windowsStartedBefore: Date
    /// Initial access tokens that expired, were revoked or were used up before this are deleted; until then an
    /// admin still sees what became of them.
    package var registrationTokensEndedBefore: Date
    /// Audit events that occurred before this are deleted.
    package var auditBefore: Date

    package init(
        expiredBefore: Date, idleBefore: Date, grantsEndedBefore: Date, windowsStartedBefore: Date,
        registrationTokensEndedBefore: Date, auditBefore: Date
    ) {
        self.expiredBefore = expiredBefore
        self.idleBefore = idleBefore
        self.grantsEndedBefore = grantsEndedBefore
        self.windowsStartedBefore = windowsStartedBefore
        self.registrationTokensEndedBefore = registrationTokensEndedBefore
        self.auditBefore = auditBefore
    }
}

/// Deletes the rows that outlived their use, a small batch of each kind at a time.
package protocol RetentionStore: Sendable {
    /// Deletes at most `limit` rows of each kind past its cutoff, in one short transaction, and says how many of
    /// each it deleted. Returns nil, deleting nothing, while another instance is deleting (PostgreSQL's advisory
    /// lock), so instances on one database take turns.
    func deleteExpired(before cutoffs: RetentionCutoffs, limit: Int) async throws -> [RetainedKind: Int]?
    /// How many rows of each kind the store holds, expired or not: what an operator watches, and what the
    /// retention test holds steady.
    func retainedRows() async throws -> [RetainedKind: Int]
}

/// Keeps the store from growing without end: what expired, ended or timed out is deleted, in small batches, and
/// audit events after `auditRetention` (a year by default).
package struct Retention: Sendable {
    let store: any RetentionStore
    let clock: any WallClock
    let settings: OAuthSettings
    let auditRetention: TimeInterval
    let batchSize: Int

    /// How long a self-registration or sign-in throttle window may last; ended ones go a day after they began.
    static let longestWindow: TimeInterval = 86_400
    /// How long an admin still sees an initial access token that can no longer be used.
    package static let registrationTokenAfterlife: TimeInterval = 30 * 86_400
    package static let defaultAuditRetention: TimeInterval = 365 * 86_400
    /// From a day (an operator who keeps no history) to ten years.
    package static let auditRetentions: ClosedRange<TimeInterval> = 86_400...(3650 * 86_400)

    package init(
        store: any RetentionStore, clock: any WallClock, settings: OAuthSettings,
        auditRetention: TimeInterval = Retention.defaultAuditRetention, batchSize: Int = 500
    ) {
        self.store = store
        self.clock = clock
        self.settings = settings
        self.auditRetention = auditRetention
        self.batchSize = batchSize
    }

    /// The cut-offs as of `now`. An access token names its grant and lives at most a day (the longest lifetime
    /// an operator or a resource server may set), so a grant that ended more than a day ago has no live token;
    /// an hour more covers clocks a little apart between instances.
    package func cutoffs(at now: Date) -> RetentionCutoffs {
        let longestAccessToken = OAuthSettings.accessTokenLifetimes.upperBound
        return RetentionCutoffs(
            expiredBefore: now, idleBefore: now.addingTimeInterval(-settings.sessionIdleTimeout),
            grantsEndedBefore: now.addingTimeInterval(-(longestAccessToken + 3600)),
            windowsStartedBefore: now.addingTimeInterval(-Self.longestWindow),
            registrationTokensEndedBefore: now.addingTimeInterval(-Self.registrationTokenAfterlife),
            auditBefore: now.addingTimeInterval(-auditRetention))
    }

    /// Deletes batches until no kind fills one, or until `shouldStop`; returns how many of each it deleted, or
    /// nil when another instance was deleting.
    package func sweep(shouldStop: @Sendable () -> Bool = { false }) async throws -> [RetainedKind: Int]? {
        var total: [RetainedKind: Int] = [:]
        while !shouldStop() {
            guard let deleted = try await store.deleteExpired(before: cutoffs(at: clock.now()), limit: batchSize)
            else { return total.isEmpty ? nil : total }
            total.merge(deleted, uniquingKeysWith: +)
            guard deleted.values.contains(where: { $0 >= batchSize }) else { break }
        }
        return total
    }
}
