import Foundation
import Synchronization

/// Remembers when each key was last used and writes it in batches, so verifying a key costs no write:
/// each key's `last_used_at` is written at most once a minute.
package final class LastUseRecorder: Sendable {
    /// The least time between two writes for one key.
    package static let interval: TimeInterval = 60

    private struct State {
        var pending: [APIKeyID: Date] = [:]
        var written: [APIKeyID: Date] = [:]
    }

    private let store: any APIKeyStore
    private let clock: any WallClock
    // A lock, not an actor: noting a use is on every key-authenticated request's path.
    private let state = Mutex(State())

    package init(store: any APIKeyStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// Notes a use; nothing is written yet.
    package func note(_ key: APIKeyID, at date: Date) {
        state.withLock { state in
            if let earlier = state.pending[key], earlier >= date { return }
            state.pending[key] = date
        }
    }

    /// Writes the uses of keys not written in the last minute (every pending use when `everything`, as at
    /// shutdown) in one store call.
    package func flush(everything: Bool = false) async throws {
        let now = clock.now()
        let due = state.withLock { state in
            state.written = state.written.filter { now.timeIntervalSince($0.value) < Self.interval }
            return state.pending.filter { everything || state.written[$0.key] == nil }
        }
        guard !due.isEmpty else { return }
        try await store.recordLastUse(due)
        state.withLock { state in
            for (key, date) in due {
                state.written[key] = now
                if state.pending[key] == date { state.pending[key] = nil }
            }
        }
    }

    /// How many keys have a use not yet written.
    package var pendingCount: Int { state.withLock { $0.pending.count } }
}
