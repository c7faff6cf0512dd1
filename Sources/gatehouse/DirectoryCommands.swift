import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseStore

/// Builds the directory service over an open store, with the real clock and bcrypt.
func directory(_ store: any GatehouseStorage) -> Directory {
    Directory(store: store, clock: SystemClock(), passwords: BcryptPasswordHasher())
}

/// The user administration rules over an open store, acting as the operator.
private func administration(_ store: any GatehouseStorage) -> UserAdministration {
    UserAdministration(store: store, clock: SystemClock(), passwords: BcryptPasswordHasher())
}

/// Runs `action` as the operator on the user whose email is `email`.
private func onUser<T: Sendable>(
    _ email: String, _ database: DatabaseOptions,
    _ action: @escaping @Sendable (UserAdministration, UserID) async throws -> T
) async throws -> T {
    let email = try EmailAddress(email)
    return try await database.withStore { store in
        try await action(administration(store), try await directory(store).user(email: email).id)
    }
}

/// The public URL the links printed by the commands start with.
struct SiteOptions: ParsableArguments {
    @Option(
        help:
            "Gatehouse's public base URL, which links start with (env GATEHOUSE_ISSUER; default http://127.0.0.1:8080)."
    )
    var issuer: String?

    func baseURL() throws -> URL {
        try ServerConfiguration.parseIssuer(
            issuer ?? Environment.value("GATEHOUSE_ISSUER")
                ?? "http://\(ServerConfiguration.defaultHost):\(ServerConfiguration.defaultPort)")
    }
}

/// Prints a password link, its one showing.
private func printLink(_ issued: IssuedPasswordLink, issuer: URL) {
    let what = issued.link.purpose == .invitation ? "Invitation" : "Password reset link"
    print("\(what) for \(issued.user.email), valid until \(issued.link.expiresAt.formatted(.iso8601)) and once:")
    print("  \(AccountMail.url(of: issued, issuer: issuer))")
    print("It is shown this once; give it to them by a channel you trust.")
}

/// Reads a password from the first line of standard input, or says why it cannot.
private func passwordFromStandardInput() throws -> Password {
    guard let line = readLine(strippingNewline: true) else {
        throw DomainError.invalidInput(field: "password", message: "No password was given on standard input.")
    }
    return try Password(line)
}

// MARK: workspaces

struct WorkspacesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workspaces", abstract: "Create and list workspaces.",
        subcommands: [Create.self, List.self, RequireAdminTwoFactor.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a workspace and its first user, a super admin.")

        @Option(help: "The workspace's display name.") var name: String
        @Option(help: "The workspace's short name: lowercase letters, digits and hyphens.") var slug: String
        @Option(help: "The email of the workspace's super admin.") var adminEmail: String
        @Option(help: "The super admin's display name.") var adminName: String = "Administrator"
        @Flag(help: "Read the super admin's password from standard input instead of generating one.")
        var passwordStdin = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let name = try DisplayName(name)
                let slug = try WorkspaceSlug(slug)
                let password = passwordStdin ? try passwordFromStandardInput() : Password.generate()
                let admin = NewUser(
                    email: try EmailAddress(adminEmail), name: try DisplayName(adminName), role: .superAdmin,
                    password: password)
                let (workspace, user) = try await database.withStore { store in
                    try await directory(store).createWorkspace(name: name, slug: slug, admin: admin, by: .commandLine)
                }
                print("Created workspace '\(workspace.slug)' (\(workspace.name)) with super admin \(user.email).")
                if !passwordStdin {
                    print("Their password, shown once: \(password.value)")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every workspace.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let workspaces = try await database.withStore { store in try await directory(store).workspaces() }
                print(Table(["SLUG", "NAME", "ID"], workspaces.map { [$0.slug.value, $0.name, $0.id.description] }))
            }
        }
    }
}

extension WorkspacesCommand {
    struct RequireAdminTwoFactor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "require-admin-two-factor",
            abstract: "Require two-factor sign-in of a workspace's super admins, admins and HR admins (or, --off, not)."
        )
        @Option(help: "The workspace's slug.") var slug: String
        @Flag(help: "Make it optional again.") var off = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let slug = try WorkspaceSlug(slug)
                let required = !off
                try await database.withStore { store in
                    let workspace = try await directory(store).workspace(slug)
                    _ = try await administration(store).requireAdminTwoFactor(
                        required, in: workspace.id, by: .commandLine)
                }
                print(
                    required
                        ? "Workspace '\(slug)' requires two-factor sign-in of its administrators."
                        : "Two-factor sign-in is optional in workspace '\(slug)'.")
            }
        }
    }
}

// MARK: users

struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Create, list, deactivate and activate users, and set their passwords.",
        subcommands: [
            Create.self, List.self, Deactivate.self, Activate.self, AcceptPrivacyNotice.self, SetPassword.self,
            Invite.self, ResetLink.self, ResetTwoFactor.self, EndSessions.self,
        ])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user to a workspace.")

        @Option(help: "The workspace's slug.") var workspace: String
        @Option(help: "The user's email; it signs them in and is unique across the installation.") var email: String
        @Option(help: "The user's display name.") var name: String
        @Option(help: "One of super_admin, admin, hr_admin, user.") var role: String = "user"
        @Option(help: "The user's employee id.") var employeeId: String?
        @Option(help: "The user's job title.") var title: String?
        @Option(help: "The name of the user's department in the workspace.") var department: String?
        @Option(help: "The email of the user's manager in the workspace.") var manager: String?
        @Flag(help: "Read the user's password from standard input; without it the user is invited to choose one.")
        var passwordStdin = false
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var site: SiteOptions

        func run() async throws {
            try await reportingFailures {
                let slug = try WorkspaceSlug(workspace)
                let input = NewUser(
                    email: try EmailAddress(email), name: try DisplayName(name), role: try Role(parsing: role),
                    employeeID: employeeId, title: title, departmentName: department,
                    managerEmail: try manager.map { try EmailAddress($0) },
                    password: passwordStdin ? try passwordFromStandardInput() : nil)
                let issuer = try site.baseURL()
                let added = try await database.withStore { store in
                    let workspace = try await directory(store).workspace(slug)
                    return try await administration(store).create(input, in: workspace.id, by: .commandLine)
                }
                print("Created \(added.user.role.rawValue) \(added.user.email) in workspace '\(slug)'.")
                if let invitation = added.invitation { printLink(invitation, issuer: issuer) }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a workspace's users.")
        @Option(help: "The workspace's slug.") var workspace: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let slug = try WorkspaceSlug(workspace)
                let users = try await database.withStore { store in try await directory(store).users(in: slug) }
                print(
                    Table(
                        ["EMAIL", "NAME", "ROLE", "STATUS"],
                        users.map {
                            [$0.email.value, $0.name, $0.role.rawValue, $0.isActive ? "active" : "deactivated"]
                        }))
            }
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deactivate a user: every credential of theirs is refused until they are activated.")
        @Option(help: "The user's email.") var email: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await setActive(false, email: email, database: database)
        }
    }

    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Activate a deactivated user.")
        @Option(help: "The user's email.") var email: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await setActive(true, email: email, database: database)
        }
    }

    struct AcceptPrivacyNotice: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "accept-privacy-notice",
            abstract:
                "Record that a user accepted the privacy notice outside Gatehouse (audited as the operator's act).")
        @Option(help: "The user's email.") var email: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let user = try await onUser(email, database) {
                    try await $0.acceptPrivacyNotice($1, by: .commandLine)
                }
                print("\(user.email) has accepted the privacy notice; their credentials work.")
            }
        }
    }

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password",
            abstract: "Set a user's password, read from standard input; every session of theirs ends.")
        @Option(help: "The user's email.") var email: String
        @Flag(help: "Read the password from standard input (required: a password never goes on the command line).")
        var passwordStdin = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                guard passwordStdin else {
                    throw DomainError.invalidInput(
                        field: "password", message: "Give --password-stdin and the password on standard input.")
                }
                _ = try EmailAddress(email)
                let password = try passwordFromStandardInput()
                let user = try await onUser(email, database) {
                    try await $0.setPassword($1, to: password, by: .commandLine)
                }
                print("Set the password of \(user.email); their sessions have ended.")
            }
        }
    }

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new invitation for a user without a password; the one before stops working.")
        @Option(help: "The user's email.") var email: String
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var site: SiteOptions

        func run() async throws {
            try await reportingFailures {
                let issuer = try site.baseURL()
                printLink(
                    try await onUser(email, database) { try await $0.invite($1, by: .commandLine) }, issuer: issuer)
            }
        }
    }

    struct ResetLink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-link",
            abstract: "Make a link for a user to choose a new password (valid 30 minutes, used once).")
        @Option(help: "The user's email.") var email: String
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var site: SiteOptions

        func run() async throws {
            try await reportingFailures {
                let issuer = try site.baseURL()
                printLink(
                    try await onUser(email, database) { try await $0.resetLink($1, by: .commandLine) }, issuer: issuer)
            }
        }
    }

    struct ResetTwoFactor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-two-factor",
            abstract: "Turn a user's two-factor sign-in off (lost phone and recovery codes); their sessions end.")
        @Option(help: "The user's email.") var email: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                try await onUser(email, database) { try await $0.resetTwoFactor($1, by: .commandLine) }
                print("Two-factor sign-in is off for \(email); their sessions have ended.")
            }
        }
    }

    struct EndSessions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "end-sessions", abstract: "Sign every browser of a user out.")
        @Option(help: "The user's email.") var email: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                try await onUser(email, database) { try await $0.endSessions($1, by: .commandLine) }
                print("Every session of \(email) has ended.")
            }
        }
    }

    private static func setActive(_ active: Bool, email: String, database: DatabaseOptions) async throws {
        try await reportingFailures {
            let user = try await onUser(email, database) {
                try await $0.update($1, UserChange(isActive: active), by: .commandLine)
            }
            print("\(user.email) is \(user.isActive ? "active" : "deactivated").")
        }
    }
}

// MARK: departments

struct DepartmentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "departments", abstract: "Create and list departments.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a department to a workspace.")
        @Option(help: "The workspace's slug.") var workspace: String
        @Option(help: "The department's name, unique in the workspace.") var name: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let slug = try WorkspaceSlug(workspace)
                let name = try DisplayName(name)
                let department = try await database.withStore { store in
                    try await directory(store).createDepartment(named: name, in: slug)
                }
                print("Created department '\(department.name)' in workspace '\(slug)'.")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a workspace's departments.")
        @Option(help: "The workspace's slug.") var workspace: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailures {
                let slug = try WorkspaceSlug(workspace)
                let departments = try await database.withStore { store in
                    try await directory(store).departments(in: slug)
                }
                print(Table(["NAME", "ID"], departments.map { [$0.name, $0.id.description] }))
            }
        }
    }
}

/// A plain-text table with aligned columns, for terminal output.
struct Table: CustomStringConvertible {
    let header: [String]
    let rows: [[String]]

    init(_ header: [String], _ rows: [[String]]) {
        self.header = header
        self.rows = rows
    }

    var description: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
