import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// RP-Initiated Logout 1.0 at `/oauth/logout`: who is signed out at once, who is asked, and where the browser
/// may be sent afterwards.
@Suite("RP-Initiated Logout")
struct LogoutTests {
    static let signedOut = "https://app.example.com/signed-out"

    /// `acme-spa` registers `signedOut` as its post-logout redirect URI, through the admin API.
    static func registerPostLogoutRedirect(_ world: OAuthWorld) async throws {
        let (_, admin) = try await world.api.key(for: world.owner)
        let changed = try await world.api.call(
            .patch, "/api/v1/clients/acme-spa", key: admin, json: #"{"post_logout_redirect_uris":["\#(signedOut)"]}"#)
        #expect(changed.status == .ok)
        #expect(changed.json["post_logout_redirect_uris"] as? [String] == [signedOut])
    }

    @Test func discoveryNamesTheEndSessionEndpoint() async throws {
        try await OAuthWorld.run { world in
            let metadata = try await world.api.call(.get, "/.well-known/openid-configuration", key: nil)
            #expect(metadata.string("end_session_endpoint") == OAuthWorld.issuer + "/oauth/logout")
        }
    }

    @Test func anIDTokenHintForTheSignedInUserSignsOutAtOnceAndGoesBackWithState() async throws {
        try await OAuthWorld.run { world in
            try await Self.registerPostLogoutRedirect(world)
            let (browser, idToken) = try await world.signedInWithIDToken()
            let answer = try await browser.get(
                "/oauth/logout",
                [("id_token_hint", idToken), ("post_logout_redirect_uri", Self.signedOut), ("state", "bye & co")])
            #expect(answer.status == .found)
            #expect(answer.headers[.location] == Self.signedOut + "?state=bye%20%26%20co")
            // The session is over: the account page sends the browser to sign in.
            let account = try await browser.get("/account")
            #expect(account.status == .found)
            #expect(account.headers[.location]?.hasPrefix("/login") == true)
        }
    }

    @Test func anExpiredHintStillNamesTheUserAndTheClient() async throws {
        try await OAuthWorld.run { world in
            try await Self.registerPostLogoutRedirect(world)
            let (browser, idToken) = try await world.signedInWithIDToken()
            // Past the ID token's 15 minutes, within the browser session's idle timeout.
            world.api.clock.advance(by: 16 * 60)
            _ = try await browser.get("/account")
            let answer = try await browser.get(
                "/oauth/logout", [("id_token_hint", idToken), ("post_logout_redirect_uri", Self.signedOut)])
            #expect(answer.headers[.location] == Self.signedOut)
        }
    }

    @Test func withoutAHintTheUserIsAskedFirst() async throws {
        try await OAuthWorld.run { world in
            try await Self.registerPostLogoutRedirect(world)
            let browser = try await world.signedIn()
            let ask = try await browser.get(
                "/oauth/logout",
                [("client_id", "acme-spa"), ("post_logout_redirect_uri", Self.signedOut), ("state", "s1")])
            #expect(ask.status == .ok)
            #expect(ask.headers[.cacheControl] == "no-store")
            #expect(ask.text.contains("Sign out of Gatehouse?") && ask.text.contains("ann@acme.test"))
            // Still signed in until they answer.
            #expect(try await browser.get("/account").status == .ok)
            // Staying signed in goes back to the app, and keeps the session.
            let stay = try await browser.post(
                "/oauth/logout", try Browser.hiddenFields(of: ask) + [("decision", "stay")])
            #expect(stay.status == .seeOther)
            #expect(try await browser.get("/account").status == .ok)
            let out = try await browser.post(
                "/oauth/logout", try Browser.hiddenFields(of: ask) + [("decision", "sign_out")])
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == Self.signedOut + "?state=s1")
            #expect(try await browser.get("/account").status == .found)
        }
    }

