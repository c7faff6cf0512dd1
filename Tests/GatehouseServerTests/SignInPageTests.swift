import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `/login`, `/logout` and the session cookie: CSRF on every form, one message for every wrong credential,
/// throttling per account and per address.
@Suite("Sign-in pages")
struct SignInPageTests {
    @Test func signingInSetsAnHttpOnlyLaxSessionCookieAndGoesOn() async throws {
        try await OAuthWorld.run { world in
            let browser = world.browser()
            let page = try await browser.get("/login")
            #expect(page.status == .ok)
            #expect(page.headers[.cacheControl] == "no-store")
            #expect(page.text.contains(#"name="email""#) && page.text.contains(#"name="password""#))
            let csrfCookie = try #require(page.headers[values: .setCookie].first { $0.hasPrefix("gatehouse_csrf=") })
            #expect(csrfCookie.contains("HttpOnly") && csrfCookie.contains("SameSite=Lax"))
            let answer = try await browser.post(
                "/login",
                [
                    ("csrf_token", try Browser.field("csrf_token", in: page)), ("email", "Ann@Acme.test"),
                    ("password", OAuthWorld.password),
                ])
            #expect(answer.status == .seeOther)
            #expect(answer.headers[.location] == "/account")
            let cookie = try #require(answer.headers[values: .setCookie].first { $0.hasPrefix("gatehouse_session=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
            #expect(cookie.contains("Path=/"))
            // The issuer is http here, so not Secure; an https issuer gets Secure and the __Host- prefix.
            #expect(!cookie.contains("Secure"))
            let account = try await browser.get("/account")
            #expect(account.text.contains("ann@acme.test"))
            let events = try await world.api.store.auditEvents(
                in: world.workspace.id, matching: AuditQuery(action: "user.signed_in"))
            #expect(events.count == 1)
        }
    }

    @Test func anHTTPSIssuerMakesTheCookiesSecureWithTheHostPrefix() {
        let cookies = WebCookies(secure: true, sessionLifetime: 3600)
        let cookie = cookies.sessionCookie(OpaqueToken.generate())
        #expect(cookie.name == "__Host-gatehouse_session")
        #expect(cookie.secure && cookie.httpOnly && cookie.sameSite == .lax && cookie.path == "/")
    }

    @Test func aWrongPasswordAndAnUnknownEmailGetTheSameAnswer() async throws {
        try await OAuthWorld.run { world in
            let browser = world.browser()
            let wrong = try await browser.signIn("ann@acme.test", password: "not-the-password")
            let unknown = try await browser.signIn("nobody@acme.test", password: "not-the-password")
            for answer in [wrong, unknown] {
                #expect(answer.status == .unauthorized)
                #expect(answer.text.contains("The email or password is not right."))
                #expect(answer.headers[values: .setCookie].allSatisfy { !$0.hasPrefix("gatehouse_session=") })
            }
            #expect(!wrong.text.contains("not-the-password"))
        }
    }

    @Test func aFormWithoutTheCSRFTokenIsRefused() async throws {
        try await OAuthWorld.run { world in
            let browser = world.browser()
            _ = try await browser.get("/login")
            let forged = try await browser.post(
                "/login", [("email", "ann@acme.test"), ("password", OAuthWorld.password)])
            #expect(forged.status == .forbidden)
            #expect(forged.text.contains("This form has expired"))
            let elsewhere = world.browser()
            let noCookie = try await elsewhere.post(
                "/login",
                [("csrf_token", String(repeating: "x", count: 43)), ("email", "ann@acme.test"), ("password", "p")])
            #expect(noCookie.status == .forbidden)
        }
    }

    @Test func tooManyFailuresForOneAccountAreThrottledForAQuarterHour() async throws {
        try await OAuthWorld.run { world in
            let browser = world.browser()
            for _ in 0..<10 {
                #expect(try await browser.signIn("ann@acme.test", password: "wrong-password").status == .unauthorized)
            }
            let throttled = try await browser.signIn("ann@acme.test", password: OAuthWorld.password)
            #expect(throttled.status == .tooManyRequests)
            #expect(Int(throttled.headers[.retryAfter] ?? "") ?? 0 > 0)
            #expect(throttled.text.contains("Too many failed attempts"))
            // An unknown account is throttled exactly the same, so nothing tells them apart.
            for _ in 0..<10 { _ = try await browser.signIn("ghost@acme.test", password: "wrong-password") }
            #expect(try await browser.signIn("ghost@acme.test", password: "wrong-password").status == .tooManyRequests)
            world.api.clock.advance(by: 900)
            #expect(try await browser.signIn("ann@acme.test", password: OAuthWorld.password).status == .seeOther)
        }
    }

