import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// `/account` lists the browsers a person is signed in on, and signs any of them out, or all but this one.
@Suite("Sessions on one's account")
struct AccountSessionsTests {
    /// Ann signed in on a browser that says it is `userAgent`.
    static func browser(_ world: OAuthWorld, _ userAgent: String) async throws -> Browser {
        let browser = world.browser()
        browser.extraHeaders[.userAgent] = userAgent
        #expect(try await browser.signIn("ann@acme.test", password: OAuthWorld.password).status == .seeOther)
        return browser
    }

    /// The handles in the page's per-session sign-out forms.
    static func handles(in page: APIResponse) throws -> [String] {
        let pattern = try NSRegularExpression(pattern: #"action="/account/sessions/([0-9a-f]{32})/end""#)
        let text = page.text
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    @Test func eachBrowserIsListedAndCanBeSignedOut() async throws {
        try await OAuthWorld.run { world in
            let laptop = try await Self.browser(world, "Firefox on the laptop")
            world.api.clock.advance(by: 60)
            let phone = try await Self.browser(world, "Safari on the phone")
            // A minute on, the laptop opens the page: its session is the one used last.
            world.api.clock.advance(by: 60)
            let page = try await laptop.get("/account")
            #expect(page.text.contains("Where you are signed in"))
            #expect(page.text.contains("Firefox on the laptop") && page.text.contains("Safari on the phone"))
            #expect(page.text.contains("this browser"))
            // Only the other browser has a sign-out button; the cookie digest itself is never on the page.
            let handles = try Self.handles(in: page)
            #expect(handles.count == 1)
            let sessions = try await world.api.store.sessions(of: world.ann.id)
            // The laptop was used last, to open this page.
            #expect(sessions.map(\.userAgent) == ["Firefox on the laptop", "Safari on the phone"])
            #expect(sessions.allSatisfy { !page.text.contains($0.digest.hex) })
            let ended = try await laptop.post(
                "/account/sessions/\(try #require(handles.first))/end",
                [("csrf_token", try Browser.field("csrf_token", in: page))])
            #expect(ended.headers[.location] == "/account?done=session_ended")
            #expect(try await phone.get("/account").status == .found, "the phone is signed out")
            #expect(try await laptop.get("/account").status == .ok, "the laptop is not")
            // A handle that is no session of hers.
            let missing = try await laptop.post(
                "/account/sessions/\(String(repeating: "0", count: 32))/end",
                [("csrf_token", try Browser.field("csrf_token", in: page))])
            #expect(missing.status == .notFound)
        }
    }

    @Test func signingOutEverywhereElseKeepsOnlyThisBrowser() async throws {
        try await OAuthWorld.run { world in
            let here = try await Self.browser(world, "Here")
            let others = [try await Self.browser(world, "There"), try await Self.browser(world, "Elsewhere")]
            let page = try await here.get("/account")
            #expect(page.text.contains("Sign out everywhere else"))
            let answer = try await here.post(
                "/account/sessions/end-others", [("csrf_token", try Browser.field("csrf_token", in: page))])
            #expect(answer.headers[.location] == "/account?done=other_sessions_ended")
            for other in others { #expect(try await other.get("/account").status == .found) }
            let after = try await here.get("/account")
            #expect(after.status == .ok && !after.text.contains("Sign out everywhere else"))
            let (_, admin) = try await world.api.key(for: world.owner)
            let events = try await world.api.call(
                .get, "/api/v1/audit-events?action=user.other_sessions_ended", key: admin)
            #expect((events.json["audit_events"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test func anotherPersonsSessionCannotBeEndedFromHere() async throws {
        try await OAuthWorld.run { world in
            var bea = try Fixture.user("bea@acme.test", in: world.workspace)
            bea.privacyNoticeAcceptedAt = Fixture.epoch
            bea.passwordHash = await Fixture.fastPasswords.hash(try Password(OAuthWorld.password))
            try await world.api.store.insert(bea)
            let beas = try await world.signedIn("bea@acme.test")
            let handle = try #require(try await world.api.store.sessions(of: bea.id).first?.handle)
            let ann = try await world.signedIn()
            let page = try await ann.get("/account")
            let answer = try await ann.post(
                "/account/sessions/\(handle)/end", [("csrf_token", try Browser.field("csrf_token", in: page))])
            #expect(answer.status == .notFound)
            #expect(try await beas.get("/account").status == .ok)
            // And the forms need their CSRF token.
            let forged = try await ann.post("/account/sessions/end-others", [("csrf_token", "forged")])
            #expect(forged.status == .forbidden)
            #expect(try await beas.get("/account").status == .ok)
        }
    }

    @Test func expiredSessionsAreNotListed() async throws {
        try await OAuthWorld.run { world in
            _ = try await Self.browser(world, "Left open at the office")
            world.api.clock.advance(by: 31 * 60)
            let home = try await Self.browser(world, "At home")
            let page = try await home.get("/account")
            #expect(page.text.contains("At home") && !page.text.contains("Left open at the office"))
        }
    }
}

@Suite("New sign-in notices")
struct SignInNoticeTests {
    @Test func aSignInFromABrowserNewToThePersonIsMailedToThemButNotTheirFirst() async throws {
        let mailbox = Mailbox()
        try await OAuthWorld.run(mailbox: mailbox) { world in
            let laptop = world.browser()
            _ = try await laptop.signIn("ann@acme.test", password: OAuthWorld.password)
            _ = try await laptop.signIn("ann@acme.test", password: OAuthWorld.password)
            let phone = world.browser()
            phone.extraHeaders[.userAgent] = "Mozilla/5.0 (iPhone) Phone Browser"
            #expect(try await phone.signIn("ann@acme.test", password: OAuthWorld.password).status == .seeOther)
            let notice = try await mailbox.next()
            #expect(notice.kind == "new_sign_in")
            #expect(notice.message.to == "ann@acme.test")
            #expect(notice.message.text.contains("Phone Browser"))
            #expect(notice.message.text.contains("/account"))
            _ = try await phone.signIn("ann@acme.test", password: OAuthWorld.password)
            _ = try await laptop.signIn("ann@acme.test", password: OAuthWorld.password)
            #expect(mailbox.all.count == 1, "the first browser, and each browser again, are not told of")
        }
    }
}
