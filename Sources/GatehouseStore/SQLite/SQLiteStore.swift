import Foundation
import GRDB
import GatehouseCore
import NIOCore
import Synchronization

/// The embedded default: one SQLite file in WAL mode, foreign keys on, every multi-row change in one
/// transaction. One server process serves a file; request counts live in that process's memory.
package final class SQLiteStore: GatehouseStorage {
    let pool: DatabasePool
    let windows = RequestWindows()
    /// Sign-in attempts, in quarter-hour windows of their own.
    let signInWindows = RequestWindows()
    let epoch: EpochReader
    let writes: GroupCommit
    /// The lock file held while serving, so a second server on the same file refuses to start.
    private let servingLock: ServingLock?
    /// While serving, checkpoints run on a thread of their own instead of inside a commit.
    private let checkpointer: Checkpointer?
    /// Reads running and writes queued or running.
    private let inFlight = Atomic<Int>(0)

    /// Opens (creating if needed) the database at `path`, creating its folder too. With `serving`, also claims
    /// the file for this process: a second server on it would count requests apart, so it refuses to start.
    /// Throws `StoreUnavailable` with a readable reason when the path cannot be used.
    package init(path: String, serving: Bool = false) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            // The database holds password hashes and every digest: only the server's own user may read it.
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // SQLite gives the -wal and -shm files the database file's own permissions. Created with O_EXCL, never
            // replaced: FileManager's createFile writes a new file and renames it over the path, which swapped the
            // database from under another process opening the same new file at the same moment (two databases
            // behind one name, migrations applied twice, a malformed schema).
            let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
            if descriptor >= 0 {
                close(descriptor)
            } else if errno != EEXIST {
                throw StoreUnavailable("cannot create the SQLite database at \(path)")
            }
        } catch let error as StoreUnavailable {
            throw error
        } catch {
            throw StoreUnavailable("cannot create the folder \(folder.path) for the SQLite database")
        }
        servingLock = serving ? try ServingLock(databasePath: path) : nil
        epoch = EpochReader(path: path)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.label = "gatehouse"
        configuration.maximumReaderCount = Self.readerCount
        checkpointer = serving ? Checkpointer(path: path) : nil
        if serving {
            // A commit checkpoints only past 16 MB of WAL, by then mostly copied by the checkpointer; the file is
            // cut back to 64 MB after a checkpoint that empties it.
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 4000")
                try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
            }
        }
        do {
            pool = try Self.openPool(path: path, configuration: configuration)
            writes = GroupCommit(pool: pool, translate: Self.translated)
        } catch let error as DatabaseError {
            throw StoreUnavailable(
                "cannot open the SQLite database at \(path): \(error.message ?? "\(error.resultCode)")")
        }
    }

    /// Reads run on the thread that asks, which is an event loop's while serving (see `read`): with a reader
    /// connection for every thread that can run a task, and some to spare for the others, a read never waits for a
    /// connection while holding its loop, which would stall every other connection the loop serves. (GRDB's
    /// default is five, fewer than the loops of a bigger machine.)
    package static var readerCount: Int { System.coreCount + 4 }

    /// Opens the pool. Processes opening one new file at once race to switch it to WAL, which needs the file to
    /// themselves, and SQLite answers the loser SQLITE_BUSY without waiting: it tries again, for up to a second.
    private static func openPool(path: String, configuration: Configuration) throws -> DatabasePool {
        var attempt = 1
        while true {
            do {
                return try DatabasePool(path: path, configuration: configuration)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && attempt < 50 {
                attempt += 1
                usleep(20_000)
            }
        }
    }

    package func migrate() async throws -> [Int] {
        try await pool.writeWithoutTransaction { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS gatehouse_migrations (
                        version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at INTEGER NOT NULL)
                    """)
            var applied: [Int] = []
            for migration in SQLiteMigrations.all {
                // IMMEDIATE takes the write lock before reading, so two processes cannot both apply a version.
                try db.inTransaction(.immediate) {
                    let done =
                        try Bool.fetchOne(
                            db, sql: "SELECT EXISTS (SELECT 1 FROM gatehouse_migrations WHERE version = ?)",
                            arguments: [migration.version]) ?? false
                    if !done {
                        for statement in migration.statements { try db.execute(sql: statement) }
                        try db.execute(
                            sql: "INSERT INTO gatehouse_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                            arguments: [migration.version, migration.name, Date().microsecondsSince1970])
                        applied.append(migration.version)
                    }
                    return .commit
                }
            }
            return applied
        }
    }

    package func checkReachable() async throws {
        do {
            _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
        } catch {
            throw StoreUnavailable("the SQLite database cannot be read: \(error)")
        }
    }

    package func run() async {
        // The checkpoints, when serving; otherwise nothing runs in the background. Stay alive until cancelled like
        // the other services.
        checkpointer?.start()
        await Self.waitUntilCancelled()
        checkpointer?.stop()
        // The last service to stop: nothing serves the file any more.
        servingLock?.release()
    }

    /// One process serves an SQLite file; changes the command line makes still show as a newer epoch at the next
    /// counted request.
    package func watchCredentialEpoch(_ signal: @escaping @Sendable (CredentialEpochSignal) async -> Void) async {
        await Self.waitUntilCancelled()
    }

    private static func waitUntilCancelled() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
    }

    /// Runs `body` in a write transaction (shared with the writes waiting beside it, each in a savepoint: see
    /// `GroupCommit`), turning uniqueness failures into `UniqueViolation`.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        inFlight.add(1, ordering: .relaxed)
        defer { inFlight.subtract(1, ordering: .relaxed) }
        return try await writes.write(body)
    }

    /// One writer, and readers as many as the pool allows.
    package var load: StoreLoad {
        StoreLoad(
            backend: "sqlite", inFlight: inFlight.load(ordering: .relaxed),
            connections: 1 + pool.configuration.maximumReaderCount)
    }

    private static func translated(_ error: any Error) -> any Error {
        guard let error = error as? DatabaseError,
            error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
                || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
        else { return error }
        return uniqueViolation(error.message ?? "")
    }

    /// Runs `body`, one statement, on a reader connection on the calling thread. In WAL mode a read never waits
    /// for the writer, and the store's reads take microseconds, so this beats hopping to a reader's queue and
    /// back (two thread switches a read, several reads a token request).
    ///
    /// Every read of this store is a single statement, which SQLite runs in a transaction of its own, so it
    /// sees one snapshot. GRDB's isolated `read` would wrap it in four more statements (a savepoint, its
    /// release, read-only mode on and off): most of a read's cost. A read of several statements that must
    /// agree would need a transaction of its own.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        inFlight.add(1, ordering: .relaxed)
        defer { inFlight.subtract(1, ordering: .relaxed) }
        return try readHere(body)
    }

    /// Not async, so it is GRDB's blocking `unsafeRead` that is called.
    private func readHere<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.unsafeRead(body)
    }

    private static func uniqueViolation(_ message: String) -> any Error {
        // SQLite names the columns: "UNIQUE constraint failed: users.email".
        if message.contains("workspaces.slug") { return UniqueViolation(.workspaceSlug) }
        if message.contains("users.email") { return UniqueViolation(.userEmail) }
        if message.contains("departments.workspace_id, departments.name") { return UniqueViolation(.departmentName) }
        if message.contains("scope_definitions.workspace_id, scope_definitions.name") {
            return UniqueViolation(.scopeName)
        }
        if message.contains("api_keys.secret_digest") { return UniqueViolation(.apiKeyDigest) }
        if message.contains("clients.client_id") { return UniqueViolation(.clientID) }
        if message.contains("resource_servers.identifier") { return UniqueViolation(.resourceIdentifier) }
        return StoreUnavailable("unexpected uniqueness failure: \(message)")
    }
}

extension Date {
    /// Whole microseconds since 1970, the precision both backends keep.
    var microsecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1_000_000).rounded()) }

    init(microsecondsSince1970 value: Int64) {
        self.init(timeIntervalSince1970: Double(value) / 1_000_000)
    }
}
