import Foundation
import Synchronization

/// The source of "now" for every rule that involves time (expiry, rate-limit windows, grace periods).
///
/// Injected everywhere so that tests move time forward instead of sleeping.
package protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Date
}

/// The real clock.
package struct SystemClock: WallClock {
    package init() {}
    package func now() -> Date { Date() }
}

/// A clock that stands still until a test moves it.
package final class ManualClock: WallClock {
    private let current: Mutex<Date>

    /// Starts at `start`, by default a fixed whole-second instant so stored times round-trip exactly.
    package init(_ start: Date = Date(timeIntervalSince1970: 1_790_000_000)) {
        self.current = Mutex(start)
    }

    package func now() -> Date { current.withLock { $0 } }

    /// Moves the clock forward by `interval` seconds.
    package func advance(by interval: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(interval) }
    }
}
