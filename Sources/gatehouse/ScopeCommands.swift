import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseStore

/// `gatehouse scopes`: the scopes a workspace defines for its own APIs.
struct ScopesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scopes", abstract: "Define and list a workspace's scopes.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Define a scope for the workspace's own APIs.")

        @Option(help: "The workspace's slug.") var workspace: String = "default"
        @Option(help: "The scope, such as okrs:read.") var name: String
        @Option(help: "What the scope allows, in a sentence.") var description: String
        @Option(help: "A role that holds it (repeat for more): super_admin, admin, hr_admin or user.")
        var role: [String] = []
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let scope = try Scope(name)
                let roles = Set(try role.map { try Role(parsing: $0) })
                let slug = try WorkspaceSlug(workspace)
                let definition = try await database.withStore { store in
                    let workspace = try await directory(store).workspace(slug)
                    return try await ScopeCatalog(store: store, clock: SystemClock()).define(
                        scope, description: description, roles: roles, in: workspace.id, by: .commandLine)
                }
                print(
                    "Defined '\(definition.scope)' in '\(slug)', held by "
                        + "\(definition.roles.map(\.rawValue).sorted().joined(separator: ", ")).")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the built-in scopes and the workspace's own.")
        @Option(help: "The workspace's slug.") var workspace: String = "default"
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let slug = try WorkspaceSlug(workspace)
                let scopes = try await database.withStore { store in
                    let workspace = try await directory(store).workspace(slug)
                    return try await ScopeCatalog(store: store, clock: SystemClock()).scopes(
                        in: workspace.id, by: .commandLine)
                }
                print(
                    Table(
                        ["SCOPE", "ROLES", "DESCRIPTION"],
                        scopes.map {
                            [$0.scope.name, $0.roles.map(\.rawValue).sorted().joined(separator: " "), $0.description]
                        }))
            }
        }
    }
}
