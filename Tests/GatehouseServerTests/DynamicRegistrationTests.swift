import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// Dynamic client registration (RFC 7591) and its management (RFC 7592), under each workspace's policy.
@Suite("Dynamic client registration")
struct DynamicRegistrationTests {
    static let loopback = "http://127.0.0.1:33418/callback"

    /// Sets the acme workspace's policy as its super admin, and returns their key. The tests' open registrations
    /// land in acme.
    static func policy(_ policy: String, _ world: OAuthWorld) async throws -> String {
        let (_, key) = try await world.api.key(for: world.owner)
        let answer = try await world.api.call(
            .put, "/api/v1/client-registration", key: key, json: #"{"policy":"\#(policy)"}"#)
        #expect(answer.status == .ok, "\(answer.text)")
        #expect(answer.string("policy") == policy)
        return key
    }

    static func run(
        framework: TestingSetup = .router, _ test: @escaping @Sendable (OAuthWorld) async throws -> Void
    ) async throws {
        let acme = try WorkspaceSlug("acme")
        try await OAuthWorld.run(framework: framework, configure: { $0.registrationWorkspace = acme }, test)
    }

    /// POSTs `json` to the registration endpoint, with `token` as the Bearer credential if given.
    static func register(_ world: OAuthWorld, _ json: String, token: String? = nil) async throws -> APIResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await world.api.send(.post, "/oauth/register", headers: headers, body: json)
    }

