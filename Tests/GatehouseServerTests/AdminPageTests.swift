import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The admin web UI over HTTP: each page asks the domain exactly as the JSON API does, every form needs its
/// CSRF token, secrets are shown once, and every string a user typed is escaped.
@Suite("Admin pages")
struct AdminPageTests {
    @Test func aPlainUserIsRefusedEveryAdminPageAndIsOfferedNone() async throws {
        try await OAuthWorld.run { world in
            let ann = try await world.signedIn()
            for path in ["/admin/clients", "/admin/clients/new", "/admin/api-keys", "/admin/users", "/admin/audit"] {
                let page = try await ann.get(path)
                #expect(page.status == .forbidden, "\(path)")
                #expect(page.text.contains("You may not open this page"), "\(path)")
            }
            let account = try await ann.get("/account")
            #expect(account.status == .ok)
            #expect(!account.text.contains("/admin/clients") && !account.text.contains("/admin/users"))
            #expect(try await ann.get("/admin").headers[.location] == "/account")
            // A form the page never offered is refused by the domain too, and changes nothing.
            let refused = try await ann.submit(
                account, action: "/logout", to: "/admin/clients",
                [("client_id", "sneaky"), ("name", "Sneaky"), ("type", "public")])
            #expect(refused.status == .forbidden)
            #expect(try await world.api.store.client(id: try ClientID("sneaky")) == nil)
        }
    }

    @Test func signingInIsNeededAndThePrivacyNoticeComesFirst() async throws {
        try await OAuthWorld.run { world in
            let anonymous = try await world.browser().get("/admin/clients")
            #expect(anonymous.status == .found)
            #expect(anonymous.headers[.location] == "/login?return_to=%2Fadmin%2Fclients")
            let (browser, _) = try await world.signedIn(as: .admin, acceptedPrivacyNotice: false)
            let first = try await browser.get("/admin/users?q=x")
            #expect(first.headers[.location] == "/privacy-notice?return_to=%2Fadmin%2Fusers%3Fq%3Dx")
        }
    }

