import Foundation
import GatehouseCore

/// Where the data lives: an embedded SQLite file, or a PostgreSQL server chosen by a `postgres://` URL.
package enum DatabaseLocation: Equatable, Sendable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// The embedded default, relative to the working directory.
    package static let defaultSQLitePath = "gatehouse-data/gatehouse.sqlite"

    /// Parses `--database`: a `postgres://` or `postgresql://` URL, or else a file path for SQLite.
    package init(parsing raw: String) throws(DomainError) {
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") {
            self = .postgres(try PostgresLocation(url: trimmed))
        } else if trimmed.contains("://") {
            throw .invalidInput(
                field: "database",
                message: "'\(Self.redacted(trimmed))' is not a database Gatehouse supports: "
                    + "give a SQLite file path or a postgres:// URL.")
        } else if trimmed.isEmpty {
            throw .invalidInput(field: "database", message: "The database path must not be empty.")
        } else {
            self = .sqlite(path: trimmed)
        }
    }

    /// Describes the location without its password, for logs and errors.
    package var description: String {
        switch self {
        case .sqlite(let path): "SQLite at \(path)"
        case .postgres(let location): "PostgreSQL at \(location.host):\(location.port)/\(location.database)"
        }
    }

    private static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}

/// A parsed `postgres://user:password@host:port/database?sslmode=…&schema=…` URL.
package struct PostgresLocation: Equatable, Sendable {
    /// How to use TLS, after libpq's `sslmode`.
    package enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    package var host: String
    package var port: Int
    package var username: String
    package var password: String?
    package var database: String
    package var tls: TLSMode
    /// The schema Gatehouse's tables live in; `public` when not given.
    package var schema: String?

    package init(url: String) throws(DomainError) {
        func invalid(_ why: String) -> DomainError {
            .invalidInput(field: "database", message: "The PostgreSQL URL is not usable: \(why).")
        }
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw invalid("it needs a host, as in postgres://user:password@localhost:5432/gatehouse")
        }
        guard let user = components.user, !user.isEmpty else {
            throw invalid("it needs a user name, as in postgres://gatehouse@\(host)/gatehouse")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? username : path
        let query = components.queryItems ?? []
        let sslmode = query.first { $0.name == "sslmode" }?.value ?? "prefer"
        switch sslmode {
        case "disable": self.tls = .disable
        case "allow", "prefer": self.tls = .prefer
        case "require", "verify-ca", "verify-full": self.tls = .require
        default: throw invalid("sslmode '\(sslmode)' is not one of disable, prefer, require")
        }
        if let schema = query.first(where: { $0.name == "schema" })?.value {
            let valid = schema.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
            }
            guard valid, let first = schema.unicodeScalars.first, !("0"..."9").contains(first), schema.count <= 63
            else { throw invalid("schema '\(schema)' must be lowercase letters, digits and underscores") }
            self.schema = schema
        }
    }
}
