import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Testing

/// The rights model's proof (shared/README.md): every kind of principal × every mutating route of `/api/v1`
/// × targets that carry only personal rights, carry a super admin's rights, or belong to another workspace.
/// Each cell's answer comes from the rule written out here, not from the server's code; a refused cell must
/// leave the store unchanged, an allowed one must change it. Runs on both backends.
@Suite("The rights table")
struct RightsTableTests {
    // MARK: The principals

    /// Every kind of principal that can call the API.
    enum Actor: CustomStringConvertible, CaseIterable {
        /// A key with its owner's rights, made by the operator, one for each role.
        case userKey(Role)
        /// A client application's service key with chosen scopes.
        case serviceKey
        /// A super admin's OAuth access token, narrowed to a few scopes.
        case narrowedUserToken
        /// A client's own token (client credentials).
        case clientToken

        static var allCases: [Actor] {
            Role.allCases.map(Actor.userKey) + [.serviceKey, .narrowedUserToken, .clientToken]
        }

        var description: String {
            switch self {
            case .userKey(let role): "\(role.rawValue)'s key"
            case .serviceKey: "service key"
            case .narrowedUserToken: "narrowed user token"
            case .clientToken: "client token"
            }
        }

        /// What it holds, written out: adding a role does not compile until it is decided here.
        var holds: Set<Scope> {
            switch self {
            case .userKey(let role):
                switch role {
                case .superAdmin: RightsTableTests.everything
                case .admin:
                    RightsTableTests.personal.union([
                        .usersRead, .departmentsRead, .clientsRead, .clientsWrite, .apiKeysRead, .apiKeysWrite,
                    ])
                case .hrAdmin: RightsTableTests.personal.union([.usersRead, .usersWrite, .departmentsRead])
                case .user: RightsTableTests.personal
                }
            case .serviceKey: RightsTableTests.integration
            // A client acting for itself has no person: the personal scopes are never in its tokens.
            case .clientToken: RightsTableTests.integration.subtracting(RightsTableTests.personal)
            case .narrowedUserToken: [.profile, .clientsRead, .clientsWrite, .apiKeysRead, .apiKeysWrite]
            }
        }

        /// Whether a person stands behind it, who bounds the keys it makes for others.
        var isPerson: Bool {
            switch self {
            case .userKey, .narrowedUserToken: true
            case .serviceKey, .clientToken: false
            }
        }

        /// Only a super admin's own credentials may grant or touch an administrator's role.
        var actsAsSuperAdmin: Bool {
            switch self {
            case .userKey(let role): role == .superAdmin
            case .narrowedUserToken: true
            case .serviceKey, .clientToken: false
            }
        }
    }

    static let personal: Set<Scope> = [.openid, .profile, .email]
    static let everything: Set<Scope> = personal.union([
        .usersRead, .usersWrite, .departmentsRead, .clientsRead, .clientsWrite, .apiKeysRead, .apiKeysWrite,
        .auditRead,
    ])
    /// What the service key and the client token are given: everything an integration needs, not the audit trail.
    static let integration: Set<Scope> = everything.subtracting([.auditRead])

    // MARK: The routes and targets

