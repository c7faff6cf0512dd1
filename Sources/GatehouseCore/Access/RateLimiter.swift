import Foundation
import Synchronization

/// The outcome of counting one request against a credential's limit.
package struct RateLimitDecision: Equatable, Sendable {
    package var allowed: Bool
    package var limit: Int
    /// Requests left in this window after this one, as far as this instance knows.
    package var remaining: Int
    /// Whole seconds until the window resets (1...60).
    package var resetAfter: Int

    package init(allowed: Bool, limit: Int, remaining: Int, resetAfter: Int) {
        self.allowed = allowed
        self.limit = limit
        self.remaining = remaining
        self.resetAfter = resetAfter
    }
}

/// Fixed one-minute windows aligned to the UTC minute, counted in the store so every instance shares them.
///
/// An instance does not write the count for every request: it leases quota from the shared count
/// (`leaseSize(left:)`: a tenth of what is left in the window, at least one) and admits requests from its lease
/// until it is used up, then leases again, one lease at a time per bucket (requests that find one on its way wait
/// for it). A busy key costs a store write per lease, not per request.
///
/// - Never over: every lease comes out of the window's one count in an atomic step that stops at the limit, so
///   all instances together admit at most `limit` requests in a window.
/// - Rarely under: what an instance leased and did not use before the window ended is lost to the others. That
///   is at most its last lease less the request that took it: under a tenth of the limit per other instance, and
///   nothing for a limit under 20, whose leases are of one. A 60-a-minute key on two instances admits at least
///   55 in a window that asks for more; on one instance, exactly the limit.
///
/// A window whose quota is gone is refused from memory until it ends, unless the credential's limit changes.
package final class RateLimiter: Sendable {
    /// What this instance holds of one bucket's window.
    private struct Lease {
        var windowStart: Int64
        /// The limit the quota was leased against; another limit leases again.
        var limit: Int
        /// Requests this instance may still admit from its leases.
        var unused: Int
        /// What the window had left for every instance after this instance's last lease.
        var leftInWindow: Int
    }

    private struct State {
        var leases: [String: Lease] = [:]
        /// The lease being taken for a bucket, which its other requests wait for.
        var leasing: [String: Task<Void, any Error>] = [:]
    }

    private enum Step {
        case decided(RateLimitDecision)
        case wait(Task<Void, any Error>)
    }

    let store: any RateLimitStore
    let clock: any WallClock
    private let state = Mutex(State())

    package init(store: any RateLimitStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// The share of `left` one lease takes: a tenth, at least one, never more than is left.
    package static func leaseSize(left: Int) -> Int {
        left <= 0 ? 0 : min(left, max(1, left / 10))
    }

    /// Counts a request for `bucket` and says whether it is within `limit` a minute.
    package func admit(bucket: String, limit: Int) async throws -> RateLimitDecision {
        let now = clock.now().timeIntervalSince1970
        let minute = (now / 60).rounded(.down) * 60
        let windowStart = Int64(minute)
        let resetAfter = min(60, max(1, Int((minute + 60 - now).rounded(.up))))
        while true {
            switch step(bucket, windowStart: windowStart, limit: limit, resetAfter: resetAfter) {
            case .decided(let decision): return decision
            case .wait(let leasing): try await leasing.value
            }
        }
    }

    /// Decides from what this instance holds; or else hands back the lease on its way, starting one if none is.
    private func step(_ bucket: String, windowStart: Int64, limit: Int, resetAfter: Int) -> Step {
        state.withLock { state in
            if var lease = state.leases[bucket], lease.windowStart == windowStart, lease.limit == limit {
                if lease.unused > 0 {
                    lease.unused -= 1
                    state.leases[bucket] = lease
                    return .decided(
                        RateLimitDecision(
                            allowed: true, limit: limit, remaining: lease.unused + lease.leftInWindow,
                            resetAfter: resetAfter))
                }
                if lease.leftInWindow == 0 {
                    return .decided(
                        RateLimitDecision(allowed: false, limit: limit, remaining: 0, resetAfter: resetAfter))
                }
            }
            if let leasing = state.leasing[bucket] { return .wait(leasing) }
            let leasing = Task {
                defer { self.state.withLock { _ = $0.leasing.removeValue(forKey: bucket) } }
                let lease = try await self.store.leaseRequests(
                    bucket: bucket, windowStart: Date(timeIntervalSince1970: TimeInterval(windowStart)), limit: limit)
                self.keep(lease, bucket, windowStart: windowStart, limit: limit)
            }
            state.leasing[bucket] = leasing
            return .wait(leasing)
        }
    }

    /// Adds what `lease` granted to what this instance holds of the window.
    private func keep(_ lease: RequestLease, _ bucket: String, windowStart: Int64, limit: Int) {
        state.withLock { state in
            let left = max(0, limit - lease.count)
            if var held = state.leases[bucket], held.windowStart == windowStart, held.limit == limit {
                held.unused += lease.granted
                held.leftInWindow = min(held.leftInWindow, left)
                state.leases[bucket] = held
            } else {
                if state.leases.count >= 100_000 {
                    state.leases = state.leases.filter { $0.value.windowStart >= windowStart }
                }
                state.leases[bucket] = Lease(
                    windowStart: windowStart, limit: limit, unused: lease.granted, leftInWindow: left)
            }
        }
    }
}
