import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// Two-factor sign-in through the pages: enrolment on `/account/two-factor` (the key, its QR code, a first
/// code), the second step of signing in, recovery codes, replays and throttling, and `amr` in ID tokens.
@Suite("Two-factor sign-in")
struct TwoFactorTests {
    /// The TOTP of the key the enrolment page shows (in groups of four, base32).
    static func totp(from page: APIResponse) throws -> TOTP {
        let text = page.text
        let found = try #require(
            text.range(
                of: #"<code id="totp-secret" class="secret-text">([A-Z2-7 ]+)</code>"#, options: .regularExpression))
        let key = text[found].split(separator: ">")[1].split(separator: "<")[0].filter { $0 != " " }
        return TOTP(secret: try #require(Self.base32Decoded(String(key))))
    }

    static func base32Decoded(_ text: String) -> [UInt8]? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bytes: [UInt8] = []
        var buffer = 0
        var bits = 0
        for character in text {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 5) | value
            bits += 5
            if bits >= 8 {
                bytes.append(UInt8((buffer >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return bytes
    }

    /// The code of `totp` now, by the application's clock.
    static func code(_ totp: TOTP, _ world: OAuthWorld) -> String {
        totp.code(step: TOTP.step(at: world.api.clock.now()))
    }

    /// Ann enrols in `browser`; returns her TOTP and recovery codes.
    static func enrol(_ world: OAuthWorld, _ browser: Browser) async throws -> (TOTP, [String]) {
        let page = try await browser.get("/account/two-factor")
        #expect(page.status == .ok)
        #expect(page.headers[.cacheControl] == "no-store")
        #expect(page.text.contains("<svg"), "the QR code, drawn in the page")
        let totp = try Self.totp(from: page)
        let again = try await browser.get("/account/two-factor")
        #expect(try Self.totp(from: again).secret == totp.secret, "a reload shows the same key")
        let confirmed = try await browser.post(
            "/account/two-factor",
            [("csrf_token", try Browser.field("csrf_token", in: page)), ("code", Self.code(totp, world))])
        #expect(confirmed.status == .ok, "\(confirmed.text.prefix(300))")
        #expect(confirmed.headers[.cacheControl] == "no-store")
        let codes = confirmed.text.matches(of: /<li><code>([a-z2-9]{5}-[a-z2-9]{5})<\/code><\/li>/).map { String($0.1) }
        #expect(codes.count == 10)
        #expect(Set(codes).count == 10)
        return (totp, codes)
    }

    /// Signs ann in with her password and then `code`; returns the browser and the last answer.
    static func signIn(_ world: OAuthWorld, _ email: String = "ann@acme.test", code: String) async throws
        -> (Browser, APIResponse)
    {
        let browser = world.browser()
        let first = try await browser.signIn(email, password: OAuthWorld.password)
        #expect(first.status == .seeOther)
        #expect(first.headers[.location] == "/login/two-factor")
        let form = try await browser.get("/login/two-factor")
        #expect(form.status == .ok)
        let answer = try await browser.post(
            "/login/two-factor", [("csrf_token", try Browser.field("csrf_token", in: form)), ("code", code)])
        return (browser, answer)
    }

    @Test func enrolmentThenSignInAsksForTheCodeAndTheIDTokenSaysSo() async throws {
        try await OAuthWorld.run { world in
            let enrolling = try await world.signedIn()
            #expect(try await enrolling.get("/account").text.contains("Set up two-factor sign-in"))
            let (totp, _) = try await Self.enrol(world, enrolling)
            #expect(try await enrolling.get("/account").text.contains("Recovery codes, or turn it off"))

            // The password alone opens nothing.
            let halfway = world.browser()
            _ = try await halfway.signIn("ann@acme.test", password: OAuthWorld.password)
            #expect(try await halfway.get("/account").status == .found)
            #expect(try await halfway.get("/oauth/authorize", OAuthWorld.authorizeQuery()).status == .found)

            world.api.clock.advance(by: 30)
            let (browser, answer) = try await Self.signIn(world, code: Self.code(totp, world))
            #expect(answer.status == .seeOther)
            #expect(answer.headers[.location] == "/account")
            #expect(try await browser.get("/account").status == .ok)
            let tokens = try await world.exchange(try await world.code(browser: browser))
            let claims = try OpenIDBasicTests.claims(of: try #require(tokens.string("id_token")))
            #expect(claims["amr"] as? [String] == ["pwd", "otp"])
            let refreshed = try await world.refresh(try #require(tokens.string("refresh_token")))
            #expect(
                try OpenIDBasicTests.claims(of: try #require(refreshed.string("id_token")))["amr"] as? [String] == [
                    "pwd", "otp",
                ])

            // The same code, again: refused, even in its own time window.
            let (_, replay) = try await Self.signIn(world, code: Self.code(totp, world))
            #expect(replay.status == .unauthorized)
            #expect(replay.text.contains("used already"))
        }
    }

    @Test func withoutASecondFactorTheIDTokenSaysPasswordOnly() async throws {
        try await OAuthWorld.run { world in
            let tokens = try await world.tokens()
            #expect(
                try OpenIDBasicTests.claims(of: try #require(tokens.string("id_token")))["amr"] as? [String] == ["pwd"])
        }
    }

    @Test func aRecoveryCodeSignsInOnce() async throws {
        try await OAuthWorld.run { world in
            let (_, codes) = try await Self.enrol(world, try await world.signedIn())
            let (browser, answer) = try await Self.signIn(world, code: codes[3].uppercased())
            #expect(answer.status == .seeOther)
            #expect(try await browser.get("/account").status == .ok)
            #expect(try await browser.get("/account/two-factor").text.contains("9 of 10 recovery codes are unused"))
            let (_, again) = try await Self.signIn(world, code: codes[3])
            #expect(again.status == .unauthorized)
            let (_, other) = try await Self.signIn(world, code: "abcde-fghjk")
            #expect(other.status == .unauthorized)
        }
    }

    @Test func wrongCodesAreThrottledAndAWaitingSessionLastsFiveMinutes() async throws {
        try await OAuthWorld.run { world in
            let (totp, _) = try await Self.enrol(world, try await world.signedIn())
            let browser = world.browser()
            _ = try await browser.signIn("ann@acme.test", password: OAuthWorld.password)
            let form = try await browser.get("/login/two-factor")
            let csrf = try Browser.field("csrf_token", in: form)
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<11 {
                statuses.append(
                    try await browser.post("/login/two-factor", [("csrf_token", csrf), ("code", "000000")]).status)
            }
            #expect(statuses.prefix(9).allSatisfy { $0 == .unauthorized }, "\(statuses)")
            let throttled = try await browser.post(
                "/login/two-factor", [("csrf_token", csrf), ("code", Self.code(totp, world))])
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.headers[.retryAfter] != nil)

            let late = world.browser()
            _ = try await late.signIn("ann@acme.test", password: OAuthWorld.password)
            let lateForm = try await late.get("/login/two-factor")
            world.api.clock.advance(by: 301)
            let expired = try await late.post(
                "/login/two-factor",
                [("csrf_token", try Browser.field("csrf_token", in: lateForm)), ("code", Self.code(totp, world))])
            #expect(expired.status == .seeOther)
            #expect(expired.headers[.location]?.hasPrefix("/login") == true)
            #expect(try await late.get("/account").status == .found)
        }
    }

    @Test func turningItOffNeedsACodeAndSignsEveryBrowserOut() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let (totp, _) = try await Self.enrol(world, browser)
            let page = try await browser.get("/account/two-factor")
            let csrf = try Browser.field("csrf_token", in: page)
            let wrong = try await browser.post(
                "/account/two-factor/remove", [("csrf_token", csrf), ("code", "123456")])
            #expect(wrong.status == .badRequest)
            world.api.clock.advance(by: 30)
            let regenerated = try await browser.post(
                "/account/two-factor/recovery-codes", [("csrf_token", csrf), ("code", Self.code(totp, world))])
            #expect(regenerated.status == .ok)
            world.api.clock.advance(by: 30)
            let removed = try await browser.post(
                "/account/two-factor/remove", [("csrf_token", csrf), ("code", Self.code(totp, world))])
            #expect(removed.status == .seeOther)
            #expect(try await browser.get("/account").status == .found, "signed out")
            #expect(try await world.signedIn().get("/account").text.contains("Set up two-factor sign-in"))
            let (_, admin) = try await world.api.key(for: world.owner)
            let events = try await world.api.call(.get, "/api/v1/audit-events", key: admin)
            let actions = Set(events.items("audit_events").compactMap { $0["action"] as? String })
            #expect(
                actions.isSuperset(of: [
                    "user.two_factor_enabled", "user.recovery_codes_regenerated", "user.two_factor_disabled",
                ]))
        }
    }

    @Test func anAdminResetsALostSecondFactorAndEndsSessions() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            _ = try await Self.enrol(world, browser)
            let hr = try await world.api.user("hr@acme.test", role: .hrAdmin, in: world.workspace)
            let (_, hrKey) = try await world.api.key(for: hr)
            let (_, annKey) = try await world.api.key(for: world.ann)
            #expect(
                try await world.api.call(.delete, "/api/v1/users/\(hr.id)/two-factor", key: annKey).status == .forbidden
            )
            let reset = try await world.api.call(.delete, "/api/v1/users/\(world.ann.id)/two-factor", key: hrKey)
            #expect(reset.status == .noContent)
            #expect(try await browser.get("/account").status == .found, "her sessions ended")
            let again = try await world.browser().signIn("ann@acme.test", password: OAuthWorld.password)
            #expect(again.headers[.location] == "/account", "the password alone signs her in now")

            let signedIn = try await world.signedIn()
            let ended = try await world.api.call(.delete, "/api/v1/users/\(world.ann.id)/sessions", key: hrKey)
            #expect(ended.status == .noContent)
            #expect(try await signedIn.get("/account").status == .found)
        }
    }