    /// Every mutating route of `/api/v1`; `everyMutatingRouteOfTheDocumentIsInTheTable` keeps it complete.
    enum Route: String, CaseIterable {
        case createClient = "POST /api/v1/clients"
        case changeClient = "PATCH /api/v1/clients/{client_id}"
        case deleteClient = "DELETE /api/v1/clients/{client_id}"
        case rotateSecret = "POST /api/v1/clients/{client_id}/secret"
        case createServiceKey = "POST /api/v1/clients/{client_id}/api-keys"
        case createUserKey = "POST /api/v1/users/{id}/api-keys"
        case changeKey = "PATCH /api/v1/api-keys/{id}"
        case revokeKey = "POST /api/v1/api-keys/{id}/revoke"
        case reactivateKey = "POST /api/v1/api-keys/{id}/reactivate"
        case createUser = "POST /api/v1/users"
        case changeUser = "PATCH /api/v1/users/{id}"
        case inviteUser = "POST /api/v1/users/{id}/invitation"
        case cancelInvitation = "DELETE /api/v1/users/{id}/invitation"
        case makeResetLink = "POST /api/v1/users/{id}/password-reset"
        case resetTwoFactor = "DELETE /api/v1/users/{id}/two-factor"
        case endSessions = "DELETE /api/v1/users/{id}/sessions"
        case requireAdminTwoFactor = "PATCH /api/v1/workspace"
        case defineScope = "POST /api/v1/scopes"
        case registerResource = "POST /api/v1/resources"
        case deleteResource = "DELETE /api/v1/resources/{id}"
        case setRegistrationPolicy = "PUT /api/v1/client-registration"
        case issueRegistrationToken = "POST /api/v1/client-registration/tokens"
        case revokeRegistrationToken = "DELETE /api/v1/client-registration/tokens/{id}"

        /// The scope the route itself needs.
        var scope: Scope {
            switch self {
            case .createClient, .changeClient, .deleteClient, .rotateSecret, .registerResource, .deleteResource,
                .setRegistrationPolicy, .issueRegistrationToken, .revokeRegistrationToken:
                .clientsWrite
            case .createServiceKey, .createUserKey, .changeKey, .revokeKey, .reactivateKey, .defineScope: .apiKeysWrite
            case .createUser, .changeUser, .inviteUser, .cancelInvitation, .makeResetLink, .resetTwoFactor,
                .endSessions, .requireAdminTwoFactor:
                .usersWrite
            }
        }

        /// The targets that make sense: a route that creates in the caller's own workspace has no foreign one,
        /// and a scope definition carries no existing right.
        var targets: [Target] {
            switch self {
            case .createClient, .createUser: [.plain, .privileged]
            case .defineScope, .requireAdminTwoFactor, .registerResource, .setRegistrationPolicy: [.plain]
            // A resource server confers no right, so there is no privileged one; revoking a token gives none.
            case .deleteResource, .revokeRegistrationToken: [.plain, .foreign]
            case .issueRegistrationToken: [.plain, .privileged]
            default: Target.allCases
            }
        }

        /// A route about users, where the administrator roles are a super admin's alone to touch.
        var isAboutUsers: Bool {
            [.createUser, .changeUser, .inviteUser, .cancelInvitation, .makeResetLink, .resetTwoFactor, .endSessions]
                .contains(self)
        }
    }

    /// What the route acts on, or (for a route that creates) what the new thing would carry.
    enum Target: String, CaseIterable {
        /// Carries personal rights only.
        case plain
        /// Carries a super admin's rights.
        case privileged
        /// Belongs to another workspace.
        case foreign
    }

    /// The rights a target of `route` carries: a client its scopes; a key, or a key's or account's owner, their
    /// role (a plain user's, or a super admin's).
    static func carried(_ route: Route, _ target: Target) -> Set<Scope> {
        switch route {
        case .createClient, .changeClient, .deleteClient, .rotateSecret, .createServiceKey, .issueRegistrationToken:
            target == .privileged ? [.auditRead, .usersWrite] : [.profile]
        case .createUserKey, .changeKey, .revokeKey, .reactivateKey, .createUser, .changeUser, .inviteUser,
            .cancelInvitation, .makeResetLink, .resetTwoFactor, .endSessions:
            target == .privileged ? everything : personal
        case .defineScope, .requireAdminTwoFactor, .registerResource, .deleteResource, .setRegistrationPolicy,
            .revokeRegistrationToken:
            []
        }
    }

    enum Outcome: Equatable { case allowed, forbidden, notFound }

