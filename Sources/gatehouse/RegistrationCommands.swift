import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseStore

/// `gatehouse registration`: whether apps may register themselves (RFC 7591), and initial access tokens.
struct RegistrationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registration", abstract: "Let apps register themselves: the policy and initial access tokens.",
        subcommands: [Policy.self, IssueToken.self, ListTokens.self, RevokeToken.self])

    struct Policy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set who may register: off (admins only), token (with an initial access token) or open.")
        @Argument(help: "off, token or open.") var policy: String
        @Option(help: "The workspace's slug.") var workspace: String = "default"
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let chosen = try ClientRegistrationPolicy(parsing: policy)
                let slug = try WorkspaceSlug(workspace)
                _ = try await database.withStore { store in
                    let workspace = try await directory(store).workspace(slug)
                    return try await RegistrationAdministration(store: store, clock: SystemClock()).setPolicy(
                        chosen, in: workspace.id, by: .commandLine)
                }
                print("Client registration in '\(slug)' is now \(chosen.rawValue).")
            }
        }
    }

    struct IssueToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "issue-token", abstract: "Issue an initial access token, shown once.")
        @Option(help: "Who it is for.") var label: String
        @Option(help: "A scope its clients may hold (repeat for more; default: every non-administrative scope).")
        var scope: [String] = []
        @Flag(help: "Let it register any number of clients until it expires (default: once).") var reusable = false
        @Option(help: "Days until it expires (1 to 365).") var expiresInDays: Int = 7
        @Option(help: "The workspace's slug.") var workspace: String = "default"
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let slug = try WorkspaceSlug(workspace)
                let scopes = scope.isEmpty ? nil : Set(try scope.map { try Scope($0) })
                let (token, secret) = try await database.withStore { store in
                    let workspace = try await directory(store).workspace(slug)
                    return try await RegistrationAdministration(store: store, clock: SystemClock()).issueToken(
                        label: try DisplayName(label, field: "label"), scopes: scopes, singleUse: !reusable,
                        lifetime: TimeInterval(expiresInDays * 86_400), in: workspace.id, by: .commandLine)
                }
                print(
                    "Initial access token \(token.id) for '\(token.label)', \(token.singleUse ? "single use" : "reusable"),"
                )
                print("valid until \(token.expiresAt.map { $0.formatted(.iso8601) } ?? "revoked"). Shown this once:")
                print(secret.value)
            }
        }
    }

    struct ListTokens: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-tokens", abstract: "List the workspace's initial access tokens (never the tokens).")
        @Option(help: "The workspace's slug.") var workspace: String = "default"
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let slug = try WorkspaceSlug(workspace)
                let tokens = try await database.withStore { store in
                    let workspace = try await directory(store).workspace(slug)
                    return try await store.initialAccessTokens(in: workspace.id)
                }
                let now = SystemClock().now()
                print(
                    Table(
                        ["ID", "LABEL", "SCOPES", "USES", "STATE", "EXPIRES"],
                        tokens.map {
                            [
                                "\($0.id)", $0.label, $0.scopes.map(\.name).sorted().joined(separator: " "),
                                "\($0.uses)",
                                $0.state(at: now).rawValue,
                                $0.expiresAt.map { $0.formatted(.iso8601) } ?? "never",
                            ]
                        }))
            }
        }
    }

    struct RevokeToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-token", abstract: "Revoke an initial access token; clients registered with it stay.")
        @Option(help: "The token's id (see list-tokens).") var id: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                guard let uuid = UUID(text: id) else {
                    throw DomainError.invalidInput(field: "id", message: "The id '\(id)' is not a token id.")
                }
                _ = try await database.withStore { store in
                    try await RegistrationAdministration(store: store, clock: SystemClock()).revokeToken(
                        InitialAccessTokenID(uuid), by: .commandLine)
                }
                print("Revoked initial access token \(id).")
            }
        }
    }
}
