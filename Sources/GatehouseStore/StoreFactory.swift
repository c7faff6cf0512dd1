import GatehouseCore
import Logging

/// Opens the backend a `DatabaseLocation` names.
package enum StoreFactory {
    /// The store for `location`. SQLite opens its file now; PostgreSQL connects on first use (`migrate()`).
    /// A server opens it `serving`: an SQLite file then belongs to this process until it ends.
    package static func open(
        _ location: DatabaseLocation, logger: Logger, serving: Bool = false
    ) throws -> any GatehouseStorage {
        switch location {
        case .sqlite(let path): try SQLiteStore(path: path, serving: serving)
        case .postgres(let postgres): PostgresStore(postgres, logger: logger)
        }
    }
}

extension GatehouseStorage {
    /// Runs the store's background work while `body` uses it, migrating first unless told not to; for
    /// short-lived users of a store (commands, tests). A server runs the store as a service instead.
    package func whileRunning<T: Sendable>(
        migrate: Bool = true, _ body: @Sendable (any GatehouseStorage) async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.run() }
            defer { group.cancelAll() }
            if migrate { try await self.migrate() }
            return try await body(self)
        }
    }
}