    /// The rule, as the rights model states it: the route's own scope first, then visibility, then every right the
    /// target carries (and a super admin for an administrator's account).
    static func expected(_ actor: Actor, _ route: Route, _ target: Target) -> Outcome {
        guard actor.holds.contains(route.scope) else { return .forbidden }
        if target == .foreign { return .notFound }
        if route == .createUserKey, !actor.isPerson { return .forbidden }
        // A workspace-wide rule over every administrator: a super admin's decision alone.
        if [.requireAdminTwoFactor, .setRegistrationPolicy].contains(route), !actor.actsAsSuperAdmin {
            return .forbidden
        }
        guard carried(route, target).isSubset(of: actor.holds) else { return .forbidden }
        if route.isAboutUsers, target == .privileged, !actor.actsAsSuperAdmin { return .forbidden }
        return .allowed
    }

    // MARK: The admin pages

    /// Every form of the admin pages that changes something, signed in as each role.
    enum Form: String, CaseIterable {
        case createClient = "POST /admin/clients"
        case changeClient = "POST /admin/clients/{client_id}"
        case rotateSecret = "POST /admin/clients/{client_id}/secret"
        case disableClient = "POST /admin/clients/{client_id}/disable"
        case enableClient = "POST /admin/clients/{client_id}/enable"
        case deleteClient = "POST /admin/clients/{client_id}/delete"
        case createServiceKey = "POST /admin/clients/{client_id}/keys"
        case createUser = "POST /admin/users"
        case changeUser = "POST /admin/users/{id}"
        case deactivateUser = "POST /admin/users/{id}/deactivate"
        case reactivateUser = "POST /admin/users/{id}/reactivate"
        case inviteUser = "POST /admin/users/{id}/invitation"
        case cancelInvitation = "POST /admin/users/{id}/invitation/cancel"
        case makeResetLink = "POST /admin/users/{id}/password-reset"
        case resetTwoFactor = "POST /admin/users/{id}/two-factor/reset"
        case endSessions = "POST /admin/users/{id}/sessions/end"
        case createUserKey = "POST /admin/api-keys"
        case revokeKey = "POST /admin/api-keys/{id}/revoke"
        case reactivateKey = "POST /admin/api-keys/{id}/reactivate"
        case registerResource = "POST /admin/resources"
        case deleteResource = "POST /admin/resources/{id}/delete"
        case setRegistrationPolicy = "POST /admin/registration/policy"
        case issueRegistrationToken = "POST /admin/registration/tokens"
        case revokeRegistrationToken = "POST /admin/registration/tokens/{id}/revoke"
        /// Last: once it requires a second factor of administrators, their pages ask them to set one up first.
        case requireAdminTwoFactor = "POST /admin/workspace/two-factor"

        /// The API route that does the same, whose rule the form follows.
        var route: Route {
            switch self {
            case .createClient: .createClient
            case .changeClient, .disableClient, .enableClient: .changeClient
            case .rotateSecret: .rotateSecret
            case .deleteClient: .deleteClient
            case .createServiceKey: .createServiceKey
            case .createUser: .createUser
            case .changeUser, .deactivateUser, .reactivateUser: .changeUser
            case .inviteUser: .inviteUser
            case .cancelInvitation: .cancelInvitation
            case .makeResetLink: .makeResetLink
            case .resetTwoFactor: .resetTwoFactor
            case .endSessions: .endSessions
            case .requireAdminTwoFactor: .requireAdminTwoFactor
            case .registerResource: .registerResource
            case .deleteResource: .deleteResource
            case .setRegistrationPolicy: .setRegistrationPolicy
            case .issueRegistrationToken: .issueRegistrationToken
            case .revokeRegistrationToken: .revokeRegistrationToken
            case .createUserKey: .createUserKey
            case .revokeKey: .revokeKey
            case .reactivateKey: .reactivateKey
            }
        }

        /// The new-client form has no scopes: a new client gets the personal scopes the caller holds.
        var targets: [Target] { self == .createClient ? [.plain] : route.targets }
    }

