import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseStore

/// `gatehouse resources`: the APIs of a workspace that apps may ask tokens for (RFC 8707).
struct ResourcesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resources", abstract: "Register, list and remove a workspace's resource servers (APIs).",
        subcommands: [Create.self, List.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register an API: tokens asked for it with resource= carry its identifier as aud.")

        @Option(help: "The workspace's slug.") var workspace: String = "default"
        @Option(help: "The API's identifier, an https URL such as https://mcp.example.com/mcp.") var identifier: String
        @Option(help: "Its name, shown to admins.") var name: String
        @Option(help: "A scope its tokens may carry (repeat for more).") var scope: [String] = []
        @Option(help: "Its access tokens' lifetime in seconds (default: the server's).") var accessTokenLifetime: Int?
        @OptionGroup var site: SiteOptions
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let slug = try WorkspaceSlug(workspace)
                let settings = try OAuthSettings(issuer: try site.baseURL().absoluteString)
                let resource = try await database.withStore { store in
                    let workspace = try await directory(store).workspace(slug)
                    return try await ResourceServers(store: store, clock: SystemClock(), settings: settings).register(
                        identifier: try ResourceIdentifier(identifier), name: try DisplayName(name),
                        scopes: Set(try scope.map { try Scope($0) }),
                        accessTokenLifetime: accessTokenLifetime.map(TimeInterval.init), in: workspace.id,
                        by: .commandLine)
                }
                print("Registered \(resource.identifier) in '\(slug)' (id \(resource.id)).")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the workspace's resource servers.")
        @Option(help: "The workspace's slug.") var workspace: String = "default"
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let slug = try WorkspaceSlug(workspace)
                let found = try await database.withStore { store in
                    let workspace = try await directory(store).workspace(slug)
                    return try await store.resourceServers(in: workspace.id)
                }
                print(
                    Table(
                        ["ID", "IDENTIFIER", "NAME", "SCOPES", "LIFETIME"],
                        found.map {
                            [
                                "\($0.id)", $0.identifier.value, $0.name,
                                $0.scopes.map(\.name).sorted().joined(separator: " "),
                                $0.accessTokenLifetime.map { "\(Int($0))" } ?? "default",
                            ]
                        }))
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a resource server: no new token is issued for it.")
        @Option(help: "The resource server's id (see resources list).") var id: String
        @OptionGroup var site: SiteOptions
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                guard let uuid = UUID(text: id) else {
                    throw DomainError.invalidInput(field: "id", message: "The id '\(id)' is not a resource server id.")
                }
                let settings = try OAuthSettings(issuer: try site.baseURL().absoluteString)
                try await database.withStore { store in
                    try await ResourceServers(store: store, clock: SystemClock(), settings: settings).delete(
                        ResourceServerID(uuid), by: .commandLine)
                }
                print("Removed resource server \(id).")
            }
        }
    }
}
