import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseStore
import Logging

/// `--database`, shared by every command that touches the store.
struct DatabaseOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "A SQLite file path or a postgres:// URL (env GATEHOUSE_DATABASE).",
            valueName: "path-or-url"))
    var database: String?

    /// The location from the flag, else the environment, else the embedded default.
    func location() throws -> DatabaseLocation {
        let raw = database ?? Environment.value("GATEHOUSE_DATABASE") ?? DatabaseLocation.defaultSQLitePath
        return try DatabaseLocation(parsing: raw)
    }

    /// Opens and migrates the store, runs `body` with it, then closes it.
    func withStore<T: Sendable>(_ body: @Sendable (any GatehouseStorage) async throws -> T) async throws -> T {
        try await StoreFactory.open(try location(), logger: Logger(label: "gatehouse.store")).whileRunning(body)
    }
}

/// Reads configuration from the process environment; empty values count as unset.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
