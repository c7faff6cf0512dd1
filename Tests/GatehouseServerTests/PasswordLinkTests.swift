import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// Invitations, admin reset links and forgotten passwords: one-time links (256 bits, stored as digests) to choose
/// a password, through the API, the admin pages, the mail handed to the outbox and the link's own page.
@Suite("Password links")
struct PasswordLinkTests {
    static let chosen = "a lighthouse keeper's evening"

    /// Opens `url`'s page in `browser` and chooses `password` there.
    static func use(_ url: String, in browser: Browser, password: String = chosen, again: String? = nil)
        async throws -> APIResponse
    {
        let path = try #require(URL(string: url)).path
        let token = try #require(queryItems(url)["token"])
        let page = try await browser.get(path, [("token", token)])
        #expect(page.status == .ok, "\(page.text.prefix(300))")
        #expect(page.headers[.cacheControl] == "no-store")
        return try await browser.post(
            "/password",
            try Browser.hiddenFields(of: page) + [
                ("new_password", password), ("new_password_again", again ?? password),
            ])
    }

    static func invite(_ world: OAuthWorld, _ email: String, key: String) async throws -> APIResponse {
        try await world.api.call(.post, "/api/v1/users", key: key, json: #"{"email":"\#(email)","name":"Bea Lund"}"#)
    }

    @Test func anInvitedUserChoosesAPasswordWithTheEmailedLinkOnceAndSignsIn() async throws {
        let mailbox = Mailbox()
        try await OAuthWorld.run(mailbox: mailbox) { world in
            let (_, admin) = try await world.api.key(for: world.owner)
            let added = try await Self.invite(world, "bea@acme.test", key: admin)
            #expect(added.status == .created)
            #expect(added.headers[.cacheControl] == "no-store", "the invitation is shown this once")
            let invitation = try #require(added.json["invitation"] as? [String: Any])
            let url = try #require(invitation["url"] as? String)
            #expect(url.hasPrefix(OAuthWorld.issuer + "/password?token="))
            #expect(invitation["emailed"] as? Bool == true)
            #expect(try #require(queryItems(url)["token"]).count == 43, "256 bits")

            let mail = try await mailbox.next()
            #expect(mail.message.to == "bea@acme.test")
            #expect(mail.kind == "invitation")
            #expect(mail.message.text.contains(url))
            let html = mail.message.html.replacingOccurrences(of: "&#x2F;", with: "/")
                .replacingOccurrences(of: "&#x3D;", with: "=")
            #expect(html.contains(url))

            let browser = world.browser()
            let done = try await Self.use(url, in: browser)
            #expect(done.status == .ok)
            #expect(done.text.contains("Your password is set"))
            #expect(try await world.browser().signIn("bea@acme.test", password: Self.chosen).status == .seeOther)
            // Used once: the link is gone.
            let again = try await browser.get("/password", [("token", try #require(queryItems(url)["token"]))])
            #expect(again.status == .notFound)
            #expect(again.text.contains("This link cannot be used"))

            let events = try await world.api.call(.get, "/api/v1/audit-events", key: admin)
            let actions = events.items("audit_events").compactMap { $0["action"] as? String }
            #expect(actions.contains("user.created"))
            #expect(actions.contains("user.invitation_accepted"))
            #expect(!events.text.contains(try #require(queryItems(url)["token"])), "no link in the audit trail")
        }
    }

    @Test func anInvitationExpiresAfterSevenDaysAndANewOneReplacesTheOld() async throws {
        try await OAuthWorld.run { world in
            let (_, admin) = try await world.api.key(for: world.owner)
            let added = try await Self.invite(world, "bea@acme.test", key: admin)
            let first = try #require((added.json["invitation"] as? [String: Any])?["url"] as? String)
            #expect((added.json["invitation"] as? [String: Any])?["emailed"] as? Bool == false, "no mail configured")
            let bea = try #require(added.string("id"))

            world.api.clock.advance(by: 7 * 86_400 + 1)
            let expired = try await world.browser().get(
                "/password", [("token", try #require(queryItems(first)["token"]))])
            #expect(expired.status == .gone)
            #expect(expired.text.contains("This link has expired"))

            let renewed = try await world.api.call(.post, "/api/v1/users/\(bea)/invitation", key: admin)
            #expect(renewed.status == .created)
            #expect(renewed.headers[.cacheControl] == "no-store")
            let second = try #require(renewed.string("url"))
            #expect(second != first)
            // The old link is not revived by the new one: it is gone.
            world.api.clock.advance(by: -10)
            let old = try await world.browser().get("/password", [("token", try #require(queryItems(first)["token"]))])
            #expect(old.status == .notFound)

            let cancelled = try await world.api.call(.delete, "/api/v1/users/\(bea)/invitation", key: admin)
            #expect(cancelled.status == .noContent)
            let gone = try await world.browser().get(
                "/password", [("token", try #require(queryItems(second)["token"]))])
            #expect(gone.status == .notFound)

            // Someone with a password is not invited: they get a reset link.
            let ann = try await world.api.call(.post, "/api/v1/users/\(world.ann.id)/invitation", key: admin)
            #expect(ann.status == .conflict)
        }
    }

    @Test func anAdminAddsAUserOnThePageAndSeesTheInvitationOnceAndItsStateInTheList() async throws {
        try await OAuthWorld.run { world in
            var owner = world.owner
            owner.passwordHash = await Fixture.fastPasswords.hash(try Password(OAuthWorld.password))
            try await world.api.store.update(owner)
            let admin = try await world.signedIn(owner.email.value)
            let form = try await admin.get("/admin/users/new")
            let shown = try await admin.post(
                "/admin/users",
                [
                    ("csrf_token", try Browser.field("csrf_token", in: form)), ("email", "cy@acme.test"),
                    ("name", "Cy Oduya"), ("role", "user"), ("password", ""),
                ])
            #expect(shown.status == .ok)
            #expect(shown.headers[.cacheControl] == "no-store")
            #expect(shown.text.contains("Invitation for Cy Oduya"))
            #expect(shown.text.contains("Gatehouse sends no email here"))
            let list = try await admin.get("/admin/users")
            #expect(list.text.contains("invited"))
            let cy = try #require(try await world.api.store.user(email: EmailAddress("cy@acme.test")))
            let page = try await admin.get("/admin/users/\(cy.id)")
            #expect(page.text.contains("The invitation works until"))
            #expect(page.text.contains("Send a new invitation"))
            #expect(!page.text.contains("/password?token="), "the link is never shown again")

            world.api.clock.advance(by: 8 * 86_400)
            let later = try await world.signedIn(owner.email.value)
            #expect(try await later.get("/admin/users").text.contains("invitation expired"))
        }
    }

    @Test func anAdminsResetLinkSetsANewPasswordAndEndsEverySession() async throws {
        let mailbox = Mailbox()
        try await OAuthWorld.run(mailbox: mailbox) { world in
            let signedIn = try await world.signedIn()
            let (_, admin) = try await world.api.key(for: world.owner)
            let link = try await world.api.call(.post, "/api/v1/users/\(world.ann.id)/password-reset", key: admin)
            #expect(link.status == .created)
            #expect(link.headers[.cacheControl] == "no-store")
            let url = try #require(link.string("url"))
            #expect(try await mailbox.next().kind == "password_reset")
            // Making the link changes nothing yet.
            #expect(try await signedIn.get("/account").status == .ok)

            let mismatch = try await Self.use(url, in: world.browser(), again: "something else entirely")
            #expect(mismatch.status == .badRequest)
            #expect(mismatch.text.contains("not the same"))
            let weak = try await Self.use(url, in: world.browser(), password: "password1234")
            #expect(weak.status == .badRequest)
            #expect(weak.text.contains("most common"))
            let named = try await Self.use(url, in: world.browser(), password: "ann@acme.test forever")
            #expect(named.status == .badRequest)

            #expect(try await Self.use(url, in: world.browser()).status == .ok)
            #expect(try await signedIn.get("/account").status == .found, "every session ended")
            #expect(
                try await world.browser().signIn("ann@acme.test", password: OAuthWorld.password).status == .unauthorized
            )
            #expect(try await world.browser().signIn("ann@acme.test", password: Self.chosen).status == .seeOther)
        }
    }

    @Test func aResetLinkLastsThirtyMinutes() async throws {
        try await OAuthWorld.run { world in
            let (_, admin) = try await world.api.key(for: world.owner)
            let url = try #require(
                try await world.api.call(.post, "/api/v1/users/\(world.ann.id)/password-reset", key: admin).string(
                    "url"))
            world.api.clock.advance(by: 30 * 60 + 1)
            let expired = try await world.browser().get(
                "/password", [("token", try #require(queryItems(url)["token"]))])
            #expect(expired.status == .gone)
        }
    }

    @Test func aLinkUsedTwiceAtOnceSetsOnePassword() async throws {
        try await OAuthWorld.run { world in
            let (_, admin) = try await world.api.key(for: world.owner)
            let url = try #require(
                try await world.api.call(.post, "/api/v1/users/\(world.ann.id)/password-reset", key: admin).string(
                    "url"))
            let browsers = [world.browser(), world.browser()]
            var forms: [[(String, String)]] = []
            for browser in browsers {
                let page = try await browser.get("/password", [("token", try #require(queryItems(url)["token"]))])
                forms.append(try Browser.hiddenFields(of: page))
            }
            let answers = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for (index, browser) in browsers.enumerated() {
                    let fields =
                        forms[index] + [
                            ("new_password", "first choice of words \(index)"),
                            ("new_password_again", "first choice of words \(index)"),
                        ]
                    group.addTask { try await browser.post("/password", fields).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.filter { $0 == .ok }.count == 1, "\(answers)")
            #expect(answers.filter { $0 == .notFound }.count == 1, "\(answers)")
        }
    }

    @Test func forgottenPasswordAnswersTheSameForEveryAddressAndMailsOnlyRealAccounts() async throws {
        let mailbox = Mailbox()
        try await OAuthWorld.run(mailbox: mailbox) { world in
            let browser = world.browser()
            let login = try await browser.get("/login")
            #expect(login.text.contains(#"href="/login/forgot""#))
            let form = try await browser.get("/login/forgot")
            let csrf = try Browser.field("csrf_token", in: form)
            let unknown = try await browser.post(
                "/login/forgot", [("csrf_token", csrf), ("email", "nobody@acme.test")])
            let known = try await browser.post("/login/forgot", [("csrf_token", csrf), ("email", "ann@acme.test")])
            #expect(unknown.status == known.status)
            #expect(
                unknown.text.replacingOccurrences(of: "nobody@acme.test", with: "X")
                    == known.text.replacingOccurrences(of: "ann@acme.test", with: "X"))
            let mail = try await mailbox.next()
            #expect(mail.message.to == "ann@acme.test")
            #expect(mail.kind == "password_reset")
            let url = try #require(
                mail.message.text.split(separator: "\n").first { $0.contains("/password?token=") }.map(String.init))
            #expect(try await Self.use(url, in: world.browser()).status == .ok)

            // Per account, at most three in a quarter of an hour: the fourth is answered alike, and not sent.
            for _ in 0..<3 {
                _ = try await browser.post("/login/forgot", [("csrf_token", csrf), ("email", "ann@acme.test")])
            }
            for _ in 0..<2 { _ = try await mailbox.next() }
            let forged = try await browser.post(
                "/login/forgot", [("csrf_token", "forged"), ("email", "ann@acme.test")])
            #expect(forged.status == .forbidden)
            #expect(mailbox.all.allSatisfy { $0.message.to == "ann@acme.test" }, "nothing for the unknown address")
            #expect(mailbox.all.count == 3, "the fourth request of the quarter hour sent nothing")
        }
    }

    @Test func withoutMailTheForgottenPasswordPageSaysToAskAnAdmin() async throws {
        try await OAuthWorld.run { world in
            let page = try await world.browser().get("/login/forgot")
            #expect(page.status == .ok)
            #expect(page.text.contains("does not send email"))
            #expect(!page.text.contains(#"action="/login/forgot""#))
        }
    }

    @Test func onlyThoseWhoMayChangeAnAccountMakeItsLinks() async throws {
        try await OAuthWorld.run { world in
            let hr = try await world.api.user("hr@acme.test", role: .hrAdmin, in: world.workspace)
            let (_, hrKey) = try await world.api.key(for: hr)
            let (_, annKey) = try await world.api.key(for: world.ann)
            let boss = try await world.api.call(.post, "/api/v1/users/\(world.owner.id)/password-reset", key: hrKey)
            #expect(boss.status == .forbidden, "an hr_admin cannot take over a super admin's account")
            let peer = try await world.api.call(.post, "/api/v1/users/\(world.owner.id)/password-reset", key: annKey)
            #expect(peer.status == .forbidden)
            let plain = try await world.api.call(.post, "/api/v1/users/\(world.ann.id)/password-reset", key: hrKey)
            #expect(plain.status == .created)
        }
    }
}
