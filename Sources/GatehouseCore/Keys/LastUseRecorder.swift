import Foundation

/// Remembers when each key was last used and writes it in batches, so verifying a key costs no write:
/// each key's `last_used_at` is written at most once a minute.
package actor LastUseRecorder {
    /// The least time between two writes for one key.
    package static let interval: TimeInterval = 60

    private let store: any APIKeyStore
    private let clock: any WallClock
    private var pending: [APIKeyID: Date] = [:]
    private var written: [APIKeyID: Date] = [:]

    package init(store: any APIKeyStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// Notes a use; nothing is written yet.
    package func note(_ key: APIKeyID, at date: Date) {
        if let earlier = pending[key], earlier >= date { return }
        pending[key] = date
    }

    /// Writes the uses of keys not written in the last minute (every pending use when `everything`, as at
    /// shutdown) in one store call.
    package func flush(everything: Bool = false) async throws {
        let now = clock.now()
        written = written.filter { now.timeIntervalSince($0.value) < Self.interval }
        let due = pending.filter { everything || written[$0.key] == nil }
        guard !due.isEmpty else { return }
        try await store.recordLastUse(due)
        for (key, date) in due {
            written[key] = now
            if pending[key] == date { pending[key] = nil }
        }
    }

    /// How many keys have a use not yet written.
    package var pendingCount: Int { pending.count }
}