    @Test func aCSRFTokenIsBoundToItsSession() async throws {
        try await OAuthWorld.run { world in
            let victim = try await world.signedIn()
            let attacker = try await world.signedIn()
            let attackersToken = try Browser.field("csrf_token", in: try await attacker.get("/account"))
            // A sibling host plants the attacker's CSRF cookie in the victim's browser and posts the attacker's
            // token: with a plain double-submit cookie that would pass.
            victim.setCookie("gatehouse_csrf", attacker.cookies["gatehouse_csrf"])
            let forged = try await victim.post("/logout", [("csrf_token", attackersToken)])
            #expect(forged.status == .forbidden)
            #expect(try await victim.get("/account").status == .ok, "still signed in")
            // The victim's own page carries the token of the victim's session, which works.
            let own = try Browser.field("csrf_token", in: try await victim.get("/account"))
            #expect(own != attackersToken)
            #expect(try await victim.post("/logout", [("csrf_token", own)]).status == .seeOther)
        }
    }

    @Test func parallelWrongPasswordsAreJudgedAtMostTenTimes() async throws {
        // Over a real socket: 200 guesses at once for one account, each counted before its password is checked.
        try await OAuthWorld.run(framework: .live) { world in
            let browser = world.browser()
            let page = try await browser.get("/login")
            let token = try Browser.field("csrf_token", in: page)
            let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
            let body = "csrf_token=\(formEncoded(token))&email=ann%40acme.test&password=wrong-password"
            let headers: HTTPFields = [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"]
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<200 {
                    group.addTask { try await world.api.send(.post, "/login", headers: headers, body: body).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(
                statuses.filter { $0 == .unauthorized }.count == 10,
                "judged: \(statuses.filter { $0 == .unauthorized }.count)")
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 190)
        }
    }

    @Test func theSignInThrottleOutlivesTheMinuteWindowsOfRequestCounts() async throws {
        try await OAuthWorld.run { world in
            let browser = world.browser()
            for _ in 0..<12 { _ = try await browser.signIn("ann@acme.test", password: "wrong-password") }
            #expect(try await browser.signIn("ann@acme.test", password: "wrong-password").status == .tooManyRequests)
            // The next minute, an API request starts a new window of request counts.
            world.api.clock.advance(by: 60)
            let (_, key) = try await world.api.key(for: world.owner)
            #expect(try await world.api.call(.get, "/api/v1/me", key: key).status == .ok)
            for _ in 0..<10 {
                #expect(
                    try await browser.signIn("ann@acme.test", password: "wrong-password").status == .tooManyRequests)
            }
        }
    }

    @Test func signingInDoesNotUseUpTheAllowance() async throws {
        try await OAuthWorld.run { world in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<15 {
                statuses.append(try await world.browser().signIn("ann@acme.test", password: OAuthWorld.password).status)
            }
            #expect(statuses == Array(repeating: .seeOther, count: 15))
            statuses = []
            for _ in 0..<11 {
                statuses.append(try await world.browser().signIn("ann@acme.test", password: "wrong").status)
            }
            #expect(statuses == Array(repeating: .unauthorized, count: 10) + [.tooManyRequests])
        }
    }

    @Test func tooManyFailuresFromOneAddressAreThrottledAcrossAccounts() async throws {
        // Over a real socket, so the request has a peer address.
        try await OAuthWorld.run(framework: .live) { world in
            let browser = world.browser()
            for attempt in 0..<50 {
                _ = try await browser.signIn("user\(attempt)@acme.test", password: "wrong-password")
            }
            let throttled = try await browser.signIn("ann@acme.test", password: OAuthWorld.password)
            #expect(throttled.status == .tooManyRequests)
        }
    }

    /// Behind a trusted proxy the throttle counts the address it forwards, not the proxy's own; from any other
    /// peer `X-Forwarded-For` is ignored.
    @Test func behindATrustedProxyFailuresCountAgainstTheForwardedAddress() async throws {
        try await OAuthWorld.run(framework: .live, trustedProxies: ["127.0.0.1"]) { world in
            let attacker = world.browser()
            attacker.extraHeaders[.xForwardedFor] = "198.51.100.7, 203.0.113.9"
            for attempt in 0..<50 {
                _ = try await attacker.signIn("user\(attempt)@acme.test", password: "wrong-password")
            }
            #expect(
                try await attacker.signIn("ann@acme.test", password: OAuthWorld.password).status == .tooManyRequests)
            let neighbour = world.browser()
            neighbour.extraHeaders[.xForwardedFor] = "203.0.113.10"
            #expect(try await neighbour.signIn("ann@acme.test", password: OAuthWorld.password).status == .seeOther)
        }
        try await OAuthWorld.run(framework: .live) { world in
            let attacker = world.browser()
            for attempt in 0..<50 {
                attacker.extraHeaders[.xForwardedFor] = "203.0.113.\(attempt)"
                _ = try await attacker.signIn("user\(attempt)@acme.test", password: "wrong-password")
            }
            // Not behind a trusted proxy: every one of those came from 127.0.0.1, whatever the header said.
            #expect(
                try await attacker.signIn("ann@acme.test", password: OAuthWorld.password).status == .tooManyRequests)
        }
    }

    @Test func aDeactivatedAccountIsToldSoOnlyWithTheRightPassword() async throws {
        try await OAuthWorld.run { world in
            var ann = try await world.api.reload(world.ann)
            ann.isActive = false
            try await world.api.store.update(ann)
            let browser = world.browser()
            #expect(try await browser.signIn("ann@acme.test", password: "wrong-password").status == .unauthorized)
            let right = try await browser.signIn("ann@acme.test", password: OAuthWorld.password)
            #expect(right.status == .forbidden)
            #expect(right.text.contains("deactivated"))
        }
    }

    @Test func signingOutEndsTheSession() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let session = try #require(browser.cookies["gatehouse_session"])
            let account = try await browser.get("/account")
            let out = try await browser.post("/logout", [("csrf_token", try Browser.field("csrf_token", in: account))])
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "/login")
            #expect(browser.cookies["gatehouse_session"] == nil)
            // The old cookie, replayed, no longer signs anyone in.
            browser.setCookie("gatehouse_session", session)
            let again = try await browser.get("/account")
            #expect(again.headers[.location]?.hasPrefix("/login") == true)
        }
    }

    @Test func signingInAgainReplacesTheSession() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let first = try #require(browser.cookies["gatehouse_session"])
            _ = try await browser.signIn("ann@acme.test", password: OAuthWorld.password)
            let second = try #require(browser.cookies["gatehouse_session"])
            #expect(first != second)
            let replayed = world.browser()
            replayed.setCookie("gatehouse_session", first)
            #expect(try await replayed.get("/account").headers[.location]?.hasPrefix("/login") == true)
        }
    }

    @Test func aReturnAddressMustStayOnThisSite() async throws {
        try await OAuthWorld.run { world in
            for hostile in ["https://evil.example.com/", "//evil.example.com/", "/\\evil.example.com", "javascript:x"] {
                let browser = world.browser()
                let answer = try await browser.signIn("ann@acme.test", password: OAuthWorld.password, returnTo: hostile)
                #expect(answer.headers[.location] == "/account", "\(hostile)")
            }
        }
    }

    @Test func aSessionInUseStillEndsAfterTwelveHours() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            // Used every 20 minutes, so never idle for long: it lasts until the absolute end, and no longer.
            for _ in 1..<36 {
                world.api.clock.advance(by: 20 * 60)
                #expect(try await browser.get("/account").status == .ok)
            }
            world.api.clock.advance(by: 20 * 60)
            let answer = try await browser.get("/account")
            #expect(answer.headers[.location]?.hasPrefix("/login") == true)
        }
    }

    @Test func aSessionIdleForThirtyMinutesEnds() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            world.api.clock.advance(by: 29 * 60)
            #expect(try await browser.get("/account").status == .ok)
            // The use just now restarted the idle timeout.
            world.api.clock.advance(by: 29 * 60)
            #expect(try await browser.get("/account").status == .ok)
            world.api.clock.advance(by: 30 * 60)
            let answer = try await browser.get("/account")
            #expect(answer.headers[.location]?.hasPrefix("/login") == true)
        }
    }
}