    @Test func anAdminRegistersAClientAndSeesItsSecretOnce() async throws {
        try await OAuthWorld.run { world in
            let (admin, _) = try await world.signedIn(as: .admin)
            let form = try await admin.get("/admin/clients/new")
            #expect(form.status == .ok)
            let saved = try await admin.submit(
                form, action: "/admin/clients",
                [
                    ("name", "Reports"), ("client_id", "reports"), ("type", "confidential"),
                    ("redirect_uris", "https://reports.example.com/callback\r\n\r\nhttp://127.0.0.1/cb\r\n"),
                ])
            #expect(saved.status == .ok)
            #expect(saved.headers[.cacheControl] == "no-store")
            #expect(saved.text.contains("This is the only time Gatehouse shows it"))
            let secret = try #require(Self.secret(in: saved))
            // The secret is the client's: it authenticates at the introspection endpoint.
            #expect(try await world.api.isActive("nothing", asClient: "reports", secret: secret) == false)
            let bad = try await world.api.form("/oauth/introspect", [("token", "x")], basic: ("reports", "wrong"))
            #expect(bad.status == .unauthorized)
            let client = try #require(try await world.api.store.client(id: try ClientID("reports")))
            #expect(
                client.redirectURIs.map(\.value) == ["https://reports.example.com/callback", "http://127.0.0.1/cb"])
            // Never shown again: not on the client's page, nor in the list.
            for path in ["/admin/clients/reports", "/admin/clients"] {
                let page = try await admin.get(path)
                #expect(page.status == .ok)
                #expect(page.text.contains("Reports") && !page.text.contains(secret), "\(path)")
            }
        }
    }

    @Test func aClientFormWithAMistakeIsShownAgainWithTheMessageAndWhatWasTyped() async throws {
        try await OAuthWorld.run { world in
            let (admin, _) = try await world.signedIn(as: .admin)
            let form = try await admin.get("/admin/clients/new")
            let answer = try await admin.submit(
                form, action: "/admin/clients",
                [("name", "Reports"), ("client_id", "reports"), ("redirect_uris", "http://reports.example.com/cb")])
            #expect(answer.status == .badRequest)
            #expect(answer.text.contains(#"class="flash error""#))
            #expect(answer.text.contains("http://reports.example.com/cb"))
            #expect(answer.text.contains(#"value="reports""#))
            #expect(try await world.api.store.client(id: try ClientID("reports")) == nil)
            let taken = try await admin.submit(
                form, action: "/admin/clients", [("name", "Again"), ("client_id", "acme-web"), ("type", "public")])
            #expect(taken.status == .conflict)
        }
    }

    @Test func everyFormNeedsItsCSRFToken() async throws {
        try await OAuthWorld.run { world in
            let (admin, _) = try await world.signedIn(as: .admin)
            let forged = [("name", "Forged"), ("client_id", "forged"), ("type", "public")]
            let missing = try await admin.post("/admin/clients", forged)
            let wrong = try await admin.post(
                "/admin/clients", [("csrf_token", String(repeating: "a", count: 43))] + forged)
            for answer in [missing, wrong] {
                #expect(answer.status == .forbidden)
                #expect(answer.text.contains("This form has expired"))
            }
            #expect(try await world.api.store.client(id: try ClientID("forged")) == nil)
            let deleted = try await admin.post("/admin/clients/acme-web/delete", [])
            #expect(deleted.status == .forbidden)
            #expect(try await world.api.store.client(id: try ClientID("acme-web")) != nil)
        }
    }

    @Test func whatPeopleTypeIsEscapedEverywhere() async throws {
        try await OAuthWorld.run { world in
            let (admin, _) = try await world.signedIn(as: .admin)
            let form = try await admin.get("/admin/clients/new")
            let hostile = "<script>alert(1)</script>"
            _ = try await admin.submit(
                form, action: "/admin/clients", [("name", hostile), ("client_id", "hostile"), ("type", "public")])
            for path in ["/admin/clients", "/admin/clients/hostile", "/admin/audit"] {
                let page = try await admin.get(path)
                #expect(!page.text.contains(hostile), "\(path)")
            }
            let list = try await admin.get("/admin/clients")
            #expect(list.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        }
    }

    @Test func pagesMayRunNoInlineScriptAndMayNotBeFramed() async throws {
        try await OAuthWorld.run { world in
            let (admin, _) = try await world.signedIn(as: .admin)
            for path in ["/admin/clients", "/login", "/account"] {
                let page = try await admin.get(path)
                let policy = try #require(page.headers[.contentSecurityPolicy], "\(path)")
                #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "\(path)")
                #expect(policy.contains("frame-ancestors 'none'"), "\(path)")
                #expect(page.headers[.xContentTypeOptions] == "nosniff")
                #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                #expect(page.headers[.cacheControl] == "no-store")
                #expect(!page.text.contains("<script>") && !page.text.contains(" onclick="))
            }
            let css = try await admin.get("/assets/gatehouse.css")
            #expect(css.status == .ok && css.headers[.contentType] == "text/css; charset=utf-8")
            #expect(try await admin.get("/assets/gatehouse.js").status == .ok)
            #expect(try await admin.get("/assets/..%2FPackage.swift").status == .notFound)
        }
    }

    @Test func anAdminSetsHowAClientSignsPeopleInAndOut() async throws {
        try await OAuthWorld.run { world in
            let (admin, _) = try await world.signedIn(as: .admin)
            let page = try await admin.get("/admin/clients/acme-web")
            #expect(page.text.contains(#"<option value="RS256" selected>"#))
            let saved = try await admin.submit(
                page, action: "/admin/clients/acme-web",
                [
                    ("name", "Acme Web"), ("redirect_uris", OAuthWorld.redirect),
                    ("post_logout_redirect_uris", "https://app.example.com/bye\r\n"),
                    ("backchannel_logout_uri", "https://app.example.com/backchannel"),
                    ("id_token_signed_response_alg", "ES256"), ("resource_server", "on"),
                ])
            #expect(saved.status == .seeOther)
            let client = try #require(try await world.api.store.client(id: try ClientID("acme-web")))
            #expect(client.postLogoutRedirectURIs.map(\.value) == ["https://app.example.com/bye"])
            #expect(client.idTokenSigningAlgorithm == .es256)
            #expect(client.backchannelLogoutURI?.value == "https://app.example.com/backchannel")
            let shown = try await admin.get("/admin/clients/acme-web")
            #expect(shown.text.contains(#"<option value="ES256" selected>"#))
            #expect(shown.text.contains("https://app.example.com/bye"))
            #expect(
                shown.text.contains(
                    #"name="backchannel_logout_uri" type="url" spellcheck="false" value="https://app.example.com/backchannel""#
                ))
            // A post-logout redirect URI keeps the redirect URIs' rules, and the form comes back as typed.
            let refused = try await admin.submit(
                page, action: "/admin/clients/acme-web",
                [
                    ("name", "Acme Web"), ("redirect_uris", OAuthWorld.redirect),
                    ("post_logout_redirect_uris", "http://app.example.com/bye"),
                    ("id_token_signed_response_alg", "RS256"),
                ])
            #expect(refused.status == .badRequest)
            #expect(refused.text.contains("http://app.example.com/bye"))
            #expect(refused.text.contains(#"<option value="RS256" selected>"#))
            #expect(try await world.api.store.client(id: try ClientID("acme-web"))?.idTokenSigningAlgorithm == .es256)
        }
    }

    @Test func rotatingDisablingAndDeletingAClientFromItsPage() async throws {
        try await OAuthWorld.run { world in
            let (admin, _) = try await world.signedIn(as: .admin)
            let page = try await admin.get("/admin/clients/acme-web")
            let rotated = try await admin.submit(
                page, action: "/admin/clients/acme-web/secret", [("grace_seconds", "0")])
            let secret = try #require(Self.secret(in: rotated))
            #expect(rotated.text.contains("The old secret has stopped working."))
            let old = try await world.api.form("/oauth/introspect", [("token", "x")], basic: ("acme-web", world.secret))
            #expect(old.status == .unauthorized)
            #expect(try await world.api.isActive("x", asClient: "acme-web", secret: secret) == false)

            let disabled = try await admin.submit(page, action: "/admin/clients/acme-web/disable", [])
            #expect(disabled.headers[.location] == "/admin/clients/acme-web?done=client_disabled")
            #expect(
                try await admin.get("/admin/clients/acme-web?done=client_disabled").text.contains("stop working now"))
            #expect(try await world.api.store.client(id: try ClientID("acme-web"))?.isDisabled == true)

            let confirm = try await admin.get("/admin/clients/acme-web/delete")
            #expect(confirm.text.contains("This cannot be undone."))
            let deleted = try await admin.submit(confirm, action: "/admin/clients/acme-web/delete", [])
            #expect(deleted.headers[.location] == "/admin/clients?done=client_deleted")
            #expect(try await world.api.store.client(id: try ClientID("acme-web")) == nil)
        }
    }

    @Test func serviceKeysAreAddedShownOnceRevokedAndReactivated() async throws {
        try await OAuthWorld.run { world in
            let (admin, _) = try await world.signedIn(as: .admin)
            let keysPage = try await admin.get("/admin/clients/acme-web/keys")
            #expect(keysPage.status == .ok)
            let created = try await admin.submit(
                keysPage, action: "/admin/clients/acme-web/keys",
                [("name", "Nightly sync"), ("scope", "profile"), ("scope", "clients:read")])
            let key = try #require(Self.secret(in: created))
            let me = try await world.api.call(.get, "/api/v1/me", key: key)
            #expect(me.status == .ok && me.json["client_id"] as? String == "acme-web")
            let listed = try await admin.get("/admin/clients/acme-web/keys")
            #expect(listed.text.contains("Nightly sync") && !listed.text.contains(key))
            let id = try #require(
                try await world.api.store.apiKeys(
                    in: world.workspace.id, status: nil, owner: .client(try ClientID("acme-web"))
                ).first?.id)

            let revoked = try await admin.submit(listed, action: "/admin/api-keys/\(id)/revoke", [])
            #expect(revoked.headers[.location] == "/admin/clients/acme-web/keys?done=key_revoked")
            #expect(try await world.api.call(.get, "/api/v1/me", key: key).status == .unauthorized)
            let after = try await admin.get("/admin/clients/acme-web/keys")
            _ = try await admin.submit(after, action: "/admin/api-keys/\(id)/reactivate", [])
            #expect(try await world.api.call(.get, "/api/v1/me", key: key).status == .ok)
        }
    }

    @Test func anAdminGeneratesAUserKeyThatActsWithTheUsersRights() async throws {
        try await OAuthWorld.run { world in
            let (admin, _) = try await world.signedIn(as: .admin)
            let page = try await admin.get("/admin/api-keys")
            #expect(page.text.contains("ann@acme.test"))
            let created = try await admin.submit(
                page, action: "/admin/api-keys", [("user_id", "\(world.ann.id)"), ("name", "Ann's script")])
            let key = try #require(Self.secret(in: created))
            let me = try await world.api.call(.get, "/api/v1/me", key: key)
            #expect(me.json["email"] as? String == "ann@acme.test")
            // Ann is a plain user: her key cannot read users, whatever made it.
            #expect(try await world.api.call(.get, "/api/v1/users", key: key).status == .forbidden)
            // Ann sees it on her account, read-only.
            let ann = try await world.signedIn()
            let account = try await ann.get("/account")
            #expect(account.text.contains("Ann&#39;s script") || account.text.contains("Ann's script"))
            #expect(!account.text.contains("/revoke"))
            // Without choosing a user nothing is made, and the page says so.
            let unchosen = try await admin.submit(page, action: "/admin/api-keys", [("name", "Orphan")])
            #expect(unchosen.status == .badRequest && unchosen.text.contains("Select the user"))
        }
    }

    @Test func usersAreSearchedCreatedChangedDeactivatedAndReactivated() async throws {
        try await OAuthWorld.run { world in
            let (admin, _) = try await world.signedIn(as: .hrAdmin)
            let search = try await admin.get("/admin/users", [("q", "ANN@")])
            #expect(search.text.contains("ann@acme.test") && !search.text.contains("owner@acme.test"))
            // An HR admin manages people but not client applications, as in the JSON API.
            #expect(try await admin.get("/admin/clients").status == .forbidden)

            let form = try await admin.get("/admin/users/new")
            let created = try await admin.submit(
                form, action: "/admin/users",
                [
                    ("name", "Bob Example"), ("email", "bob@acme.test"), ("role", "user"),
                    ("password", "bob-long-password"),
                ])
            let location = try #require(created.headers[.location])
            #expect(location.hasPrefix("/admin/users/") && location.hasSuffix("?done=user_saved"))
            let bob = try #require(try await world.api.store.user(email: try EmailAddress("bob@acme.test")))
            // Only a super admin may hand out admin rights; the page shows the domain's refusal.
            let page = try await admin.get("/admin/users/\(bob.id)")
            let refused = try await admin.submit(
                page, action: "/admin/users/\(bob.id)",
                [("name", "Bob Example"), ("email", "bob@acme.test"), ("role", "admin")])
            #expect(refused.status == .forbidden && refused.text.contains("flash error"))
            _ = try await admin.submit(
                page, action: "/admin/users/\(bob.id)",
                [("name", "Robert Example"), ("email", "bob@acme.test"), ("role", "hr_admin"), ("title", "Payroll")])
            #expect(try await world.api.store.user(id: bob.id)?.role == .hrAdmin)
            #expect(try await world.api.store.user(id: bob.id)?.name == "Robert Example")

            let annPage = try await admin.get("/admin/users/\(world.ann.id)")
            let annBrowser = try await world.signedIn()
            _ = try await admin.submit(annPage, action: "/admin/users/\(world.ann.id)/deactivate", [])
            #expect(try await world.api.store.user(id: world.ann.id)?.isActive == false)
            // Her session ended with the deactivation.
            #expect(try await annBrowser.get("/account").headers[.location]?.hasPrefix("/login") == true)
            let deactivated = try await admin.get("/admin/users/\(world.ann.id)")
            #expect(deactivated.text.contains("deactivated"))
            _ = try await admin.submit(deactivated, action: "/admin/users/\(world.ann.id)/reactivate", [])
            #expect(try await world.api.store.user(id: world.ann.id)?.isActive == true)
        }
    }

    @Test func scopesAndTheAuditLogAreShownWithTheirFilters() async throws {
        try await OAuthWorld.run { world in
            let (admin, _) = try await world.signedIn(as: .superAdmin)
            let scopes = try await admin.get("/admin/scopes")
            #expect(scopes.text.contains("audit:read") && scopes.text.contains("openid"))
            let page = try await admin.get("/admin/clients/acme-web")
            _ = try await admin.submit(page, action: "/admin/clients/acme-web/disable", [])
            let filtered = try await admin.get("/admin/audit", [("action", "client.disabled")])
            #expect(filtered.status == .ok)
            #expect(filtered.text.contains("client acme-web"))
            #expect(!filtered.text.contains("user.signed_in"))
            let everything = try await admin.get("/admin/audit")
            #expect(everything.text.contains("user.signed_in"))
        }
    }

    @Test func signingInGivesANewSessionAndANewCSRFToken() async throws {
        try await OAuthWorld.run { world in
            let browser = world.browser()
            // Cookies planted before sign-in (a fixed session id, a known CSRF token) are worth nothing after it.
            browser.setCookie("gatehouse_session", "planted-session-value")
            _ = try await browser.get("/login")
            let before = try #require(browser.cookies["gatehouse_csrf"])
            _ = try await browser.signIn("ann@acme.test", password: OAuthWorld.password)
            #expect(browser.cookies["gatehouse_session"] != "planted-session-value")
            #expect(browser.cookies["gatehouse_csrf"] != before)
            #expect(try await browser.get("/account").status == .ok)
        }
    }

    @Test func aKeyOfAnotherWorkspaceCannotBeRevokedAndAReturnAddressStaysOnSite() async throws {
        try await OAuthWorld.run { world in
            let (globex, boss) = try await world.api.workspace("globex")
            _ = globex
            let (theirs, _) = try await world.api.key(for: boss)
            let (admin, _) = try await world.signedIn(as: .admin)
            let page = try await admin.get("/admin/api-keys")
            let refused = try await admin.submit(
                page, action: "/admin/api-keys", to: "/admin/api-keys/\(theirs.id)/revoke", [])
            #expect(refused.status == .notFound)
            #expect(try await world.api.store.apiKey(id: theirs.id)?.status == .active)
            let (ours, _) = try await world.api.key(for: world.ann)
            let away = try await admin.submit(
                page, action: "/admin/api-keys", to: "/admin/api-keys/\(ours.id)/revoke",
                [("return_to", "https://evil.example.com/")])
            #expect(away.headers[.location] == "/admin/api-keys?done=key_revoked")
        }
    }

    /// The secret on a "shown once" page.
    static func secret(in page: APIResponse) -> String? {
        guard let range = page.text.range(of: #"id="secret" type="text" readonly value=""#) else { return nil }
        return String(page.text[range.upperBound...].prefix { $0 != "\"" })
    }
}