    static func expected(_ role: Role, _ form: Form, _ target: Target) -> Outcome {
        let actor = Actor.userKey(role)
        // A new client from the form carries the personal scopes, whoever makes it.
        if form == .createClient { return actor.holds.isSuperset(of: [.clientsWrite]) ? .allowed : .forbidden }
        return expected(actor, form.route, target)
    }

    // MARK: The proof

    @Test func everyMutatingRouteOfTheDocumentIsInTheTable() throws {
        let paths = try #require(try OpenAPITests.document()["paths"] as? [String: [String: Any]])
        var documented: Set<String> = []
        for (path, item) in paths where path.hasPrefix("/api/v1/") {
            for method in item.keys where ["post", "patch", "put", "delete"].contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        #expect(documented == Set(Route.allCases.map(\.rawValue)), "decide every new route in the table")
    }

    @Test func everyChangingRouteOfTheServerIsInTheTable() async throws {
        let routes = try await routeDescriptions(
            try ServerConfiguration(port: 0, templatesDirectory: templatesDirectory),
            ApplicationDependencies(
                store: try TestBackend.openStore(), clock: ManualClock(), passwords: Fixture.fastPasswords,
                peppers: try Fixture.peppers(), signingKeySecret: sharedSigningKeySecret, announce: { _ in }))
        let changing = routes.filter { !$0.hasPrefix("GET ") && !$0.hasPrefix("HEAD ") }
        let api = Set(changing.filter { $0.contains(" /api/v1/") })
        let admin = Set(changing.filter { $0.contains(" /admin/") })
        #expect(api == Set(Route.allCases.map(\.rawValue)), "decide every new API route in the table")
        #expect(admin == Set(Form.allCases.map(\.rawValue)), "decide every new admin form in the table")
    }

    @Test(arguments: Role.allCases)
    func everyAdminFormAnswersAsTheRuleSays(_ role: Role) async throws {
        try await OAuthWorld.run { world in
            let table = try await Table(world: world)
            let browser = try await table.signedIn(as: role)
            let csrf = try Browser.field("csrf_token", in: try await browser.get("/account"))
            for form in Form.allCases {
                for target in form.targets {
                    try await table.check(role, browser, csrf, form, target)
                }
            }
        }
    }

    @Test(arguments: Actor.allCases)
    func everyMutatingRouteAnswersAsTheRuleSays(_ actor: Actor) async throws {
        try await OAuthWorld.run(keys: try APIKeySettings(defaultRateLimitPerMinute: 100_000)) { world in
            let table = try await Table(world: world)
            let credential = try await table.credential(of: actor)
            for route in Route.allCases {
                for target in route.targets {
                    try await table.check(actor, credential, route, target)
                }
            }
        }
    }
}

/// One actor's run through the table: the workspaces, the targets made fresh for each cell, and the calls.
private struct Table {
    let world: OAuthWorld
    let api: APIWorld
    let globex: Workspace
    let operatorClients: ClientApplications
    let operatorKeys: APIKeys
    let operatorUsers: UserAdministration

    init(world: OAuthWorld) async throws {
        self.world = world
        api = world.api
        globex = try await api.workspace("globex").0
        operatorClients = ClientApplications(store: api.store, clock: api.clock)
        operatorKeys = APIKeys(store: api.store, clock: api.clock, peppers: api.peppers, settings: try APIKeySettings())
        operatorUsers = UserAdministration(store: api.store, clock: api.clock, passwords: Fixture.fastPasswords)
    }

    // MARK: Credentials

