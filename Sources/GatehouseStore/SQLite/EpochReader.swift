import GRDBSQLite
import GatehouseCore
import Synchronization

/// Reads the credential epoch for every counted request, through a connection of its own with its one statement
/// prepared once.
///
/// The server is the only process serving the file, but the command line changes keys, users and clients in it
/// too, so the epoch is read from the file each time. In WAL mode that takes microseconds and never waits for a
/// writer; going through the connection pool instead would hop to another thread and back on every request.
final class EpochReader: Sendable {
    private struct Handles {
        var database: OpaquePointer?
        var statement: OpaquePointer?
    }

    private let path: String
    private let handles = Mutex(Handles())

    init(path: String) {
        self.path = path
    }

    deinit {
        handles.withLock { handles in
            sqlite3_finalize(handles.statement)
            sqlite3_close_v2(handles.database)
        }
    }

    /// The epoch now in the file.
    func read() throws -> Int64 {
        try handles.withLock { handles in
            let statement = try Self.prepared(&handles, path: path)
            defer { sqlite3_reset(statement) }
            switch sqlite3_step(statement) {
            case SQLITE_ROW: return sqlite3_column_int64(statement, 0)
            case SQLITE_DONE: return 0
            default: throw Self.failure(handles.database, "cannot read the credential epoch")
            }
        }
    }

    private static func prepared(_ handles: inout Handles, path: String) throws -> OpaquePointer {
        if let statement = handles.statement { return statement }
        if handles.database == nil {
            var database: OpaquePointer?
            let opened = sqlite3_open_v2(path, &database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
            guard opened == SQLITE_OK, let database else {
                let error = failure(database, "cannot open \(path) to read the credential epoch")
                sqlite3_close_v2(database)
                throw error
            }
            sqlite3_busy_timeout(database, 10_000)
            handles.database = database
        }
        var statement: OpaquePointer?
        let sql = "SELECT value FROM credential_epoch WHERE id = 1"
        guard
            sqlite3_prepare_v3(handles.database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
                == SQLITE_OK, let statement
        else { throw failure(handles.database, "cannot prepare the credential epoch read") }
        handles.statement = statement
        return statement
    }

    private static func failure(_ database: OpaquePointer?, _ context: String) -> StoreUnavailable {
        let message = database.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "out of memory"
        return StoreUnavailable("\(context): \(message)")
    }
}
