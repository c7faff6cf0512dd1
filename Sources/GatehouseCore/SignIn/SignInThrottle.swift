import Foundation

/// Slows password guessing: after too many failed sign-ins for one account, or from one address, within a
/// quarter of an hour, further attempts are refused until the window ends. Counted in the store, so every
/// instance shares the count.
package struct SignInThrottle: Sendable {
    let store: any RateLimitStore
    let clock: any WallClock
    let perAccount: Int
    let perAddress: Int
    let window: TimeInterval

    package init(
        store: any RateLimitStore, clock: any WallClock, perAccount: Int = 10, perAddress: Int = 50,
        window: TimeInterval = 900
    ) {
        self.store = store
        self.clock = clock
        self.perAccount = perAccount
        self.perAddress = perAddress
        self.window = window
    }

    /// Seconds until another attempt is allowed, or nil when one is allowed now.
    package func retryAfter(email: String, address: String?) async throws -> Int? {
        let (start, remaining) = currentWindow()
        if try await store.requestCount(bucket: Self.accountBucket(email), windowStart: start) >= perAccount {
            return remaining
        }
        if let address,
            try await store.requestCount(bucket: Self.addressBucket(address), windowStart: start) >= perAddress
        {
            return remaining
        }
        return nil
    }

    /// Counts a failed attempt against the account and the address.
    package func recordFailure(email: String, address: String?) async throws {
        let (start, _) = currentWindow()
        _ = try await store.countRequest(bucket: Self.accountBucket(email), windowStart: start)
        if let address { _ = try await store.countRequest(bucket: Self.addressBucket(address), windowStart: start) }
    }

    private func currentWindow() -> (start: Date, remaining: Int) {
        let now = clock.now().timeIntervalSince1970
        let start = (now / window).rounded(.down) * window
        return (Date(timeIntervalSince1970: start), max(1, Int((start + window - now).rounded(.up))))
    }

    /// Keyed by the address as typed (normalised), so unknown accounts are throttled exactly like known ones.
    private static func accountBucket(_ email: String) -> String {
        "sign_in:account:" + email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    private static func addressBucket(_ address: String) -> String { "sign_in:address:" + address }
}
