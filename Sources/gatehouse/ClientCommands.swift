import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseStore

/// `gatehouse clients`: the operator's view of client applications, with the same rules and errors as the
/// API. The operator acts with every right, as the audit trail records (`cli`).
struct ClientsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clients", abstract: "Register, list, show, change and delete client applications.",
        subcommands: [
            Create.self, List.self, Show.self, RotateSecret.self, Disable.self, Enable.self, ResourceServer.self,
            SignIn.self, Delete.self,
        ])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a client application. A confidential client's secret is printed once, last.")

        @Option(help: "The client_id: 3 to 64 lowercase letters, digits, '-', '_' or '.'.") var id: String
        @Option(help: "The name users see on the consent page.") var name: String
        @Option(help: "confidential (has a secret) or public (browser and native apps).")
        var type: String = "confidential"
        @Option(name: .customLong("redirect-uri"), help: "A redirect URI (repeat for more).") var redirectURI:
            [String] = []
        @Option(
            name: .customLong("post-logout-redirect-uri"),
            help: "Where the app may send people back to after signing them out (repeat for more).")
        var postLogoutRedirectURI: [String] = []
        @Option(
            name: .customLong("backchannel-logout-uri"),
            help: "Where Gatehouse posts a logout token when one of the app's users signs out of Gatehouse.")
        var backchannelLogoutURI: String?
        @Option(
            name: .customLong("id-token-alg"),
            help: "How its ID tokens are signed: RS256 (default, every OpenID Connect library takes it) or ES256.")
        var idTokenAlgorithm: String = SigningAlgorithm.rs256.rawValue
        @Option(help: "A scope the client may receive (repeat; default: every non-administrative scope).")
        var scope: [String] = []
        @Option(help: "A grant type (repeat; default: authorization_code and refresh_token).")
        var grantType: [String] = []
        @Option(help: "What the client is, in a sentence.") var description: String?
        @Option(name: .customLong("homepage-url"), help: "The client's home page (https).") var homepageURL: String?
        @Option(name: .customLong("logo-url"), help: "The client's logo (https).") var logoURL: String?
        @Flag(
            name: .customLong("no-require-pkce"),
            help: "Let a confidential client of a legacy integration omit PKCE (public clients always need it).")
        var withoutPKCE = false
        @Flag(
            name: .customLong("resource-server"),
            help: "A resource server may introspect any credential of its workspace (confidential clients only).")
        var resourceServer = false
        @Option(help: "The workspace's slug.") var workspace: String = "default"
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let input = NewClientApplication(
                    id: try ClientID(id), name: try DisplayName(name), description: description, logoURL: logoURL,
                    homepageURL: homepageURL, type: try ClientType(parsing: type),
                    redirectURIs: try RedirectURI.parseAll(redirectURI),
                    postLogoutRedirectURIs: try RedirectURI.parseAll(
                        postLogoutRedirectURI, field: "post_logout_redirect_uris"),
                    backchannelLogoutURI: try backchannelLogoutURI.map {
                        try RedirectURI($0, field: "backchannel_logout_uri")
                    },
                    grantTypes: grantType.isEmpty ? nil : Set(try grantType.map(GrantType.init(parsing:))),
                    scopes: scope.isEmpty ? nil : Set(try scope.map(Scope.init)), requirePKCE: !withoutPKCE,
                    isResourceServer: resourceServer,
                    idTokenSigningAlgorithm: try SigningAlgorithm(parsing: idTokenAlgorithm))
                let slug = try WorkspaceSlug(workspace)
                let (client, secret) = try await database.withStore { store in
                    let workspace = try await directory(store).workspace(slug)
                    return try await clients(store).create(input, in: workspace.id, by: .commandLine)
                }
                print("Registered client application '\(client.id)' in workspace '\(slug)'.")
                print(ClientsCommand.details(client))
                if let secret {
                    print("Copy the client secret now; it is not shown again:")
                    print(secret.value)
                } else {
                    print("A public client has no secret; it must use PKCE.")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List client applications (never their secrets).")
        @Option(help: "Only this workspace (default: every workspace).") var workspace: String?
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let slug = try workspace.map { try WorkspaceSlug($0) }
                let rows = try await database.withStore { store in
                    let directory = directory(store)
                    let workspaces =
                        if let slug { [try await directory.workspace(slug)] } else { try await directory.workspaces() }
                    var rows: [[String]] = []
                    for workspace in workspaces {
                        var cursor: ClientID?
                        repeat {
                            let page = try await clients(store).list(
                                in: workspace.id, after: cursor, limit: 200, by: .commandLine)
                            rows += page.clients.map {
                                [
                                    $0.id.value, $0.name, $0.type.rawValue, workspace.slug.value,
                                    $0.isDisabled ? "disabled" : "enabled", "\($0.redirectURIs.count)",
                                ]
                            }
                            cursor = page.next
                        } while cursor != nil
                    }
                    return rows
                }
                print(Table(["CLIENT_ID", "NAME", "TYPE", "WORKSPACE", "STATUS", "REDIRECT URIS"], rows))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one client application (never its secret).")
        @Argument(help: "The client_id.") var id: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let id = try ClientID(id)
                let client = try await database.withStore { store in
                    try await clients(store).client(id, by: .commandLine)
                }
                print(ClientsCommand.details(client))
            }
        }
    }

    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret",
            abstract: "Replace a confidential client's secret. The new secret is printed once, last.")
        @Argument(help: "The client_id.") var id: String
        @Option(help: "Seconds the old secret keeps working, 0 to 604800 (7 days).") var graceSeconds: Int = 0
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let id = try ClientID(id)
                let (client, secret) = try await database.withStore { store in
                    try await clients(store).rotateSecret(
                        of: id, grace: TimeInterval(graceSeconds), by: .commandLine)
                }
                if let until = client.secret?.previousExpiresAt {
                    print("The old secret of '\(client.id)' keeps working until \(until.formatted(.iso8601)).")
                } else {
                    print("The old secret of '\(client.id)' no longer works.")
                }
                print("Copy the new client secret now; it is not shown again:")
                print(secret.value)
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a client application: its keys are refused until it is enabled.")
        @Argument(help: "The client_id.") var id: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures { try await setDisabled(true, id: id, database: database) }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled client application again.")
        @Argument(help: "The client_id.") var id: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures { try await setDisabled(false, id: id, database: database) }
        }
    }

    struct ResourceServer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resource-server",
            abstract: "Mark a confidential client as a resource server, which may introspect any credential of its "
                + "workspace; --off takes that back (it then learns only about its own tokens and keys).")
        @Argument(help: "The client_id.") var id: String
        @Flag(help: "No longer a resource server.") var off = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let id = try ClientID(id)
                let client = try await database.withStore { store in
                    try await clients(store).change(id, ClientChange(isResourceServer: !off), by: .commandLine)
                }
                print(
                    "Client application '\(client.id)' "
                        + (client.isResourceServer ? "is a resource server." : "is not a resource server."))
            }
        }
    }

    struct SignIn: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign-in",
            abstract: "Change how a client signs people in and out with OpenID Connect: its ID tokens' signature "
                + "and where it may send people after signing them out. What is not given stays as it is.")
        @Argument(help: "The client_id.") var id: String
        @Option(name: .customLong("id-token-alg"), help: "RS256 or ES256.") var idTokenAlgorithm: String?
        @Option(
            name: .customLong("post-logout-redirect-uri"),
            help: "Where the app may send people back to after signing them out (repeat; replaces the list).")
        var postLogoutRedirectURI: [String] = []
        @Flag(name: .customLong("no-post-logout-redirect-uris"), help: "Remove every post-logout redirect URI.")
        var noPostLogoutRedirectURIs = false
        @Option(
            name: .customLong("backchannel-logout-uri"),
            help: "Where Gatehouse posts a logout token when one of the app's users signs out of Gatehouse.")
        var backchannelLogoutURI: String?
        @Flag(name: .customLong("no-backchannel-logout-uri"), help: "Stop back-channel logout notices.")
        var noBackchannelLogoutURI = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let id = try ClientID(id)
                guard !(noPostLogoutRedirectURIs && !postLogoutRedirectURI.isEmpty) else {
                    throw DomainError.invalidInput(
                        field: "post_logout_redirect_uris",
                        message: "Give --post-logout-redirect-uri or --no-post-logout-redirect-uris, not both.")
                }
                let uris =
                    noPostLogoutRedirectURIs
                    ? []
                    : postLogoutRedirectURI.isEmpty
                        ? nil : try RedirectURI.parseAll(postLogoutRedirectURI, field: "post_logout_redirect_uris")
                guard !(noBackchannelLogoutURI && backchannelLogoutURI != nil) else {
                    throw DomainError.invalidInput(
                        field: "backchannel_logout_uri",
                        message: "Give --backchannel-logout-uri or --no-backchannel-logout-uri, not both.")
                }
                // Nil leaves it as it is; .some(nil) removes it.
                var backchannel: RedirectURI?? = noBackchannelLogoutURI ? .some(nil) : nil
                if let backchannelLogoutURI {
                    backchannel = .some(try RedirectURI(backchannelLogoutURI, field: "backchannel_logout_uri"))
                }
                let change = ClientChange(
                    postLogoutRedirectURIs: uris, backchannelLogoutURI: backchannel,
                    idTokenSigningAlgorithm: try idTokenAlgorithm.map(SigningAlgorithm.init(parsing:)))
                let client = try await database.withStore { store in
                    try await clients(store).change(id, change, by: .commandLine)
                }
                print(ClientsCommand.details(client))
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a client application and every API key it holds.")
        @Argument(help: "The client_id.") var id: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let id = try ClientID(id)
                let keys = try await database.withStore { store in
                    try await clients(store).delete(id, by: .commandLine)
                }
                print("Deleted client application '\(id)' and its \(keys) API key\(keys == 1 ? "" : "s").")
            }
        }
    }

    private static func setDisabled(_ disabled: Bool, id: String, database: DatabaseOptions) async throws {
        let id = try ClientID(id)
        let client = try await database.withStore { store in
            try await clients(store).change(id, ClientChange(isDisabled: disabled), by: .commandLine)
        }
        print("Client application '\(client.id)' is \(client.isDisabled ? "disabled" : "enabled").")
    }

    /// The fields of a client, one per line.
    static func details(_ client: ClientApplication) -> String {
        var lines = [
            "client_id:     \(client.id)",
            "name:          \(client.name)",
            "type:          \(client.type.rawValue)",
            "status:        \(client.isDisabled ? "disabled" : "enabled")",
            "redirect URIs: \(client.redirectURIs.isEmpty ? "(none)" : client.redirectURIs.map(\.value).joined(separator: " "))",
            "after logout:  \(client.postLogoutRedirectURIs.isEmpty ? "(none)" : client.postLogoutRedirectURIs.map(\.value).joined(separator: " "))",
            "back-channel:  \(client.backchannelLogoutURI?.value ?? "(none)")",
            "ID tokens:     \(client.idTokenSigningAlgorithm.rawValue)",
            "grant types:   \(client.grantTypes.sorted().map(\.rawValue).joined(separator: " "))",
            "scopes:        \(client.scopes.sorted().map(\.name).joined(separator: " "))",
            "PKCE:          \(client.requirePKCE ? "required" : "optional (legacy integration)")",
            "introspects:   \(client.isResourceServer ? "any credential of its workspace (resource server)" : "its own tokens and keys")",
        ]
        if let description = client.description { lines.append("description:   \(description)") }
        if let homepage = client.homepageURL { lines.append("home page:     \(homepage)") }
        if let logo = client.logoURL { lines.append("logo:          \(logo)") }
        if let until = client.secret?.previousExpiresAt {
            lines.append("old secret:    works until \(until.formatted(.iso8601))")
        }
        return lines.joined(separator: "\n")
    }
}

/// The client rules over an open store, with the real clock.
private func clients(_ store: any GatehouseStorage) -> ClientApplications {
    ClientApplications(store: store, clock: SystemClock())
}
