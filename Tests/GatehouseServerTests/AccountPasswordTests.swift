import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// Changing one's own password on `/account`: the current password first, the new one twice; every other
/// session ends, this browser's goes on, and the apps allowed keep their tokens.
@Suite("Changing one's password")
struct AccountPasswordTests {
    static let newPassword = "correct horse battery staple"

    static func change(
        _ browser: Browser, current: String = OAuthWorld.password, new: String = newPassword, again: String? = nil
    ) async throws -> APIResponse {
        let account = try await browser.get("/account")
        return try await browser.post(
            "/account/password",
            [
                ("csrf_token", try Browser.field("csrf_token", in: account)), ("current_password", current),
                ("new_password", new), ("new_password_again", again ?? new),
            ])
    }

    @Test func theNewPasswordWorksTheOldOneNotAndOtherBrowsersAreSignedOut() async throws {
        try await OAuthWorld.run { world in
            let tokens = try await world.tokens()
            let here = try await world.signedIn()
            let elsewhere = try await world.signedIn()
            let account = try await here.get("/account")
            #expect(account.text.contains(#"action="/account/password""#))
            let changed = try await Self.change(here)
            #expect(changed.status == .seeOther)
            #expect(changed.headers[.location] == "/account?done=password_changed")
            #expect(try await here.get("/account?done=password_changed").text.contains("Your password is changed."))
            #expect(try await elsewhere.get("/account").status == .found, "the other browser is signed out")
            let old = try await world.browser().signIn("ann@acme.test", password: OAuthWorld.password)
            #expect(old.status == .unauthorized)
            let new = try await world.browser().signIn("ann@acme.test", password: Self.newPassword)
            #expect(new.status == .seeOther)
            // An app's tokens are not the sessions: they go on.
            #expect(try await world.isActive(try #require(tokens.string("access_token"))))
            let (_, admin) = try await world.api.key(for: world.owner)
            let events = try await world.api.call(
                .get, "/api/v1/audit-events?action=user.password_changed", key: admin)
            #expect((events.json["audit_events"] as? [[String: Any]])?.count == 1)
            #expect(!events.text.contains(Self.newPassword))
        }
    }

    @Test func aWrongCurrentPasswordAMismatchOrAWeakNewOneChangesNothing() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let cases: [(APIResponse, String)] = [
                (
                    try await Self.change(browser, current: "not my password at all"),
                    "The current password is not right."
                ),
                (try await Self.change(browser, again: "correct horse battery stapler"), "not the same"),
                (try await Self.change(browser, new: "too short"), "at least 12 characters"),
            ]
            for (answer, message) in cases {
                #expect(answer.status == .badRequest, "\(message)")
                #expect(answer.text.contains(message), "\(message)")
                #expect(!answer.text.contains(Self.newPassword) && !answer.text.contains(OAuthWorld.password))
            }
            #expect(try await browser.get("/account").status == .ok, "still signed in")
            let again = try await world.browser().signIn("ann@acme.test", password: OAuthWorld.password)
            #expect(again.status == .seeOther, "the password did not change")
        }
    }

    @Test func wrongCurrentPasswordsAreThrottledLikeSignIns() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            var last: APIResponse?
            for _ in 0..<11 { last = try await Self.change(browser, current: "a wrong guess here") }
            #expect(last?.status == .tooManyRequests)
            #expect(last?.headers[.retryAfter] != nil)
            // Even the right password waits out the window now.
            #expect(try await Self.change(browser).status == .tooManyRequests)
            world.api.clock.advance(by: 15 * 60)
            // The session's idle timeout is 30 minutes, so it is still there.
            #expect(try await Self.change(browser).status == .seeOther)
        }
    }

    @Test func theFormNeedsItsCSRFToken() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let forged = try await browser.post(
                "/account/password",
                [
                    ("csrf_token", "forged"), ("current_password", OAuthWorld.password),
                    ("new_password", Self.newPassword), ("new_password_again", Self.newPassword),
                ])
            #expect(forged.status == .forbidden)
            let again = try await world.browser().signIn("ann@acme.test", password: OAuthWorld.password)
            #expect(again.status == .seeOther)
        }
    }

    @Test func aPasswordHashedWithLessWorkThanTheSettingIsHashedAgainAtSignIn() async throws {
        // Ann's hash was made at cost 4; the server now hashes at 5.
        try await OAuthWorld.run(passwords: BcryptPasswordHasher(cost: 5)) { world in
            #expect(
                try await world.api.store.user(id: world.ann.id)?.passwordHash?.encoded.hasPrefix(
                    "$sha256-bcrypt$2b$04$") == true)
            _ = try await world.signedIn()
            let rehashed = try #require(try await world.api.store.user(id: world.ann.id)?.passwordHash)
            #expect(rehashed.encoded.hasPrefix("$sha256-bcrypt$2b$05$"))
            #expect(await BcryptPasswordHasher(cost: 5).verify(OAuthWorld.password, against: rehashed))
            _ = try await world.signedIn()
            #expect(try await world.api.store.user(id: world.ann.id)?.passwordHash == rehashed, "once is enough")
            let (_, admin) = try await world.api.key(for: world.owner)
            let events = try await world.api.call(
                .get, "/api/v1/audit-events?action=user.password_rehashed", key: admin)
            #expect((events.json["audit_events"] as? [[String: Any]])?.count == 1)
        }
    }
}
