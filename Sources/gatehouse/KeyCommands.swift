import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseStore

/// `gatehouse keys`: the operator's view of API keys. The operator acts with every right, as the audit
/// trail records (`cli`).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create, list, revoke and reactivate API keys.",
        subcommands: [Create.self, List.self, Revoke.self, Reactivate.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Generate a user key (--user) or a client application's service key (--client). The key is printed "
                + "once, on the last line.")

        @Option(help: "The email of the user the key acts for.") var user: String?
        @Option(help: "The client_id of the client application the service key belongs to.") var client: String?
        @Option(help: "A name that says what the key is for.") var name: String
        @Option(
            help: """
                A scope the key may use (repeat for more; default: everything the user's role allows, or every \
                scope of the workspace for a service key).
                """)
        var scope: [String] = []
        @Option(help: "How long until the key expires, such as 90d, 12h or 30m (default: never).")
        var expiresIn: String?
        @Option(help: "Requests a minute (default: the installation's).") var rateLimit: Int?
        @OptionGroup var keys: KeyOptions
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let owner = try KeysCommand.owner(user: user, client: client)
                let clock = SystemClock()
                let input = NewAPIKey(
                    name: try DisplayName(name), scopes: scope.isEmpty ? .ownerRights : try KeyScopes(names: scope),
                    expiresAt: try expiresIn.map { clock.now().addingTimeInterval(try Self.duration($0)) },
                    rateLimitPerMinute: rateLimit)
                let location = try database.location()
                let service = try KeysCommand.service(keys, location: location)
                let (key, plaintext) = try await database.withStore { store in
                    try await service(store).create(input, for: try await owner.resolve(in: store), by: .commandLine)
                }
                print("Created API key '\(key.name)' (\(key.id)) for \(owner).")
                let everything = client == nil ? "everything the user's role allows" : "every scope of the workspace"
                print("Scopes: \(key.scopes.names?.joined(separator: " ") ?? everything)")
                if let expiresAt = key.expiresAt { print("Expires: \(expiresAt.formatted(.iso8601))") }
                print("Copy the key now; it is not shown again:")
                print(plaintext.value)
            }
        }

        /// Parses `90d`, `12h`, `30m` or `2w` into seconds.
        static func duration(_ text: String) throws -> TimeInterval {
            let units: [Character: TimeInterval] = ["m": 60, "h": 3600, "d": 86400, "w": 604_800]
            guard let unit = text.last.flatMap({ units[$0] }), let amount = Int(text.dropLast()), amount > 0 else {
                throw DomainError.invalidInput(
                    field: "expires-in",
                    message: "'\(text)' is not a duration; use a number and m, h, d or w, like 90d.")
            }
            return TimeInterval(amount) * unit
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys (never the keys themselves).")

        @Option(help: "Only this workspace (default: every workspace).") var workspace: String?
        @Option(help: "Only keys with this status: active or revoked.") var status: String?
        @Option(help: "Only the keys of the user with this email.") var user: String?
        @Option(help: "Only the service keys of the client application with this client_id.") var client: String?
        @OptionGroup var keys: KeyOptions
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let status = try status.map { try KeyStatus(parsing: $0) }
                let filter = user == nil && client == nil ? nil : try KeysCommand.owner(user: user, client: client)
                let slug = try workspace.map { try WorkspaceSlug($0) }
                let location = try database.location()
                let service = try KeysCommand.service(keys, location: location)
                let rows = try await database.withStore { store in
                    let directory = directory(store)
                    let workspaces =
                        if let slug { [try await directory.workspace(slug)] } else { try await directory.workspaces() }
                    let owner = try await filter?.resolve(in: store)
                    var rows: [[String]] = []
                    for workspace in workspaces {
                        let users = Dictionary(
                            uniqueKeysWithValues: try await store.users(in: workspace.id).map {
                                ($0.id, $0.email.value)
                            })
                        for key in try await service(store).list(
                            in: workspace.id, status: status, owner: owner, by: .commandLine)
                        {
                            let ownerName =
                                switch key.owner {
                                case .user(let id): users[id] ?? "?"
                                case .client(let id): "client:\(id)"
                                }
                            rows.append([
                                key.id.description, key.name, "\(key.prefix)_…\(key.lastFour)", ownerName,
                                key.status.rawValue, key.scopes.names?.joined(separator: " ") ?? "(owner rights)",
                                key.expiresAt?.formatted(.iso8601) ?? "-", key.lastUsedAt?.formatted(.iso8601) ?? "-",
                            ])
                        }
                    }
                    return rows
                }
                print(Table(["ID", "NAME", "KEY", "OWNER", "STATUS", "SCOPES", "EXPIRES", "LAST USED"], rows))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse a key from its next request on.")
        @Argument(help: "The key's id, as `keys list` shows it.") var id: String
        @OptionGroup var keys: KeyOptions
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                try await KeysCommand.setStatus(.revoked, id: id, keys: keys, database: database)
            }
        }
    }

    struct Reactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept a revoked key again.")
        @Argument(help: "The key's id, as `keys list` shows it.") var id: String
        @OptionGroup var keys: KeyOptions
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                try await KeysCommand.setStatus(.active, id: id, keys: keys, database: database)
            }
        }
    }

    private static func setStatus(
        _ status: KeyStatus, id: String, keys: KeyOptions, database: DatabaseOptions
    ) async throws {
        guard let uuid = UUID(uuidString: id) else {
            throw DomainError.invalidInput(field: "id", message: "'\(id)' is not a key id.")
        }
        let service = try Self.service(keys, location: try database.location())
        let key = try await database.withStore { store in
            try await service(store).setStatus(status, of: APIKeyID(uuid), by: .commandLine)
        }
        print("API key '\(key.name)' (\(key.id)) is \(key.status.rawValue).")
    }

    /// Whom a key is for, as named on the command line: a user by email or a client by client_id.
    enum Owner: CustomStringConvertible {
        case user(EmailAddress)
        case client(ClientID)

        var description: String {
            switch self {
            case .user(let email): "\(email)"
            case .client(let id): "client application '\(id)'"
            }
        }

        func resolve(in store: any GatehouseStorage) async throws -> KeyOwner {
            switch self {
            case .user(let email):
                guard let user = try await store.user(email: email) else {
                    throw DomainError.notFound("There is no user with the email \(email).")
                }
                return .user(user.id)
            case .client(let id):
                return .client(id)
            }
        }
    }

    fileprivate static func owner(user: String?, client: String?) throws -> Owner {
        switch (user, client) {
        case (let email?, nil): return .user(try EmailAddress(email))
        case (nil, let id?): return .client(try ClientID(id))
        default:
            throw DomainError.invalidInput(field: "owner", message: "Name exactly one of --user and --client.")
        }
    }

    /// Reads the pepper and prefix once, then builds the key service over whichever store is open.
    fileprivate static func service(
        _ keys: KeyOptions, location: DatabaseLocation
    ) throws -> @Sendable (any GatehouseStorage) -> APIKeys {
        let peppers = try keys.peppers(for: location)
        let settings = try APIKeySettings(prefix: try keys.prefix())
        return { store in APIKeys(store: store, clock: SystemClock(), peppers: peppers, settings: settings) }
    }
}
