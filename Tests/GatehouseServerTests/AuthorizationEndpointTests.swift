import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// `/oauth/authorize` (RFC 6749 §4.1, RFC 7636, RFC 9207, RFC 9700): what is shown, what is redirected.
@Suite("Authorization endpoint")
struct AuthorizationEndpointTests {
    @Test func anUnknownClientIsShownAnErrorPageAndNeverRedirected() async throws {
        try await OAuthWorld.run { world in
            let answer = try await world.browser().get(
                "/oauth/authorize", OAuthWorld.authorizeQuery(client: "nobody-here"))
            #expect(answer.status == .badRequest)
            #expect(answer.headers[.location] == nil)
            #expect(answer.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(answer.text.contains("no enabled client application"))
        }
    }

    @Test func aTamperedRedirectURIIsShownNeverRedirectedTo() async throws {
        try await OAuthWorld.run { world in
            for tampered in [
                "https://evil.example.com/callback", "https://app.example.com/callback/../x",
                "https://app.example.com/callback?x=1", "https://app.example.com/Callback",
                "https://app.example.com:444/callback", "http://app.example.com/callback",
            ] {
                var query = OAuthWorld.authorizeQuery()
                query[2] = ("redirect_uri", tampered)
                let answer = try await world.signedIn().get("/oauth/authorize", query)
                #expect(answer.status == .badRequest, "\(tampered)")
                #expect(answer.headers[.location] == nil, "\(tampered)")
                #expect(answer.text.contains("not registered"), "\(tampered)")
            }
        }
    }

    @Test func anOpenIDRequestWithoutRedirectURIIsShownAnErrorPage() async throws {
        try await OAuthWorld.run { world in
            // acme-web has exactly one redirect URI, which plain OAuth may leave out (RFC 6749 §3.1.2.3)…
            var query = OAuthWorld.authorizeQuery(client: "acme-web", scope: "profile")
            query.remove(at: 2)
            let browser = try await world.signedIn()
            let plain = try await browser.get("/oauth/authorize", query)
            #expect(plain.status == .ok, "the consent page: \(plain.text.prefix(300))")
            // …but OpenID Connect makes it required (Core §3.1.2.1): an error page, never a redirect.
            var openID = OAuthWorld.authorizeQuery(client: "acme-web", scope: "openid profile")
            openID.remove(at: 2)
            let answer = try await browser.get("/oauth/authorize", openID)
            #expect(answer.status == .badRequest)
            #expect(answer.headers[.location] == nil)
            #expect(answer.text.contains("must send its redirect_uri"))
        }
    }