    func credential(of actor: RightsTableTests.Actor) async throws -> String {
        switch actor {
        case .userKey(let role):
            let holder =
                role == .superAdmin
                ? world.owner : try await api.user("\(role.rawValue)-actor@acme.test", role: role, in: world.workspace)
            return try await api.key(for: holder).1
        case .serviceKey:
            let client = try await client("integration", scopes: RightsTableTests.integration, in: world.workspace)
            let (_, key) = try await operatorKeys.create(
                NewAPIKey(name: try DisplayName("integration"), scopes: .only(RightsTableTests.integration)),
                for: .client(client.id), by: .commandLine)
            return key.value
        case .clientToken:
            let (client, secret) = try await operatorClients.create(
                NewClientApplication(
                    id: try ClientID("robot"), name: try DisplayName("Robot"),
                    grantTypes: [.clientCredentials], scopes: RightsTableTests.integration),
                in: world.workspace.id, by: .commandLine)
            let scope = RightsTableTests.integration.sorted().map(\.name).joined(separator: " ")
            let answer = try await api.form(
                "/oauth/token", [("grant_type", "client_credentials"), ("scope", scope)],
                basic: (client.id.value, try #require(secret).value))
            return try #require(answer.string("access_token"), "\(answer.text)")
        case .narrowedUserToken:
            var owner = world.owner
            owner.passwordHash = await Fixture.fastPasswords.hash(try Password(OAuthWorld.password))
            try await api.store.update(owner)
            let narrowed: Set<Scope> = [.profile, .clientsRead, .clientsWrite, .apiKeysRead, .apiKeysWrite]
            _ = try await operatorClients.create(
                NewClientApplication(
                    id: try ClientID("dashboard"), name: try DisplayName("Dashboard"), type: .public,
                    redirectURIs: [try RedirectURI(OAuthWorld.redirect)], scopes: RightsTableTests.everything),
                in: world.workspace.id, by: .commandLine)
            let browser = try await world.signedIn(world.owner.email.value)
            let scope = narrowed.sorted().map(\.name).joined(separator: " ")
            let code = try await world.code(
                OAuthWorld.authorizeQuery(client: "dashboard", scope: scope), browser: browser)
            let answer = try await world.exchange(code, client: "dashboard")
            #expect(
                answer.string("scope").map { Set($0.split(separator: " ").map(String.init)) }
                    == Set(narrowed.map(\.name)))
            return try #require(answer.string("access_token"), "\(answer.text)")
        }
    }

    // MARK: One cell

    func check(
        _ actor: RightsTableTests.Actor, _ credential: String, _ route: RightsTableTests.Route,
        _ target: RightsTableTests.Target
    ) async throws {
        let cell = "\(actor) × \(route.rawValue) × \(target)"
        let (path, body) = try await request(route, target)
        let before = try await snapshot()
        let method = HTTPRequest.Method(rawValue: String(route.rawValue.split(separator: " ")[0]))
        let answer = try await api.call(try #require(method), path, key: credential, json: body)
        let after = try await snapshot()
        judge(
            cell, RightsTableTests.expected(actor, route, target), answer, changed: after != before,
            allowed: { (200..<300).contains($0.code) })
    }

    /// The cell's answer against the rule's: allowed and something changed, or refused and nothing did.
    private func judge(
        _ cell: String, _ expected: RightsTableTests.Outcome, _ answer: APIResponse, changed: Bool,
        allowed: (HTTPResponse.Status) -> Bool
    ) {
        switch expected {
        case .allowed:
            #expect(allowed(answer.status), "\(cell): \(answer.status) \(answer.text.prefix(300))")
            #expect(changed, "\(cell): allowed, but nothing changed")
        case .forbidden, .notFound:
            #expect(
                answer.status == (expected == .forbidden ? .forbidden : .notFound),
                "\(cell): \(answer.status) \(answer.text.prefix(300))")
            #expect(!changed, "\(cell): refused, but the store changed")
        }
    }

    // MARK: One form

    /// A browser signed in as someone with `role`.
    func signedIn(as role: Role) async throws -> Browser {
        var user =
            role == .superAdmin
            ? world.owner : try await api.user("\(role.rawValue)-page@acme.test", role: role, in: world.workspace)
        user.passwordHash = await Fixture.fastPasswords.hash(try Password(OAuthWorld.password))
        try await api.store.update(user)
        return try await world.signedIn(user.email.value)
    }

    func check(
        _ role: Role, _ browser: Browser, _ csrf: String, _ form: RightsTableTests.Form,
        _ target: RightsTableTests.Target
    ) async throws {
        let cell = "\(role.rawValue)'s session × \(form.rawValue) × \(target)"
        let (path, fields) = try await submission(form, target)
        let before = try await snapshot()
        let answer = try await browser.post(path, [("csrf_token", csrf)] + fields)
        let after = try await snapshot()
        // A form that changes something shows the result (a new secret) or redirects to it.
        judge(
            cell, RightsTableTests.expected(role, form, target), answer, changed: after != before,
            allowed: { [.ok, .seeOther].contains($0) })
    }

    /// The path and fields of `form` against a target made fresh for the cell.
    private func submission(
        _ form: RightsTableTests.Form, _ target: RightsTableTests.Target
    ) async throws -> (String, [(String, String)]) {
        let workspace = target == .foreign ? globex : world.workspace
        let unique = UUID().uuidString.prefix(8).lowercased()
        switch form {
        case .createClient:
            return ("/admin/clients", [("client_id", "page-\(unique)"), ("name", "Page"), ("type", "confidential")])
        case .createUser:
            let role = target == .privileged ? "super_admin" : "user"
            return ("/admin/users", [("email", "page-\(unique)@acme.test"), ("name", "Page"), ("role", role)])
        case .changeClient, .rotateSecret, .disableClient, .enableClient, .deleteClient, .createServiceKey:
            let scopes: Set<Scope> = target == .privileged ? [.auditRead, .usersWrite] : [.profile]
            var client = try await client("p-\(unique)", scopes: scopes, in: workspace)
            if form == .enableClient {
                client = try await operatorClients.change(client.id, ClientChange(isDisabled: true), by: .commandLine)
            }
            let base = "/admin/clients/\(client.id)"
            return switch form {
            case .changeClient: (base, [("name", "Renamed"), ("redirect_uris", OAuthWorld.redirect)])
            case .rotateSecret: (base + "/secret", [])
            case .disableClient: (base + "/disable", [])
            case .enableClient: (base + "/enable", [])
            case .deleteClient: (base + "/delete", [])
            default: (base + "/keys", [("name", "k"), ("scope", "profile")])
            }
        case .changeUser, .deactivateUser, .reactivateUser:
            var user = try await user(target, unique, in: workspace)
            if form == .reactivateUser {
                user = try await operatorUsers.update(user.id, UserChange(isActive: false), by: .commandLine)
            }
            return switch form {
            case .changeUser:
                (
                    "/admin/users/\(user.id)",
                    [("email", user.email.value), ("name", "Renamed"), ("role", user.role.rawValue)]
                )
            case .deactivateUser: ("/admin/users/\(user.id)/deactivate", [])
            default: ("/admin/users/\(user.id)/reactivate", [])
            }
        case .resetTwoFactor, .endSessions:
            let user = try await user(target, unique, in: workspace)
            return ("/admin/users/\(user.id)/\(form == .resetTwoFactor ? "two-factor/reset" : "sessions/end")", [])
        case .registerResource:
            return ("/admin/resources", [("identifier", "https://\(unique).example.com"), ("name", "API")])
        case .deleteResource:
            return ("/admin/resources/\(try await resource(unique, in: workspace).id)/delete", [])
        case .setRegistrationPolicy:
            let current = try await api.store.workspace(id: world.workspace.id)?.clientRegistration ?? .off
            return ("/admin/registration/policy", [("policy", current == .off ? "open" : "off")])
        case .issueRegistrationToken:
            let scopes = target == .privileged ? "audit:read users:write" : "profile"
            return ("/admin/registration/tokens", [("label", "t"), ("scopes", scopes), ("single_use", "on")])
        case .revokeRegistrationToken:
            return ("/admin/registration/tokens/\(try await registrationToken(in: workspace).id)/revoke", [])
        case .requireAdminTwoFactor:
            // The opposite of what it is now, so an allowed submission changes something.
            let current = try await api.store.workspace(id: world.workspace.id)?.requiresAdminTwoFactor ?? false
            return ("/admin/workspace/two-factor", current ? [] : [("require_admin_two_factor", "on")])
        case .inviteUser, .cancelInvitation, .makeResetLink:
            let user = try await invitedUser(target, unique, in: workspace)
            return switch form {
            case .inviteUser: ("/admin/users/\(user.id)/invitation", [])
            case .cancelInvitation: ("/admin/users/\(user.id)/invitation/cancel", [])
            default: ("/admin/users/\(user.id)/password-reset", [])
            }
        case .createUserKey:
            let owner = try await user(target, unique, in: workspace)
            return ("/admin/api-keys", [("user_id", "\(owner.id)"), ("name", "k"), ("scope", "profile")])
        case .revokeKey, .reactivateKey:
            let owner = try await user(target, unique, in: workspace)
            var (key, _) = try await api.key(for: owner)
            if form == .reactivateKey { key = try await operatorKeys.setStatus(.revoked, of: key.id, by: .commandLine) }
            return ("/admin/api-keys/\(key.id)/\(form == .revokeKey ? "revoke" : "reactivate")", [])
        }
    }

    /// The newest audit event of each workspace: every change is recorded with its event, in one transaction,
    /// so nothing changed exactly when neither moved.
    private func snapshot() async throws -> [Int64?] {
        var newest: [Int64?] = []
        for workspace in [world.workspace.id, globex.id] {
            newest.append(
                try await api.store.auditEvents(in: workspace, matching: AuditQuery(limit: 1)).first?.sequence)
        }
        return newest
    }

    /// The path and body of `route` against a target made fresh for the cell.
    private func request(
        _ route: RightsTableTests.Route, _ target: RightsTableTests.Target
    ) async throws -> (String, String?) {
        let workspace = target == .foreign ? globex : world.workspace
        let unique = UUID().uuidString.prefix(8).lowercased()
        let wanted = target == .privileged ? #"["audit:read","users:write"]"# : #"["profile"]"#
        switch route {
        case .createClient:
            return ("/api/v1/clients", #"{"client_id":"new-\#(unique)","name":"New","scopes":\#(wanted)}"#)
        case .createUser:
            let role = target == .privileged ? "super_admin" : "user"
            return ("/api/v1/users", #"{"email":"new-\#(unique)@acme.test","name":"New","role":"\#(role)"}"#)
        case .requireAdminTwoFactor:
            let current = try await api.store.workspace(id: world.workspace.id)?.requiresAdminTwoFactor ?? false
            return ("/api/v1/workspace", #"{"require_admin_two_factor":\#(!current)}"#)
        case .defineScope:
            return ("/api/v1/scopes", #"{"name":"custom-\#(unique)","description":"Custom","roles":["admin"]}"#)
        case .registerResource:
            return ("/api/v1/resources", #"{"identifier":"https://\#(unique).example.com","name":"API"}"#)
        case .setRegistrationPolicy:
            let current = try await api.store.workspace(id: world.workspace.id)?.clientRegistration ?? .off
            return ("/api/v1/client-registration", #"{"policy":"\#(current == .off ? "open" : "off")"}"#)
        case .issueRegistrationToken:
            return ("/api/v1/client-registration/tokens", #"{"label":"t","scopes":\#(wanted)}"#)
        case .revokeRegistrationToken:
            return ("/api/v1/client-registration/tokens/\(try await registrationToken(in: workspace).id)", nil)
        case .deleteResource:
            return ("/api/v1/resources/\(try await resource(unique, in: workspace).id)", nil)
        case .changeClient, .deleteClient, .rotateSecret, .createServiceKey:
            let scopes: Set<Scope> = target == .privileged ? [.auditRead, .usersWrite] : [.profile]
            let client = try await client("t-\(unique)", scopes: scopes, in: workspace)
            let base = "/api/v1/clients/\(client.id)"
            return switch route {
            case .changeClient: (base, #"{"name":"Renamed"}"#)
            case .deleteClient: (base, nil)
            case .rotateSecret: (base + "/secret", "{}")
            default: (base + "/api-keys", #"{"name":"k","scopes":["profile"]}"#)
            }
        case .createUserKey:
            let owner = try await user(target, unique, in: workspace)
            return ("/api/v1/users/\(owner.id)/api-keys", #"{"name":"k","scopes":["profile"]}"#)
        case .changeKey, .revokeKey, .reactivateKey:
            let owner = try await user(target, unique, in: workspace)
            var (key, _) = try await api.key(for: owner)
            if route == .reactivateKey {
                key = try await operatorKeys.setStatus(.revoked, of: key.id, by: .commandLine)
            }
            return switch route {
            case .changeKey: ("/api/v1/api-keys/\(key.id)", #"{"name":"renamed"}"#)
            case .revokeKey: ("/api/v1/api-keys/\(key.id)/revoke", nil)
            default: ("/api/v1/api-keys/\(key.id)/reactivate", nil)
            }
        case .changeUser:
            let user = try await user(target, unique, in: workspace)
            return ("/api/v1/users/\(user.id)", #"{"title":"Renamed"}"#)
        case .resetTwoFactor, .endSessions:
            let user = try await user(target, unique, in: workspace)
            return ("/api/v1/users/\(user.id)/\(route == .resetTwoFactor ? "two-factor" : "sessions")", nil)
        case .inviteUser, .cancelInvitation, .makeResetLink:
            let user = try await invitedUser(target, unique, in: workspace)
            return switch route {
            case .inviteUser: ("/api/v1/users/\(user.id)/invitation", nil)
            case .cancelInvitation: ("/api/v1/users/\(user.id)/invitation", nil)
            default: ("/api/v1/users/\(user.id)/password-reset", nil)
            }
        }
    }

    private func registrationToken(in workspace: Workspace) async throws -> InitialAccessToken {
        try await RegistrationAdministration(store: api.store, clock: api.clock).issueToken(
            label: try DisplayName("t"), scopes: nil, lifetime: nil, in: workspace.id, by: .commandLine
        ).0
    }

    private func resource(_ unique: some StringProtocol, in workspace: Workspace) async throws -> ResourceServer {
        try await ResourceServers(
            store: api.store, clock: api.clock, settings: try OAuthSettings(issuer: OAuthWorld.issuer)
        )
        .register(
            identifier: try ResourceIdentifier("https://\(unique).example.com"), name: try DisplayName("API"),
            scopes: [], accessTokenLifetime: nil, in: workspace.id, by: .commandLine)
    }

    private func client(_ id: String, scopes: Set<Scope>, in workspace: Workspace) async throws -> ClientApplication {
        try await operatorClients.create(
            NewClientApplication(
                id: try ClientID(id), name: try DisplayName(id), redirectURIs: [try RedirectURI(OAuthWorld.redirect)],
                scopes: scopes),
            in: workspace.id, by: .commandLine
        ).0
    }

    /// A target (see `user`) without a password, who has an invitation waiting.
    private func invitedUser(
        _ target: RightsTableTests.Target, _ unique: some StringProtocol, in workspace: Workspace
    ) async throws -> User {
        let user = try await user(target, unique, in: workspace)
        _ = try await operatorUsers.invite(user.id, by: .commandLine)
        return user
    }

    /// A privileged target is a super admin; a plain or foreign one a plain user.
    private func user(_ target: RightsTableTests.Target, _ unique: some StringProtocol, in workspace: Workspace)
        async throws -> User
    {
        try await api.user(
            "t-\(unique)@\(workspace.slug.value).test", role: target == .privileged ? .superAdmin : .user, in: workspace
        )
    }
}