    static func manage(
        _ world: OAuthWorld, _ method: HTTPRequest.Method, _ id: String, token: String, json: String? = nil
    ) async throws -> APIResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if json != nil { headers[.contentType] = "application/json" }
        return try await world.api.send(method, "/oauth/register/\(id)", headers: headers, body: json)
    }

    @Test func registrationIsOffUntilAnAdminTurnsItOn() async throws {
        try await Self.run { world in
            let answer = try await Self.register(world, #"{"redirect_uris":["\#(Self.loopback)"]}"#)
            #expect(answer.status == .forbidden)
            #expect(answer.string("error") == "access_denied")
            let metadata = try await world.api.call(.get, "/.well-known/oauth-authorization-server", key: nil)
            #expect(metadata.string("registration_endpoint") == "http://127.0.0.1:0/oauth/register")
        }
    }

    @Test func anOpenRegistrationMakesAPublicClientThatSignsUsersIn() async throws {
        try await Self.run { world in
            _ = try await Self.policy("open", world)
            // What the MCP SDK sends by default: it asks for a secret, and gets a public client instead.
            let answer = try await Self.register(
                world,
                #"""
                {"redirect_uris":["\#(Self.loopback)"],"client_name":"Claude","token_endpoint_auth_method":"client_secret_post",
                 "grant_types":["authorization_code","refresh_token"],"response_types":["code"],
                 "scope":"openid profile users:write","client_uri":"https://claude.ai","contacts":["x@example.com"]}
                """#)
            #expect(answer.status == .created, "\(answer.text)")
            #expect(answer.headers[.cacheControl] == "no-store")
            let id = try #require(answer.string("client_id"))
            #expect(id.hasPrefix("app-"))
            #expect(answer.string("client_secret") == nil)
            #expect(answer.string("token_endpoint_auth_method") == "none")
            // No administrative scope through open registration: users:write falls out.
            #expect(answer.string("scope") == "openid profile")
            #expect(answer.json["redirect_uris"] as? [String] == [Self.loopback])
            #expect(answer.string("registration_client_uri") == "http://127.0.0.1:0/oauth/register/\(id)")
            #expect(answer.string("registration_access_token")?.count == 43)
            let stored = try #require(try await world.api.store.client(id: try ClientID(id)))
            #expect(stored.registeredBy == .app)
            #expect(stored.type == .public && stored.requirePKCE)
            #expect(stored.workspaceID == world.workspace.id)

            // Two days on, it signs ann in like any public client, on any loopback port (RFC 8252 §7.3), and its use
            // is noted (at most daily), which keeps it from being deleted as unused.
            world.api.clock.advance(by: 2 * 86_400)
            let redirect = "http://127.0.0.1:51234/callback"
            var query = OAuthWorld.authorizeQuery(client: id, scope: "openid profile")
            query.removeAll { $0.0 == "redirect_uri" }
            query.append(("redirect_uri", redirect))
            let code = try await world.code(query)
            let tokens = try await world.api.form(
                "/oauth/token",
                [
                    ("grant_type", "authorization_code"), ("code", code), ("client_id", id),
                    ("redirect_uri", redirect), ("code_verifier", OAuthWorld.verifier),
                ])
            #expect(tokens.status == .ok, "\(tokens.text)")
            #expect(try await world.api.store.client(id: try ClientID(id))?.lastUsedAt == world.api.clock.now())
            let events = try await world.api.store.auditEvents(
                in: world.workspace.id, matching: AuditQuery(action: "client.registered", limit: 5))
            #expect(events.first?.actor.credential == "client_registration")
        }
    }

    @Test func openRegistrationRefusesWhatOnlyAdminsMayRegister() async throws {
        try await Self.run { world in
            _ = try await Self.policy("open", world)
            let cases: [(String, String)] = [
                (#"{"redirect_uris":["http://app.example.com/cb"]}"#, "invalid_redirect_uri"),
                (#"{"redirect_uris":["com.example.app:/cb"]}"#, "invalid_redirect_uri"),
                (#"{"redirect_uris":["https://app.example.com/*"]}"#, "invalid_redirect_uri"),
                (#"{"redirect_uris":[]}"#, "invalid_redirect_uri"),
                (#"{"redirect_uris":"https://app.example.com/cb"}"#, "invalid_client_metadata"),
                (
                    #"{"redirect_uris":["https://app.example.com/cb"],"grant_types":["client_credentials"]}"#,
                    "invalid_client_metadata"
                ),
                (
                    #"{"redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"private_key_jwt"}"#,
                    "invalid_client_metadata"
                ),
                (
                    #"{"redirect_uris":["https://app.example.com/cb"],"response_types":["token"]}"#,
                    "invalid_client_metadata"
                ),
                (
                    #"{"redirect_uris":["https://app.example.com/cb"],"logo_uri":"javascript:alert(1)"}"#,
                    "invalid_client_metadata"
                ),
                (
                    #"{"redirect_uris":["https://app.example.com/cb"],"software_statement":"eyJ.x.y"}"#,
                    "invalid_software_statement"
                ),
                ("not json", "invalid_client_metadata"),
            ]
            for (json, error) in cases {
                let answer = try await Self.register(world, json)
                #expect(answer.status == .badRequest, "\(json)")
                #expect(answer.string("error") == error, "\(json): \(answer.text)")
            }
            let grantTypes = try await Self.register(
                world, #"{"redirect_uris":["https://app.example.com/cb"],"grant_types":["client_credentials"]}"#)
            #expect(grantTypes.string("error_description")?.contains("grant_types") == true)
        }
    }

    @Test func anInitialAccessTokenRegistersAConfidentialClientWithinItsScopes() async throws {
        try await Self.run { world in
            let key = try await Self.policy("token", world)
            // Without a token, a workspace on "token" takes no registration.
            let bare = try await Self.register(world, #"{"redirect_uris":["https://app.example.com/cb"]}"#)
            #expect(bare.status == .forbidden)
            let issued = try await world.api.call(
                .post, "/api/v1/client-registration/tokens", key: key,
                json: #"{"label":"partner sync","scopes":["profile","users:read"],"expires_in":3600}"#)
            #expect(issued.status == .created, "\(issued.text)")
            #expect(issued.headers[.cacheControl] == "no-store")
            let token = try #require(issued.string("token"))
            #expect(issued.json["single_use"] as? Bool == true)
            let answer = try await Self.register(
                world,
                #"""
                {"redirect_uris":["https://sync.example.com/cb"],"client_name":"Sync",
                 "grant_types":["authorization_code","refresh_token","client_credentials"],
                 "token_endpoint_auth_method":"client_secret_post","scope":"profile users:read users:write"}
                """#, token: token)
            #expect(answer.status == .created, "\(answer.text)")
            let id = try #require(answer.string("client_id"))
            let secret = try #require(answer.string("client_secret"))
            #expect(answer.json["client_secret_expires_at"] as? Int == 0)
            #expect(answer.string("token_endpoint_auth_method") == "client_secret_post")
            #expect(answer.string("scope") == "profile users:read")
            #expect(try await world.api.store.client(id: try ClientID(id))?.registeredBy == .appWithToken)
            // Its own token, with the secret it was given, sent in the body as it registered to.
            let own = try await world.api.form(
                "/oauth/token",
                [("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)])
            #expect(own.status == .ok, "\(own.text)")
            #expect(own.string("scope") == "users:read")
            // Single use: the second registration with it is refused.
            let again = try await Self.register(world, #"{"redirect_uris":["https://b.example.com/cb"]}"#, token: token)
            #expect(again.status == .unauthorized)
            #expect(again.string("error") == "invalid_token")
            #expect(again.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            let listed = try await world.api.call(.get, "/api/v1/client-registration/tokens", key: key)
            #expect(listed.items("tokens").first?["uses"] as? Int == 1)
        }
    }

    @Test func aRevokedOrExpiredTokenRegistersNothing() async throws {
        try await Self.run { world in
            let key = try await Self.policy("token", world)
            let reusable = try await world.api.call(
                .post, "/api/v1/client-registration/tokens", key: key,
                json: #"{"label":"ci","single_use":false,"expires_in":600}"#)
            let token = try #require(reusable.string("token"))
            let body = #"{"redirect_uris":["https://ci.example.com/cb"]}"#
            #expect(try await Self.register(world, body, token: token).status == .created)
            #expect(try await Self.register(world, body, token: token).status == .created)
            world.api.clock.advance(by: 601)
            #expect(try await Self.register(world, body, token: token).status == .unauthorized)
            let second = try await world.api.call(
                .post, "/api/v1/client-registration/tokens", key: key, json: #"{"label":"ci 2","single_use":false}"#)
            let id = try #require(second.string("id"))
            #expect(
                try await world.api.call(.delete, "/api/v1/client-registration/tokens/\(id)", key: key).status
                    == .noContent)
            #expect(
                try await Self.register(world, body, token: try #require(second.string("token"))).status
                    == .unauthorized)
            // Policy off stops every token too.
            let third = try await world.api.call(
                .post, "/api/v1/client-registration/tokens", key: key, json: #"{"label":"ci 3"}"#)
            _ = try await Self.policy("off", world)
            #expect(
                try await Self.register(world, body, token: try #require(third.string("token"))).status == .forbidden)
        }
    }

    @Test func theRegistrationAccessTokenReadsChangesAndDeletesTheClient() async throws {
        try await Self.run { world in
            _ = try await Self.policy("open", world)
            let answer = try await Self.register(
                world, #"{"redirect_uris":["\#(Self.loopback)"],"client_name":"Desktop"}"#)
            let id = try #require(answer.string("client_id"))
            let token = try #require(answer.string("registration_access_token"))
            let read = try await Self.manage(world, .get, id, token: token)
            #expect(read.status == .ok)
            #expect(read.string("client_name") == "Desktop")
            #expect(read.string("registration_access_token") == nil)
            #expect(try await Self.manage(world, .get, id, token: "wrong").status == .unauthorized)
            #expect(try await Self.manage(world, .get, "acme-spa", token: token).status == .unauthorized)
            let changed = try await Self.manage(
                world, .put, id, token: token,
                json: #"{"client_id":"\#(id)","redirect_uris":["https://desk.example.com/cb"],"client_name":"Desk"}"#)
            #expect(changed.status == .ok, "\(changed.text)")
            #expect(changed.string("client_name") == "Desk")
            #expect(changed.json["redirect_uris"] as? [String] == ["https://desk.example.com/cb"])
            let mismatched = try await Self.manage(
                world, .put, id, token: token, json: #"{"client_id":"other","redirect_uris":["\#(Self.loopback)"]}"#)
            #expect(mismatched.string("error") == "invalid_client_metadata")
            // Still public, still no administrative scope, whatever the update asks for.
            let widened = try await Self.manage(
                world, .put, id, token: token,
                json:
                    #"{"client_id":"\#(id)","redirect_uris":["\#(Self.loopback)"],"token_endpoint_auth_method":"client_secret_basic","scope":"users:write profile"}"#
            )
            #expect(widened.string("token_endpoint_auth_method") == "none")
            #expect(widened.string("scope") == "profile")
            #expect(try await Self.manage(world, .delete, id, token: token).status == .noContent)
            #expect(try await world.api.store.client(id: try ClientID(id)) == nil)
            #expect(try await Self.manage(world, .get, id, token: token).status == .unauthorized)
        }
    }

    @Test func clientsThatRegisteredThemselvesGoAfterThirtyDaysUnused() async throws {
        try await Self.run { world in
            let key = try await Self.policy("open", world)
            let idle = try #require(
                try await Self.register(world, #"{"redirect_uris":["\#(Self.loopback)"]}"#).string("client_id"))
            let busy = try #require(
                try await Self.register(world, #"{"redirect_uris":["\#(Self.loopback)"]}"#).string("client_id"))
            let registration = ClientRegistration(
                store: world.api.store, clock: world.api.clock, openWorkspace: try WorkspaceSlug("acme"))
            world.api.clock.advance(by: 20 * 86_400)
            try await registration.recordUse(of: try #require(try await world.api.store.client(id: try ClientID(busy))))
            world.api.clock.advance(by: 11 * 86_400)
            #expect(try await registration.deleteUnusedClients() == 1)
            #expect(try await world.api.store.client(id: try ClientID(idle)) == nil)
            #expect(try await world.api.store.client(id: try ClientID(busy)) != nil)
            // Admins' clients never go this way.
            #expect(try await world.api.store.client(id: try ClientID("acme-spa")) != nil)
            let clients = try await world.api.call(.get, "/api/v1/clients", key: key)
            #expect(
                clients.items("clients").contains {
                    $0["client_id"] as? String == busy && $0["registered_by"] as? String == "app"
                })
        }
    }

    @Test func openRegistrationIsThrottledPerAddress() async throws {
        try await Self.run(framework: .live) { world in
            _ = try await Self.policy("open", world)
            for _ in 0..<ClientRegistration.openPerAddress {
                #expect(try await Self.register(world, #"{"redirect_uris":["\#(Self.loopback)"]}"#).status == .created)
            }
            let refused = try await Self.register(world, #"{"redirect_uris":["\#(Self.loopback)"]}"#)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] != nil)
        }
    }

    @Test func onlyASuperAdminSetsThePolicyAndTokensCarryNoMoreThanTheirIssuerHolds() async throws {
        try await Self.run { world in
            let admin = try await world.api.user("admin@acme.test", role: .admin, in: world.workspace)
            let (_, adminKey) = try await world.api.key(for: admin)
            let refused = try await world.api.call(
                .put, "/api/v1/client-registration", key: adminKey, json: #"{"policy":"open"}"#)
            #expect(refused.status == .forbidden)
            let beyond = try await world.api.call(
                .post, "/api/v1/client-registration/tokens", key: adminKey,
                json: #"{"label":"x","scopes":["audit:read"]}"#)
            #expect(beyond.status == .forbidden)
            let (_, annKey) = try await world.api.key(for: world.ann)
            #expect(
                try await world.api.call(
                    .post, "/api/v1/client-registration/tokens", key: annKey, json: #"{"label":"x"}"#
                )
                .status == .forbidden)
            // The admin's token, once the admin is deactivated, registers nothing.
            _ = try await Self.policy("token", world)
            let issued = try await world.api.call(
                .post, "/api/v1/client-registration/tokens", key: adminKey, json: #"{"label":"mine"}"#)
            let token = try #require(issued.string("token"))
            var gone = admin
            gone.isActive = false
            try await world.api.store.update(gone)
            let answer = try await Self.register(
                world, #"{"redirect_uris":["https://a.example.com/cb"]}"#, token: token)
            #expect(answer.status == .unauthorized)
        }
    }

    @Test func thePagesShowThePolicyTheTokensAndWhichClientsRegisteredThemselves() async throws {
        try await Self.run { world in
            var owner = world.owner
            owner.passwordHash = await Fixture.fastPasswords.hash(try Password(OAuthWorld.password))
            try await world.api.store.update(owner)
            let browser = try await world.signedIn(owner.email.value)
            let page = try await browser.get("/admin/registration")
            #expect(page.status == .ok)
            #expect(page.text.contains(#"action="/admin/registration/policy""#))
            let csrf = try Browser.field("csrf_token", in: page)
            let saved = try await browser.post(
                "/admin/registration/policy", [("csrf_token", csrf), ("policy", "open")])
            #expect(saved.status == .seeOther)
            #expect(try await world.api.store.workspace(id: world.workspace.id)?.clientRegistration == .open)
            let issued = try await browser.post(
                "/admin/registration/tokens",
                [
                    ("csrf_token", csrf), ("label", "Partner"), ("scopes", "profile"), ("expires_in_days", "3"),
                    ("single_use", "on"),
                ])
            #expect(issued.status == .ok)
            let shown = try #require(
                issued.text.range(of: #"id="secret" type="text" readonly value="[^"]+""#, options: .regularExpression))
            let secret = String(issued.text[shown].split(separator: "\"")[5])
            #expect(secret.count == 43)
            // The token works once it is copied; the page never shows it again.
            let registered = try await Self.register(
                world, #"{"redirect_uris":["\#(Self.loopback)"],"client_name":"Desk"}"#, token: secret)
            #expect(registered.status == .created)
            let again = try await browser.get("/admin/registration")
            #expect(!again.text.contains(secret))
            #expect(again.text.contains("Partner") && again.text.contains("used"))
            let open = try await Self.register(
                world, #"{"redirect_uris":["\#(Self.loopback)"],"client_name":"Claude"}"#)
            #expect(open.status == .created)
            let list = try await browser.get("/admin/clients")
            #expect(list.text.contains("registered by the app</span>"))
            #expect(list.text.contains("registered by the app, with a token"))
            let client = try await browser.get("/admin/clients/\(try #require(open.string("client_id")))")
            #expect(client.text.contains("deleted after 30 days without a token"))
        }
    }
}
