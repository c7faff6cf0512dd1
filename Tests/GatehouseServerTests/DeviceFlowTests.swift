import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// The device authorization grant (RFC 8628): a CLI asks for a code, the person types it on `/device`, the
/// CLI polls.
@Suite("Device authorization grant")
struct DeviceFlowTests {
    static let grant = "urn:ietf:params:oauth:grant-type:device_code"

    /// A public CLI client of acme registered for the device grant and refresh tokens.
    static func registerCLI(_ world: OAuthWorld) async throws {
        var (cli, _) = try Fixture.client(
            "acme-cli", in: world.workspace, type: .public, scopes: BuiltInScopes.personal.union([.usersRead]))
        cli.grantTypes = [.deviceCode, .refreshToken]
        try await world.api.store.apply(
            .insertClient(cli),
            recording: AuditEvent(
                workspaceID: world.workspace.id, actor: .commandLine, action: "client.created", targetKind: "client",
                targetID: cli.id.value, address: nil, occurredAt: Fixture.epoch))
    }

    static func start(_ world: OAuthWorld, client: String = "acme-cli", scope: String = "openid profile")
        async throws -> APIResponse
    {
        try await world.api.form("/oauth/device_authorization", [("client_id", client), ("scope", scope)])
    }

    static func poll(_ world: OAuthWorld, _ deviceCode: String) async throws -> APIResponse {
        try await world.api.form(
            "/oauth/token", [("grant_type", grant), ("device_code", deviceCode), ("client_id", "acme-cli")])
    }

    /// Ann types `code` on /device and answers `decision`; returns the last page.
    static func answer(_ world: OAuthWorld, _ code: String, _ decision: String, browser: Browser? = nil) async throws
        -> APIResponse
    {
        let browser = if let browser { browser } else { try await world.signedIn() }
        let form = try await browser.get("/device")
        #expect(form.status == .ok, "\(form.status) \(form.headers[.location] ?? "") \(form.text.prefix(300))")
        let csrf = try Browser.field("csrf_token", in: form)
        let confirm = try await browser.post("/device", [("csrf_token", csrf), ("user_code", code)])
        guard confirm.status == .ok else { return confirm }
        #expect(confirm.text.contains("Allow Client acme-cli on your device?"))
        #expect(confirm.text.contains("(<code>profile</code>)"))
        return try await browser.post(
            "/device/decision", [("csrf_token", csrf), ("user_code", code), ("decision", decision)])
    }

    @Test func aCLIGetsTokensOnceThePersonAllowsItsCode() async throws {
        try await OAuthWorld.run { world in
            try await Self.registerCLI(world)
            let started = try await Self.start(world)
            #expect(started.status == .ok, "\(started.text)")
            #expect(started.headers[.cacheControl] == "no-store")
            let deviceCode = try #require(started.string("device_code"))
            let userCode = try #require(started.string("user_code"))
            #expect(
                userCode.range(of: "^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$", options: .regularExpression)
                    != nil)
            #expect(started.string("verification_uri") == "http://127.0.0.1:0/device")
            #expect(started.string("verification_uri_complete") == "http://127.0.0.1:0/device?user_code=\(userCode)")
            #expect(started.json["expires_in"] as? Int == 600)
            #expect(started.json["interval"] as? Int == 5)

            #expect(try await Self.poll(world, deviceCode).string("error") == "authorization_pending")
            // Too soon: slow down, and the interval grows by 5 seconds.
            #expect(try await Self.poll(world, deviceCode).string("error") == "slow_down")
            world.api.clock.advance(by: 6)
            #expect(try await Self.poll(world, deviceCode).string("error") == "slow_down")
            world.api.clock.advance(by: 16)
            #expect(try await Self.poll(world, deviceCode).string("error") == "authorization_pending")

            // Ann types it in lower case, without the dash.
            let typed = userCode.lowercased().replacingOccurrences(of: "-", with: "")
            let done = try await Self.answer(world, typed, "allow")
            #expect(done.status == .ok)
            #expect(done.text.contains("Device connected"))

            world.api.clock.advance(by: 16)
            let tokens = try await Self.poll(world, deviceCode)
            #expect(tokens.status == .ok, "\(tokens.text)")
            #expect(tokens.string("scope") == "openid profile")
            #expect(tokens.string("refresh_token") != nil && tokens.string("id_token") != nil)
            let me = try await world.api.call(.get, "/api/v1/me", key: try #require(tokens.string("access_token")))
            #expect(me.string("email") == "ann@acme.test")
            // Used once.
            world.api.clock.advance(by: 16)
            #expect(try await Self.poll(world, deviceCode).string("error") == "invalid_grant")
            // The code cannot be answered twice either.
            let again = try await Self.answer(world, userCode, "allow")
            #expect(again.status == .badRequest)
        }
    }

    @Test func aDeniedOrExpiredCodeGetsNoTokens() async throws {
        try await OAuthWorld.run { world in
            try await Self.registerCLI(world)
            let denied = try await Self.start(world)
            let refused = try await Self.answer(world, try #require(denied.string("user_code")), "deny")
            #expect(refused.text.contains("Request denied"))
            #expect(
                try await Self.poll(world, try #require(denied.string("device_code"))).string("error")
                    == "access_denied")

            let late = try await Self.start(world)
            world.api.clock.advance(by: 601)
            #expect(
                try await Self.poll(world, try #require(late.string("device_code"))).string("error") == "expired_token")
            let page = try await Self.answer(world, try #require(late.string("user_code")), "allow")
            #expect(page.status == .badRequest)
            #expect(page.text.contains("not valid"))
        }
    }

    @Test func typingCodesIsThrottled() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let csrf = try Browser.field("csrf_token", in: try await browser.get("/device"))
            for _ in 0..<10 {
                #expect(
                    try await browser.post("/device", [("csrf_token", csrf), ("user_code", "BCDF-GHJK")]).status
                        == .badRequest)
            }
            let throttled = try await browser.post("/device", [("csrf_token", csrf), ("user_code", "BCDF-GHJK")])
            #expect(throttled.status == .tooManyRequests)
        }
    }

    @Test func onlyClientsRegisteredForTheGrantMayStartIt() async throws {
        try await OAuthWorld.run { world in
            let answer = try await Self.start(world, client: "acme-spa")
            #expect(answer.string("error") == "unauthorized_client")
            let unknown = try await Self.start(world, client: "nobody")
            #expect(unknown.status == .unauthorized)
            let metadata = try await world.api.call(.get, "/.well-known/oauth-authorization-server", key: nil)
            #expect(metadata.string("device_authorization_endpoint") == "http://127.0.0.1:0/oauth/device_authorization")
            #expect((metadata.json["grant_types_supported"] as? [String])?.contains(Self.grant) == true)
        }
    }

    @Test func aUserCodeIsEightConsonantsTakenInAnyCaseWithOrWithoutTheDash() throws {
        for _ in 0..<200 {
            let code = UserCode.generate()
            #expect(code.letters.count == 8 && code.letters.allSatisfy { "BCDFGHJKLMNPQRSTVWXZ".contains($0) })
            #expect(UserCode(typed: code.display.lowercased()) == code)
            #expect(UserCode(typed: code.letters) == code)
        }
        #expect(UserCode(typed: "ABCD-EFGH") == nil)
        #expect(UserCode(typed: "BCDF-GHJ") == nil)
    }
}
