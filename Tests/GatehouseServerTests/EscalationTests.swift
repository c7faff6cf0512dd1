import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Testing

/// The escalation paths found by trying Gatehouse as an attacker would, each closed and pinned over HTTP.
@Suite("Nobody acts beyond their own rights")
struct EscalationTests {
    /// A workspace with a super admin's key and an admin's key, both made by the operator.
    struct Staff {
        let workspace: Workspace
        let owner: User
        let superKey: String
        let admin: User
        let adminKey: String
    }

    static func staff(_ api: APIWorld) async throws -> Staff {
        let (acme, owner) = try await api.workspace()
        let (_, superKey) = try await api.key(for: owner)
        let admin = try await api.user("admin@acme.test", role: .admin, in: acme)
        let (_, adminKey) = try await api.key(for: admin)
        return Staff(workspace: acme, owner: owner, superKey: superKey, admin: admin, adminKey: adminKey)
    }

    @Test func anAdminCannotTakeOverAClientRegisteredWithRightsTheyLack() async throws {
        try await withAPI { api in
            let staff = try await Self.staff(api)
            let created = try await api.registerClient(
                #"{"client_id":"vault","name":"Vault","redirect_uris":["https://vault.example.com/cb"],"#
                    + #""scopes":["users:write","audit:read"]}"#, key: staff.superKey)
            #expect(created.status == .created)
            let before = try await api.store.client(id: try ClientID("vault"))
            let attempts: [(HTTPRequest.Method, String, String?)] = [
                (
                    .patch, "/api/v1/clients/vault",
                    #"{"grant_types":["authorization_code","refresh_token","client_credentials"]}"#
                ),
                (.patch, "/api/v1/clients/vault", #"{"redirect_uris":["https://evil.example/cb"]}"#),
                (.patch, "/api/v1/clients/vault", #"{"disabled":true}"#),
                (.post, "/api/v1/clients/vault/secret", #"{"grace_seconds":604800}"#),
                (.post, "/api/v1/clients/vault/api-keys", #"{"name":"mine","scopes":["clients:read"]}"#),
                (.delete, "/api/v1/clients/vault", nil),
            ]
            for (method, path, body) in attempts {
                let answer = try await api.call(method, path, key: staff.adminKey, json: body)
                #expect(answer.status == .forbidden, "\(method) \(path) answered \(answer.status): \(answer.text)")
                #expect(answer.error?.message.contains("audit:read, users:write") == true, "\(answer.text)")
            }
            #expect(try await api.store.client(id: try ClientID("vault")) == before, "nothing changed")
            // The super admin, who holds every right it carries, still may.
            let rotated = try await api.call(.post, "/api/v1/clients/vault/secret", key: staff.superKey, json: "{}")
            #expect(rotated.status == .ok)
        }
    }

    @Test func aClientCarriesTheRightsOfItsServiceKeys() async throws {
        try await withAPI { api in
            let staff = try await Self.staff(api)
            let created = try await api.registerClient(
                #"{"client_id":"plain","name":"Plain","scopes":["profile"]}"#, key: staff.superKey)
            #expect(created.status == .created)
            // The super admin gives it a service key with every right of the workspace.
            let key = try await api.call(
                .post, "/api/v1/clients/plain/api-keys", key: staff.superKey, json: #"{"name":"all"}"#)
            #expect(key.status == .created)
            for body in [#"{"disabled":true}"#, #"{"name":"Renamed"}"#] {
                let answer = try await api.call(.patch, "/api/v1/clients/plain", key: staff.adminKey, json: body)
                #expect(answer.status == .forbidden, "\(body): \(answer.text)")
                #expect(answer.error?.message.contains("audit:read") == true)
            }
            // Revoked by the super admin, the key no longer counts.
            let keyID = try #require(key.string("id"))
            #expect(try await api.call(.post, "/api/v1/api-keys/\(keyID)/revoke", key: staff.superKey).status == .ok)
            #expect(
                try await api.call(.patch, "/api/v1/clients/plain", key: staff.adminKey, json: #"{"name":"Renamed"}"#)
                    .status == .ok)
        }
    }

    @Test func aClientThatGainsARedirectURIOrGrantTypeMustAskForConsentAgain() async throws {
        try await OAuthWorld.run { world in
            let (_, superKey) = try await world.api.key(for: world.owner)
            let browser = try await world.signedIn()
            _ = try await world.code(browser: browser)
            // Allowed once: the next request goes straight back with a code.
            let again = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery())
            #expect(again.status == .found && again.redirectParameters["code"] != nil)
            let grown = try await world.api.call(
                .patch, "/api/v1/clients/acme-spa", key: superKey,
                json: #"{"redirect_uris":["https://app.example.com/callback","https://other.example.com/cb"]}"#)
            #expect(grown.status == .ok)
            let asked = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery())
            #expect(asked.status == .ok, "the consent page, not a redirect: \(asked.headers[.location] ?? "")")
            #expect(asked.text.contains("Allow"))
            // Allowed again for the client as it is now; shrinking it keeps the consent.
            _ = try await browser.decide("allow", on: asked)
            let shrunk = try await world.api.call(
                .patch, "/api/v1/clients/acme-spa", key: superKey,
                json: #"{"redirect_uris":["https://app.example.com/callback"],"grant_types":["authorization_code"]}"#)
            #expect(shrunk.status == .ok)
            let stillAllowed = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery())
            #expect(stillAllowed.status == .found && stillAllowed.redirectParameters["code"] != nil)
            // Allowed for the smaller client; when it gains a grant type again, that consent no longer covers it.
            let reasked = try await browser.get(
                "/oauth/authorize", OAuthWorld.authorizeQuery(extra: [("prompt", "consent")]))
            _ = try await browser.decide("allow", on: reasked)
            let grantGrown = try await world.api.call(
                .patch, "/api/v1/clients/acme-spa", key: superKey,
                json: #"{"grant_types":["authorization_code","refresh_token"]}"#)
            #expect(grantGrown.status == .ok)
            #expect(try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery()).status == .ok)
        }
    }

    @Test func anAdminCannotReviveOrExtendASuperAdminsKey() async throws {
        try await withAPI { api in
            let staff = try await Self.staff(api)
            let (revoked, revokedKey) = try await api.key(for: staff.owner)
            #expect(
                try await api.call(.post, "/api/v1/api-keys/\(revoked.id)/revoke", key: staff.superKey).status == .ok)
            let revive = try await api.call(.post, "/api/v1/api-keys/\(revoked.id)/reactivate", key: staff.adminKey)
            #expect(revive.status == .forbidden, "\(revive.text)")
            #expect(try await api.store.apiKey(id: revoked.id)?.status == .revoked)
            #expect(try await api.call(.get, "/api/v1/audit-events", key: revokedKey).status == .unauthorized)
            let (expiring, _) = try await api.key(for: staff.owner, expiresAt: api.clock.now().addingTimeInterval(60))
            let extend = try await api.call(
                .patch, "/api/v1/api-keys/\(expiring.id)", key: staff.adminKey, json: #"{"expires_at":null}"#)
            #expect(extend.status == .forbidden, "\(extend.text)")
            #expect(try await api.store.apiKey(id: expiring.id) == expiring)
            // Nor revoke, rename or rescope it: every change needs every right the key could use.
            let revoke = try await api.call(.post, "/api/v1/api-keys/\(expiring.id)/revoke", key: staff.adminKey)
            #expect(revoke.status == .forbidden)
        }
    }

    @Test func anAdminCannotMakeAKeyThatActsAsSomeoneWhoHoldsMore() async throws {
        try await withAPI { api in
            let staff = try await Self.staff(api)
            let hr = try await api.user("hr@acme.test", role: .hrAdmin, in: staff.workspace)
            for target in [staff.owner, hr] {
                let made = try await api.call(
                    .post, "/api/v1/users/\(target.id)/api-keys", key: staff.adminKey,
                    json: #"{"name":"mine","scopes":["users:read"]}"#)
                #expect(made.status == .forbidden, "\(target.role): \(made.text)")
            }
            #expect(
                try await api.store.apiKeys(in: staff.workspace.id, status: nil, owner: .user(staff.owner.id)).count
                    == 1)
        }
    }

    @Test func aKeyMadeForSomeoneElseStaysWithinItsMakersRightsAndStopsWithThem() async throws {
        try await withAPI { api in
            let staff = try await Self.staff(api)
            let ann = try await api.user("ann@acme.test", in: staff.workspace)
            // The admin makes a key for ann, who holds less: allowed.
            let made = try await api.call(
                .post, "/api/v1/users/\(ann.id)/api-keys", key: staff.adminKey, json: #"{"name":"for ann"}"#)
            #expect(made.status == .created)
            let annKey = try #require(made.string("key"))
            let me = try await api.call(.get, "/api/v1/me", key: annKey)
            #expect(me.string("email") == "ann@acme.test")
            // A second super admin makes a key for the first; demoted, their key shrinks with them.
            let second = try await api.user("second@acme.test", role: .superAdmin, in: staff.workspace)
            let (_, secondKey) = try await api.key(for: second)
            let forOwner = try await api.call(
                .post, "/api/v1/users/\(staff.owner.id)/api-keys", key: secondKey, json: #"{"name":"for the owner"}"#)
            let ownerKey = try #require(forOwner.string("key"))
            #expect(try await api.call(.get, "/api/v1/audit-events", key: ownerKey).status == .ok)
            let demoted = try await api.call(
                .patch, "/api/v1/users/\(second.id)", key: staff.superKey, json: #"{"role":"admin"}"#)
            #expect(demoted.status == .ok)
            #expect(try await api.call(.get, "/api/v1/audit-events", key: ownerKey).status == .forbidden)
            let listed = try await api.call(.get, "/api/v1/clients", key: ownerKey)
            #expect(listed.status == .ok, "still within the maker's admin rights")
            // What it does names both the owner (the actor) and the maker.
            let registered = try await api.registerClient(#"{"client_id":"made-by","name":"Made by"}"#, key: ownerKey)
            #expect(registered.status == .created)
            let events = try await api.store.auditEvents(
                in: staff.workspace.id, matching: AuditQuery(action: "client.created"))
            #expect(events.first?.actor.user == staff.owner.id)
            #expect(events.first?.details["key_made_by"] == "\(second.id)")
            // Deactivated, the maker's keys for others stop too.
            let deactivated = try await api.call(
                .patch, "/api/v1/users/\(second.id)", key: staff.superKey, json: #"{"active":false}"#)
            #expect(deactivated.status == .ok)
            let refused = try await api.call(.get, "/api/v1/clients", key: ownerKey)
            #expect(refused.status == .unauthorized)
            #expect(refused.error?.message.contains("made this key") == true)
            // The operator's keys, and one's own, follow only their owner.
            #expect(try await api.call(.get, "/api/v1/audit-events", key: staff.superKey).status == .ok)
        }
    }

    @Test func aCodeDiesWhenTheConsentIsWithdrawnBeforeItIsRedeemed() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            let code = try await world.code(browser: browser)
            let account = try await browser.get("/account")
            let withdrawn = try await browser.post(
                "/account/applications/acme-spa/withdraw",
                [("csrf_token", try Browser.field("csrf_token", in: account))])
            #expect(withdrawn.status == .seeOther)
            let exchanged = try await world.exchange(code)
            #expect(exchanged.status == .badRequest)
            #expect(exchanged.json["error"] as? String == "invalid_grant")
        }
    }

    @Test func aCodeDiesWithItsUserOrClient() async throws {
        try await OAuthWorld.run { world in
            let (_, superKey) = try await world.api.key(for: world.owner)
            let forDeactivated = try await world.code()
            let disabledUser = try await world.api.call(
                .patch, "/api/v1/users/\(world.ann.id)", key: superKey, json: #"{"active":false}"#)
            #expect(disabledUser.status == .ok)
            _ = try await world.api.call(
                .patch, "/api/v1/users/\(world.ann.id)", key: superKey, json: #"{"active":true}"#)
            #expect(try await world.exchange(forDeactivated).json["error"] as? String == "invalid_grant")
            let forDisabled = try await world.code()
            for disabled in [true, false] {
                let answer = try await world.api.call(
                    .patch, "/api/v1/clients/acme-spa", key: superKey, json: #"{"disabled":\#(disabled)}"#)
                #expect(answer.status == .ok)
            }
            #expect(try await world.exchange(forDisabled).json["error"] as? String == "invalid_grant")
        }
    }

    @Test func maxAgeZeroAsksForOneSignInAndThenGoesOn() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            world.api.clock.advance(by: 5)
            let query = OAuthWorld.authorizeQuery(extra: [("max_age", "0")])
            let first = try await browser.get("/oauth/authorize", query)
            let login = try #require(first.headers[.location])
            #expect(login.hasPrefix("/login"))
            let returnTo = try #require(queryItems(login)["return_to"])
            let signedIn = try await browser.signIn("ann@acme.test", password: OAuthWorld.password, returnTo: returnTo)
            #expect(signedIn.status == .seeOther)
            world.api.clock.advance(by: 1)
            let back = try #require(signedIn.headers[.location])
            let next = try await browser.get(back)
            #expect(
                next.status == .ok, "the consent page, not the sign-in page again: \(next.headers[.location] ?? "")")
            let decided = try await browser.decide("allow", on: next)
            let code = try #require(decided.redirectParameters["code"])
            let tokens = try await world.exchange(code)
            #expect(tokens.status == .ok)
        }
    }

    @Test func rateLimitsCountPerUserAndClientNotPerGrant() async throws {
        try await OAuthWorld.run { world in
            var last: APIResponse?
            for _ in 0..<3 {
                let token = try #require(try await world.tokens().string("access_token"))
                last = try await world.api.call(.get, "/api/v1/me", key: token)
            }
            let policy = try #require(last?.headers[.rateLimit])
            // Three grants, one request each: one count of three, not three counts of one.
            #expect(policy.contains("r=57"), "\(policy)")
        }
    }
}