extension OAuthWorld {
    /// A browser signed in as a new user of the workspace with `role` and a password.
    func signedIn(as role: Role, acceptedPrivacyNotice: Bool = true) async throws -> (Browser, User) {
        let email = "\(role.rawValue.replacingOccurrences(of: "_", with: "-"))@acme.test"
        var user = try Fixture.user(email, in: workspace, role: role)
        user.privacyNoticeAcceptedAt = acceptedPrivacyNotice ? Fixture.epoch : nil
        user.passwordHash = await Fixture.fastPasswords.hash(try Password(OAuthWorld.password))
        try await api.store.insert(user)
        return (try await signedIn(email), user)
    }
}

extension Browser {
    /// Posts `fields` with the hidden fields (the CSRF token among them) of the form on `page` whose action is
    /// `action`, to `target` (the form's own action unless given).
    func submit(
        _ page: APIResponse, action: String, to target: String? = nil, _ fields: [(String, String)]
    ) async throws -> APIResponse {
        let text = page.text
        let opening = try #require(text.range(of: #"action="\#(action)""#), "no form for \(action) on the page")
        let rest = text[opening.upperBound...]
        let form = rest.range(of: "</form>").map { String(rest[..<$0.lowerBound]) } ?? String(rest)
        let hidden = try Browser.hiddenFields(of: APIResponse(status: .ok, headers: [:], body: Data(form.utf8)))
        #expect(hidden.contains { $0.0 == "csrf_token" })
        return try await post(target ?? action, hidden + fields)
    }
}