    @Test func theConfirmationNeedsItsCSRFToken() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let forged = try await browser.post("/oauth/logout", [("decision", "sign_out"), ("csrf_token", "nope")])
            #expect(forged.status == .forbidden)
            #expect(try await browser.get("/account").status == .ok)
        }
    }

    @Test func aHintForSomeoneElseIsAskedAbout() async throws {
        try await OAuthWorld.run { world in
            // Ann's ID token, presented in a browser where Bea is signed in.
            let idToken = try #require(try await world.tokens().string("id_token"))
            var bea = try Fixture.user("bea@acme.test", in: world.workspace)
            bea.privacyNoticeAcceptedAt = Fixture.epoch
            bea.passwordHash = await Fixture.fastPasswords.hash(try Password(OAuthWorld.password))
            try await world.api.store.insert(bea)
            let browser = try await world.signedIn("bea@acme.test")
            let ask = try await browser.get("/oauth/logout", [("id_token_hint", idToken)])
            #expect(ask.status == .ok)
            #expect(ask.text.contains("Sign out of Gatehouse?"))
            #expect(try await browser.get("/account").status == .ok)
        }
    }

    @Test func withNoRedirectTheBrowserIsToldItIsSignedOut() async throws {
        try await OAuthWorld.run { world in
            let (browser, idToken) = try await world.signedInWithIDToken()
            let answer = try await browser.get("/oauth/logout", [("id_token_hint", idToken)])
            #expect(answer.status == .ok)
            #expect(answer.text.contains("You are signed out"))
            #expect(answer.headers[.setCookie]?.contains("Max-Age=0") == true)
            // Nobody signed in: nothing to ask, the same page.
            let again = try await world.browser().get("/oauth/logout")
            #expect(again.status == .ok && again.text.contains("You are signed out"))
        }
    }

    @Test func aRedirectThatIsNotRegisteredExactlyIsNeverFollowed() async throws {
        try await OAuthWorld.run { world in
            try await Self.registerPostLogoutRedirect(world)
            let (browser, idToken) = try await world.signedInWithIDToken()
            for uri in [
                Self.signedOut + "/", Self.signedOut + "?x=1", "https://evil.example.com/", OAuthWorld.redirect,
            ] {
                let answer = try await browser.get(
                    "/oauth/logout", [("id_token_hint", idToken), ("post_logout_redirect_uri", uri)])
                #expect(answer.status == .badRequest, "\(uri)")
                #expect(answer.headers[.location] == nil)
                #expect(answer.text.contains("not one that"))
            }
            // A redirect with no client to check it against.
            let anonymous = try await browser.get("/oauth/logout", [("post_logout_redirect_uri", Self.signedOut)])
            #expect(anonymous.status == .badRequest && anonymous.headers[.location] == nil)
            // None of that signed anyone out.
            #expect(try await browser.get("/account").status == .ok)
        }
    }

    @Test func aHintThatGatehouseDidNotIssueIsRefused() async throws {
        try await OAuthWorld.run { world in
            try await Self.registerPostLogoutRedirect(world)
            let tokens = try await world.tokens()
            let idToken = try #require(tokens.string("id_token"))
            let parts = idToken.split(separator: ".").map(String.init)
            let tampered = [parts[0], parts[1], String(parts[2].reversed())].joined(separator: ".")
            // Another token type, a tampered signature, garbage, and a client_id that is not the hint's.
            let cases: [[(String, String)]] = [
                [("id_token_hint", try #require(tokens.string("access_token")))],
                [("id_token_hint", tampered)],
                [("id_token_hint", "eyJ.nope.x")],
                [("id_token_hint", idToken), ("client_id", "acme-web")],
                [("client_id", "no-such-client")],
            ]
            let browser = try await world.signedIn()
            for query in cases {
                let answer = try await browser.get(
                    "/oauth/logout", query + [("post_logout_redirect_uri", Self.signedOut)])
                #expect(answer.status == .badRequest, "\(query.map(\.0))")
                #expect(answer.headers[.location] == nil)
            }
            #expect(try await browser.get("/account").status == .ok)
        }
    }

    @Test func anAppMayPostTheRequest() async throws {
        try await OAuthWorld.run { world in
            try await Self.registerPostLogoutRedirect(world)
            let (browser, idToken) = try await world.signedInWithIDToken()
            let answer = try await browser.post(
                "/oauth/logout", [("id_token_hint", idToken), ("post_logout_redirect_uri", Self.signedOut)])
            #expect(answer.status == .seeOther)
            #expect(answer.headers[.location] == Self.signedOut)
            #expect(try await browser.get("/account").status == .found)
        }
    }
}
