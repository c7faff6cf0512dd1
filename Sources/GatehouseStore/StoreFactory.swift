import GatehouseCore
import Logging

/// Opens the backend a `DatabaseLocation` names.
package enum StoreFactory {
    /// The store for `location`. SQLite opens its file now; PostgreSQL connects on first use (`migrate()`).
    package static func open(_ location: DatabaseLocation, logger: Logger) throws -> any GatehouseStorage {
        switch location {
        case .sqlite(let path): try SQLiteStore(path: path)
        case .postgres(let postgres): PostgresStore(postgres, logger: logger)
        }
    }
}
