import Foundation
import GRDBSQLite
import Synchronization

/// Copies the WAL back into the database file from a thread of its own, while the server runs.
///
/// SQLite's automatic checkpoint runs inside whichever commit crosses the WAL's size limit, and it ends with an
/// fsync; every write queued behind that commit waits for the disk. The serving store turns it off and checkpoints
/// here instead, passively: the writer never waits for it, and it never waits for the writer or a reader.
final class Checkpointer: Sendable {
    private let path: String
    private let stopped = Atomic<Bool>(false)
    /// How long the thread sleeps between checkpoints, in microseconds (100 ms).
    static let intervalMicroseconds: UInt32 = 100_000

    init(path: String) {
        self.path = path
    }

    /// Starts the thread; it checkpoints until `stop()`.
    func start() {
        let thread = Thread { [self] in
            // Named from inside: on Linux, Foundation's `name` set beforehand does not reach the kernel, and the
            // thread would show in `top -H` under the name of the event loop that started it.
            Thread.current.name = "gh-checkpoint"
            loop()
        }
        thread.start()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private func loop() {
        var database: OpaquePointer?
        guard sqlite3_open_v2(path, &database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK else {
            sqlite3_close_v2(database)
            return
        }
        sqlite3_busy_timeout(database, 1000)
        defer { sqlite3_close_v2(database) }
        // A connection finds the file in WAL mode at its first read; until then it has no WAL to checkpoint.
        _ = sqlite3_exec(database, "PRAGMA journal_mode", nil, nil, nil)
        while !stopped.load(ordering: .relaxed) {
            // PASSIVE: copies what no reader still needs, waits for no one; a busy result is simply tried again.
            _ = sqlite3_wal_checkpoint_v2(database, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            usleep(Self.intervalMicroseconds)
        }
    }
}