    @Test func aLoginHintFillsTheSignInForm() async throws {
        try await OAuthWorld.run { world in
            let browser = world.browser()
            let hinted = try await browser.get(
                "/oauth/authorize", OAuthWorld.authorizeQuery(extra: [("login_hint", "ann@acme.test")]))
            let location = try #require(hinted.headers[.location])
            #expect(location.hasPrefix("/login?"))
            let page = try await browser.get(location)
            #expect(page.status == .ok)
            #expect(page.text.contains(#"value="ann@acme.test""#))
            // A hint that is no email address fills nothing, and is never echoed.
            let odd = try await browser.get(
                "/oauth/authorize", OAuthWorld.authorizeQuery(extra: [("login_hint", "\"><b>x</b>")]))
            let oddPage = try await browser.get(try #require(odd.headers[.location]))
            #expect(
                oddPage.text.contains(#"name="email" type="email" autocomplete="username" required autofocus value="""#)
            )
            #expect(!oddPage.text.contains("<b>x</b>"))
        }
    }

    @Test func aLoopbackRedirectMayUseAnyPort() async throws {
        try await OAuthWorld.run { world in
            var query = OAuthWorld.authorizeQuery()
            query[2] = ("redirect_uri", "http://127.0.0.1:53682/cb")
            let browser = try await world.signedIn()
            let answer = try await browser.get("/oauth/authorize", query)
            #expect(answer.status == .ok)
            let allowed = try await browser.decide("allow", on: answer)
            #expect(allowed.headers[.location]?.hasPrefix("http://127.0.0.1:53682/cb?code=") == true)
        }
    }

    @Test func errorsAfterTheRedirectURIIsVerifiedGoBackWithStateAndIssuer() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let cases: [([(String, String)], String, String)] = [
                (OAuthWorld.authorizeQuery().filter { $0.0 != "response_type" }, "invalid_request", "response_type"),
                (
                    OAuthWorld.authorizeQuery().map { $0.0 == "response_type" ? ($0.0, "token") : $0 },
                    "unsupported_response_type", "code"
                ),
                (OAuthWorld.authorizeQuery(scope: "openid no-such-scope"), "invalid_scope", "no-such-scope"),
                (OAuthWorld.authorizeQuery(scope: "Bad\"Scope"), "invalid_scope", "not a valid scope"),
                (OAuthWorld.authorizeQuery(verifier: nil), "invalid_request", "PKCE is required"),
                (
                    OAuthWorld.authorizeQuery(
                        verifier: nil,
                        extra: [
                            ("code_challenge", OAuthWorld.verifier), ("code_challenge_method", "plain"),
                        ]), "invalid_request", "plain is not supported"
                ),
                (
                    OAuthWorld.authorizeQuery(extra: [("request", "eyJhbGciOiJub25lIn0.e30.")]),
                    "request_not_supported", "Request objects"
                ),
                (OAuthWorld.authorizeQuery(extra: [("prompt", "none login")]), "invalid_request", "prompt=none"),
            ]
            for (query, error, words) in cases {
                let answer = try await browser.get("/oauth/authorize", query)
                #expect(answer.status == .found, "\(error)")
                let parameters = answer.redirectParameters
                #expect(answer.headers[.location]?.hasPrefix(OAuthWorld.redirect + "?") == true)
                #expect(parameters["error"] == error)
                #expect(parameters["error_description"]?.contains(words) == true, "\(parameters)")
                #expect(parameters["state"] == "xyz")
                #expect(parameters["iss"] == OAuthWorld.issuer)
            }
        }
    }

    @Test func aConfidentialClientMayDoWithoutPKCEOnlyWhenSetToAllowIt() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let query = OAuthWorld.authorizeQuery(client: "acme-web", verifier: nil)
            let refused = try await browser.get("/oauth/authorize", query)
            #expect(refused.redirectParameters["error"] == "invalid_request")
            var web = try #require(try await world.api.store.client(id: try ClientID("acme-web")))
            web.requirePKCE = false
            try await world.api.store.apply(
                .updateClient(web),
                recording: AuditEvent(
                    workspaceID: web.workspaceID, actor: .commandLine, action: "client.updated",
                    targetKind: "client", targetID: "acme-web", address: nil, occurredAt: Fixture.epoch))
            let code = try await world.code(query, browser: browser)
            let tokens = try await world.exchange(code, client: "acme-web", verifier: nil)
            #expect(tokens.status == .ok)
        }
    }

    @Test func withoutASessionTheBrowserIsSentToSignInAndBack() async throws {
        try await OAuthWorld.run { world in
            let browser = world.browser()
            let query = OAuthWorld.authorizeQuery()
            let first = try await browser.get("/oauth/authorize", query)
            #expect(first.status == .found)
            let location = try #require(first.headers[.location])
            #expect(location.hasPrefix("/login?return_to="))
            let returnTo = try #require(queryItems(location)["return_to"])
            #expect(returnTo.hasPrefix("/oauth/authorize?"))
            let signIn = try await browser.signIn("ann@acme.test", password: OAuthWorld.password, returnTo: returnTo)
            #expect(signIn.status == .seeOther)
            #expect(signIn.headers[.location] == returnTo)
            let consent = try await browser.get(returnTo)
            #expect(consent.status == .ok)
            #expect(consent.text.contains("Client acme-spa"))
            #expect(consent.text.contains("<code>openid</code>"))
            #expect(consent.text.contains("<code>profile</code>"))
            #expect(consent.headers[.cacheControl] == "no-store")
        }
    }

    @Test func promptNoneNeverShowsAPage() async throws {
        try await OAuthWorld.run { world in
            let none = OAuthWorld.authorizeQuery(extra: [("prompt", "none")])
            let anonymous = try await world.browser().get("/oauth/authorize", none)
            #expect(anonymous.redirectParameters["error"] == "login_required")
            let browser = try await world.signedIn()
            let unconsented = try await browser.get("/oauth/authorize", none)
            #expect(unconsented.redirectParameters["error"] == "consent_required")
            _ = try await world.code(browser: browser)
            let consented = try await browser.get("/oauth/authorize", none)
            #expect(consented.redirectParameters["code"] != nil)
        }
    }

    @Test func promptLoginAsksForThePasswordAgainOnce() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            _ = try await world.code(browser: browser)
            let again = try await browser.get(
                "/oauth/authorize", OAuthWorld.authorizeQuery(extra: [("prompt", "login")]))
            let location = try #require(again.headers[.location])
            #expect(location.hasPrefix("/login?"))
            let returnTo = try #require(queryItems(location)["return_to"])
            #expect(!returnTo.contains("prompt"))
            _ = try await browser.signIn("ann@acme.test", password: OAuthWorld.password, returnTo: returnTo)
            let back = try await browser.get(returnTo)
            #expect(back.redirectParameters["code"] != nil)
        }
    }

    @Test func aUserWhoHasNotAcceptedThePrivacyNoticeSeesItFirst() async throws {
        try await OAuthWorld.run { world in
            var bob = try Fixture.user("bob@acme.test", in: world.workspace)
            bob.passwordHash = await Fixture.fastPasswords.hash(try Password(OAuthWorld.password))
            try await world.api.store.insert(bob)
            let browser = try await world.signedIn("bob@acme.test")
            let first = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery())
            let location = try #require(first.headers[.location])
            #expect(location.hasPrefix("/privacy-notice?return_to="))
            let notice = try await browser.get(location)
            #expect(notice.status == .ok)
            #expect(notice.text.contains("Privacy notice"))
            let accepted = try await browser.post("/privacy-notice", try Browser.hiddenFields(of: notice))
            #expect(accepted.status == .seeOther)
            let back = try #require(accepted.headers[.location])
            #expect(back.hasPrefix("/oauth/authorize?"))
            #expect(try await world.api.reload(bob).privacyNoticeAcceptedAt == world.api.clock.now())
            let events = try await world.api.store.auditEvents(
                in: world.workspace.id, matching: AuditQuery(action: "user.privacy_notice_accepted"))
            #expect(events.first?.actor == AuditActor(user: bob.id, credential: "web_session"))
            #expect(try await browser.get(back).status == .ok)
        }
    }

    /// The endpoint keeps the client it read, at the credential epoch: a change made in the store alone (another
    /// instance, the command line) is seen by the very next request.
    @Test func anAuthorizationSeesTheClientAsItIsNowThoughTheLastOneReadIt() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            _ = try await world.code(browser: browser)
            var client = try #require(try await world.api.store.client(id: try ClientID("acme-spa")))
            func change(_ client: ClientApplication) async throws {
                try await world.api.store.apply(
                    .updateClient(client),
                    recording: AuditEvent(
                        workspaceID: world.workspace.id, actor: .commandLine, action: "client.updated",
                        targetKind: "client", targetID: client.id.value, address: nil, occurredAt: Fixture.epoch))
            }
            let registered = client.redirectURIs
            client.redirectURIs = [try RedirectURI("https://elsewhere.example.com/cb")]
            try await change(client)
            let moved = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery())
            #expect(moved.status == .badRequest)
            #expect(moved.headers[.location] == nil)
            #expect(moved.text.contains("not registered"))
            client.redirectURIs = registered
            client.isDisabled = true
            try await change(client)
            let disabled = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery())
            #expect(disabled.status == .badRequest)
            #expect(disabled.text.contains("no enabled client"))
            client.isDisabled = false
            try await change(client)
            #expect(try await world.code(browser: browser).isEmpty == false)
        }
    }

    @Test func theConsentPageShowsTheAppsNameAndLogoAndEachScopeInWords() async throws {
        try await OAuthWorld.run { world in
            var client = try #require(try await world.api.store.client(id: try ClientID("acme-spa")))
            client.name = "<script>alert(1)</script> Planner"
            client.logoURL = "https://cdn.example.com/planner.png"
            try await world.api.store.apply(
                .updateClient(client),
                recording: AuditEvent(
                    workspaceID: world.workspace.id, actor: .commandLine, action: "client.updated",
                    targetKind: "client", targetID: client.id.value, address: nil, occurredAt: Fixture.epoch))
            let browser = try await world.signedIn()
            let page = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery(scope: "openid profile"))
            #expect(page.status == .ok)
            #expect(page.text.contains(#"<img src="https://cdn.example.com/planner.png""#))
            #expect(page.text.contains("Sign you in to the application with OpenID Connect."))
            #expect(page.text.contains("Read your name and profile"))
            #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt; Planner"))
            #expect(!page.text.contains("<script>alert(1)</script>"))
            #expect(page.headers[.contentSecurityPolicy]?.contains("img-src 'self' https:") == true)
        }
    }

    @Test func consentIsRememberedAndCanBeWithdrawn() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let first = try await world.exchange(try await world.code(browser: browser))
            let access = try #require(first.string("access_token"))
            let refresh = try #require(first.string("refresh_token"))
            // Asked again for the same (or fewer) scopes: straight back with a code.
            let again = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery(scope: "openid"))
            #expect(again.status == .found)
            #expect(again.redirectParameters["code"] != nil)
            // More scopes than allowed: the consent page again.
            let more = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery(scope: "openid email"))
            #expect(more.status == .ok)
            // prompt=consent always shows it.
            let forced = try await browser.get(
                "/oauth/authorize", OAuthWorld.authorizeQuery(extra: [("prompt", "consent")]))
            #expect(forced.status == .ok)
            let account = try await browser.get("/account")
            #expect(account.text.contains("Client acme-spa"))
            let withdrawn = try await browser.post(
                "/account/applications/acme-spa/withdraw",
                [("csrf_token", try Browser.field("csrf_token", in: account))])
            #expect(withdrawn.status == .seeOther)
            #expect(try await browser.get("/account").text.contains("None yet."))
            #expect(try await world.isActive(access) == false)
            #expect(try await world.refresh(refresh).json["error"] as? String == "invalid_grant")
            let asked = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery())
            #expect(asked.status == .ok)
        }
    }

    @Test func denyingRedirectsAccessDeniedWith303() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let page = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery())
            let denied = try await browser.decide("deny", on: page)
            #expect(denied.status == .seeOther)
            #expect(denied.redirectParameters["error"] == "access_denied")
            #expect(denied.redirectParameters["state"] == "xyz")
            #expect(denied.redirectParameters["iss"] == OAuthWorld.issuer)
            let allowed = try await browser.decide("allow", on: page)
            #expect(allowed.status == .seeOther)
            #expect(allowed.redirectParameters["code"] != nil)
        }
    }

    @Test func aRequestCannotSmuggleTheConsentFormsOwnFields() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let query = OAuthWorld.authorizeQuery(extra: [("decision", "allow"), ("csrf_token", "planted")])
            let page = try await browser.get("/oauth/authorize", query)
            let fields = try Browser.hiddenFields(of: page)
            #expect(fields.filter { $0.0 == "csrf_token" }.count == 1)
            #expect(fields.allSatisfy { $0.0 != "decision" })
            let denied = try await browser.decide("deny", on: page)
            #expect(denied.redirectParameters["error"] == "access_denied")
        }
    }

    @Test func aConsentFormWithoutItsCSRFTokenIsRefused() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let page = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery())
            let fields = try Browser.hiddenFields(of: page).filter { $0.0 != "csrf_token" }
            let forged = try await browser.post("/oauth/authorize/decision", fields + [("decision", "allow")])
            #expect(forged.status == .forbidden)
            #expect(forged.headers[.location] == nil)
            let wrong = try await browser.post(
                "/oauth/authorize/decision",
                fields + [("csrf_token", String(repeating: "A", count: 43)), ("decision", "allow")])
            #expect(wrong.status == .forbidden)
        }
    }

    @Test func aPostedAuthorizationRequestIsAnsweredWith303() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            _ = try await world.code(browser: browser)
            let answer = try await browser.post("/oauth/authorize", OAuthWorld.authorizeQuery())
            #expect(answer.status == .seeOther)
            #expect(answer.redirectParameters["code"] != nil)
        }
    }

    @Test func aUserOfAnotherWorkspaceIsRefused() async throws {
        try await OAuthWorld.run { world in
            let (globex, _) = try await world.api.workspace("globex")
            let (foreign, _) = try Fixture.client(
                "globex-spa", in: globex, type: .public, redirectURIs: [OAuthWorld.redirect],
                scopes: BuiltInScopes.personal)
            try await world.api.store.apply(
                .insertClient(foreign),
                recording: AuditEvent(
                    workspaceID: globex.id, actor: .commandLine, action: "client.created", targetKind: "client",
                    targetID: "globex-spa", address: nil, occurredAt: Fixture.epoch))
            let answer = try await world.signedIn().get(
                "/oauth/authorize", OAuthWorld.authorizeQuery(client: "globex-spa"))
            #expect(answer.redirectParameters["error"] == "access_denied")
        }
    }

    @Test func pagesAreNeverFramedNorSharedAcrossOrigins() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let pages = [
                try await world.browser().get("/login"),
                try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery()),
                try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery(client: "nobody-here")),
                try await browser.get("/account"),
            ]
            for page in pages {
                #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
                #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                #expect(page.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == nil)
            }
        }
    }
}
