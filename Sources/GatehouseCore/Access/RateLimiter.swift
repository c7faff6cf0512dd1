import Foundation

/// The outcome of counting one request against a credential's limit.
package struct RateLimitDecision: Equatable, Sendable {
    package var allowed: Bool
    package var limit: Int
    /// Requests left in this window after this one.
    package var remaining: Int
    /// Whole seconds until the window resets (1...60).
    package var resetAfter: Int
    /// The credential epoch when the request was counted; a principal read from a cache at an older one must
    /// be verified again.
    package var credentialEpoch: Int64
    /// The window's count, this request included.
    package var count: Int

    package init(
        allowed: Bool, limit: Int, remaining: Int, resetAfter: Int, credentialEpoch: Int64 = 0, count: Int = 0
    ) {
        self.allowed = allowed
        self.limit = limit
        self.remaining = remaining
        self.resetAfter = resetAfter
        self.credentialEpoch = credentialEpoch
        self.count = count
    }

    /// The same count judged against `limit`, for a credential whose limit turned out to have changed.
    package func limited(to limit: Int) -> RateLimitDecision {
        RateLimitDecision(
            allowed: count <= limit, limit: limit, remaining: max(0, limit - count), resetAfter: resetAfter,
            credentialEpoch: credentialEpoch, count: count)
    }
}

/// Fixed one-minute windows aligned to the UTC minute, counted in the store so every instance shares them.
package struct RateLimiter: Sendable {
    let store: any RateLimitStore
    let clock: any WallClock

    package init(store: any RateLimitStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// Counts a request for `bucket` and says whether it is within `limit` a minute.
    package func admit(bucket: String, limit: Int) async throws -> RateLimitDecision {
        let now = clock.now().timeIntervalSince1970
        let windowStart = (now / 60).rounded(.down) * 60
        let counted = try await store.countRequest(
            bucket: bucket, windowStart: Date(timeIntervalSince1970: windowStart))
        let resetAfter = min(60, max(1, Int((windowStart + 60 - now).rounded(.up))))
        return RateLimitDecision(
            allowed: true, limit: limit, remaining: 0, resetAfter: resetAfter, credentialEpoch: counted.credentialEpoch,
            count: counted.count
        ).limited(to: limit)
    }
}