    @Test func aWorkspaceThatRequiresItSendsAdministratorsToSetItUpBeforeAnyPage() async throws {
        try await OAuthWorld.run { world in
            var boss = try await world.api.user("boss@acme.test", role: .admin, in: world.workspace)
            boss.passwordHash = await Fixture.fastPasswords.hash(try Password(OAuthWorld.password))
            try await world.api.store.update(boss)
            let hr = try await world.api.user("hr@acme.test", role: .hrAdmin, in: world.workspace)
            let (_, hrKey) = try await world.api.key(for: hr)
            let (_, ownerKey) = try await world.api.key(for: world.owner)
            let refused = try await world.api.call(
                .patch, "/api/v1/workspace", key: hrKey, json: #"{"require_admin_two_factor":true}"#)
            #expect(refused.status == .forbidden)
            let set = try await world.api.call(
                .patch, "/api/v1/workspace", key: ownerKey, json: #"{"require_admin_two_factor":true}"#)
            #expect(set.status == .ok)
            #expect(set.json["require_admin_two_factor"] as? Bool == true)

            let browser = try await world.signedIn("boss@acme.test")
            for path in ["/admin/users", "/account"] {
                let answer = try await browser.get(path)
                #expect(answer.status == .found, "\(path)")
                #expect(answer.headers[.location]?.hasPrefix("/account/two-factor?return_to=") == true, "\(path)")
            }
            let authorize = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery())
            #expect(authorize.headers[.location]?.hasPrefix("/account/two-factor?return_to=") == true)
            #expect(try await world.signedIn().get("/account").status == .ok, "a plain user is not asked")
            let setUp = try await browser.get("/account/two-factor?return_to=/admin/users")
            #expect(setUp.text.contains("Set up two-factor sign-in to go on"))
            _ = try await Self.enrol(world, browser)
            #expect(try await browser.get("/admin/users").status == .ok)
        }
    }

    @Test func anAppAskingForASecondFactorGetsOneOrTheUserSetsItUp() async throws {
        try await OAuthWorld.run { world in
            let query = OAuthWorld.authorizeQuery(extra: [("acr_values", "mfa")])
            let browser = try await world.signedIn()
            let setUp = try await browser.get("/oauth/authorize", query)
            #expect(setUp.headers[.location]?.hasPrefix("/account/two-factor?return_to=") == true)
            let silent = try await browser.get(
                "/oauth/authorize", OAuthWorld.authorizeQuery(extra: [("acr_values", "mfa"), ("prompt", "none")]))
            #expect(queryItems(try #require(silent.headers[.location]))["error"] == "interaction_required")

            let (totp, _) = try await Self.enrol(world, browser)
            // This browser signed in with the password alone: it signs in again, with the code.
            let again = try await browser.get("/oauth/authorize", query)
            #expect(again.headers[.location]?.hasPrefix("/login?") == true)
            world.api.clock.advance(by: 30)
            let (strong, _) = try await Self.signIn(world, code: Self.code(totp, world))
            let tokens = try await world.exchange(try await world.code(query, browser: strong))
            let claims = try OpenIDBasicTests.claims(of: try #require(tokens.string("id_token")))
            #expect(claims["acr"] as? String == "mfa")
            #expect(claims["amr"] as? [String] == ["pwd", "otp"])
            let plain = try await world.exchange(try await world.code(browser: strong))
            #expect(try OpenIDBasicTests.claims(of: try #require(plain.string("id_token")))["acr"] as? String == "mfa")
        }
    }
}
