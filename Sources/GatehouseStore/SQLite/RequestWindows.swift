import GatehouseCore
import Synchronization

/// Request counts in fixed windows kept in memory, exact for the one process that serves an SQLite database.
/// Each instance counts windows of one length (a minute for requests, a quarter of an hour for sign-in
/// attempts), so a later window start means every earlier window has ended.
///
/// One process serves an SQLite file (`SQLiteStore.claimServing()` makes sure of it), so counting in memory is
/// as exact as counting in the file, and keeps a write transaction off every request's path. A restart starts
/// the current windows again from zero.
final class RequestWindows: Sendable {
    private struct Window: Hashable {
        var bucket: String
        /// Microseconds since 1970.
        var start: Int64
    }

    private struct State {
        var counts: [Window: Int] = [:]
        /// The newest window start counted; when a later one begins, the windows before it are forgotten.
        var newest: Int64 = .min
    }

    private let state = Mutex(State())

    /// Adds one attempt to `bucket`'s window that starts at `start` and returns the window's count with it.
    func count(_ bucket: String, windowStart start: Int64) -> Int {
        add(bucket, windowStart: start) { _ in 1 }.count
    }

    /// Takes `RateLimiter.leaseSize(left:)` of what `limit` leaves in `bucket`'s window that starts at `start`.
    func lease(_ bucket: String, windowStart start: Int64, limit: Int) -> RequestLease {
        add(bucket, windowStart: start) { count in RateLimiter.leaseSize(left: limit - count) }
    }

    /// Adds `amount(count)` to `bucket`'s window that starts at `start`, where `count` is the window's count before.
    private func add(_ bucket: String, windowStart start: Int64, _ amount: (Int) -> Int) -> RequestLease {
        state.withLock { state in
            if start > state.newest {
                // A new window: those that have ended go, so memory follows the buckets in use.
                state.counts = state.counts.filter { $0.key.start >= start }
                state.newest = start
            }
            let window = Window(bucket: bucket, start: start)
            let before = state.counts[window, default: 0]
            let granted = amount(before)
            state.counts[window] = before + granted
            return RequestLease(granted: granted, count: before + granted)
        }
    }

    /// Takes one back out of `bucket`'s window that starts at `start`, never below zero.
    func forgive(_ bucket: String, windowStart start: Int64) {
        state.withLock { state in
            let window = Window(bucket: bucket, start: start)
            guard let count = state.counts[window] else { return }
            state.counts[window] = count > 1 ? count - 1 : nil
        }
    }
}
