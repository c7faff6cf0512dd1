import Foundation

/// Counts sign-in attempts per account and per address in quarter-hour windows of their own, shared by every
/// instance on the same database; apart from the per-minute request counts, whose windows live a minute.
package protocol SignInAttemptStore: Sendable {
    /// Adds one attempt to `bucket`'s window that starts at `windowStart` and returns the window's count
    /// including it, in one atomic step: parallel attempts each see a different count.
    func countAttempt(bucket: String, windowStart: Date) async throws -> Int
    /// Takes one attempt back out of that window, never below zero: the attempt succeeded.
    func forgiveAttempt(bucket: String, windowStart: Date) async throws
}

/// Slows password guessing: at most `perAccount` attempts for one account, and `perAddress` from one address,
/// are judged within a quarter of an hour; further ones are refused, unjudged, until the window ends.
///
/// An attempt is counted before its password is checked, atomically, so parallel guesses cannot all be judged
/// against one stale count; an attempt that succeeds is taken back out, so signing in does not use up the
/// allowance.
package struct SignInThrottle: Sendable {
    let store: any SignInAttemptStore
    let clock: any WallClock
    let perAccount: Int
    let perAddress: Int
    let window: TimeInterval
    /// What is counted, naming its buckets: `sign_in` (password guesses), `password_reset` (reset emails).
    let purpose: String

    package init(
        store: any SignInAttemptStore, clock: any WallClock, perAccount: Int = 10, perAddress: Int = 50,
        window: TimeInterval = 900, purpose: String = "sign_in"
    ) {
        self.store = store
        self.clock = clock
        self.perAccount = perAccount
        self.perAddress = perAddress
        self.window = window
        self.purpose = purpose
    }

    /// One counted attempt, to be forgiven if it succeeds.
    package struct Attempt: Sendable {
        let buckets: [String]
        let windowStart: Date
    }

    /// Counts an attempt against the account and the address, then judges it: the attempt to go on with, or
    /// `SignInRefusal.throttled` when either is past its limit.
    package func admit(email: String, address: String?) async throws -> Attempt {
        let (start, remaining) = currentWindow()
        let account = try await store.countAttempt(bucket: accountBucket(email), windowStart: start)
        var buckets = [accountBucket(email)]
        var overLimit = account > perAccount
        if let address {
            let fromAddress = try await store.countAttempt(bucket: addressBucket(address), windowStart: start)
            buckets.append(addressBucket(address))
            overLimit = overLimit || fromAddress > perAddress
        }
        if overLimit { throw SignInRefusal.throttled(retryAfter: remaining) }
        return Attempt(buckets: buckets, windowStart: start)
    }

    /// Takes a successful attempt back out of its windows.
    package func forgive(_ attempt: Attempt) async throws {
        for bucket in attempt.buckets {
            try await store.forgiveAttempt(bucket: bucket, windowStart: attempt.windowStart)
        }
    }

    private func currentWindow() -> (start: Date, remaining: Int) {
        let now = clock.now().timeIntervalSince1970
        let start = (now / window).rounded(.down) * window
        return (Date(timeIntervalSince1970: start), max(1, Int((start + window - now).rounded(.up))))
    }

    /// Keyed by the address as typed (normalised), so unknown accounts are throttled exactly like known ones.
    private func accountBucket(_ email: String) -> String {
        purpose + ":account:" + email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    private func addressBucket(_ address: String) -> String { purpose + ":address:" + address }
}
