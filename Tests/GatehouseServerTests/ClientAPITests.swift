import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// Registering, reading, changing, rotating and deleting client applications through `/api/v1/clients`.
@Suite("Client applications over HTTP")
struct ClientAPITests {
    static let syncClient = #"""
        {"client_id":"acme-sync","name":"Acme Sync","description":"Keeps HR in step.",
         "homepage_url":"https://sync.example.com","logo_url":"https://sync.example.com/logo.png",
         "redirect_uris":["https://sync.example.com/cb","http://127.0.0.1/cb","com.example.sync:/cb"]}
        """#

    @Test func aConfidentialClientGetsASecretShownOnceAndStoredOnlyAsADigest() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            _ = try await ScopeCatalog(store: api.store, clock: api.clock).define(
                try Scope("okrs:read"), description: "Read OKRs", roles: [.user], in: acme.id, by: .commandLine)
            let created = try await api.registerClient(Self.syncClient, key: admin)
            #expect(created.status == .created)
            #expect(created.headers[.cacheControl] == "no-store")
            let secret = try #require(created.string("client_secret"))
            #expect(secret.count == 43)
            #expect(created.string("client_id") == "acme-sync")
            #expect(created.string("name") == "Acme Sync")
            #expect(created.string("description") == "Keeps HR in step.")
            #expect(created.string("type") == "confidential")
            #expect(
                created.json["redirect_uris"] as? [String]
                    == ["https://sync.example.com/cb", "http://127.0.0.1/cb", "com.example.sync:/cb"])
            #expect(created.json["grant_types"] as? [String] == ["authorization_code", "refresh_token"])
            // The default: every scope that is not Gatehouse's own administration, custom ones included.
            #expect(created.json["scopes"] as? [String] == ["email", "okrs:read", "openid", "profile"])
            #expect(created.json["require_pkce"] as? Bool == true)
            #expect(created.json["disabled"] as? Bool == false)
            #expect(created.string("created_by") == "\(owner.id)")
            #expect(created.json["previous_secret_expires_at"] is NSNull)

            let stored = try #require(try await api.store.client(id: try ClientID("acme-sync")))
            #expect(stored.secret?.current == SecretDigest(of: secret))
            #expect(stored.secret?.current.hex != secret)
            let one = try await api.call(.get, "/api/v1/clients/acme-sync", key: admin)
            let list = try await api.call(.get, "/api/v1/clients", key: admin)
            let audit = try await api.call(.get, "/api/v1/audit-events", key: admin)
            for response in [one, list, audit] {
                #expect(response.status == .ok)
                #expect(!response.text.contains(secret))
                #expect(!response.text.contains("client_secret"))
                #expect(!response.text.contains(stored.secret?.current.hex ?? "-"))
            }
            #expect(one.string("name") == "Acme Sync")
            #expect(list.items("clients").map { $0["client_id"] as? String } == ["acme-sync"])
            #expect(audit.items("audit_events").first?["action"] as? String == "client.created")
        }
    }

    @Test func aPublicClientHasNoSecretAndCannotUseClientCredentials() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let spa = try await api.registerClient(
                #"{"client_id":"acme-spa","name":"Acme SPA","type":"public","redirect_uris":["https://app.acme.test/cb"]}"#,
                key: admin)
            #expect(spa.status == .created)
            #expect(spa.json.keys.contains("client_secret") == false)
            #expect(spa.string("type") == "public")
            let refused = try await api.registerClient(
                #"{"client_id":"acme-cli","name":"CLI","type":"public","grant_types":["client_credentials"]}"#,
                key: admin)
            #expect(refused.status == .badRequest)
            #expect(refused.error?.message.contains("client_credentials is only for confidential clients") == true)
            let rotate = try await api.call(.post, "/api/v1/clients/acme-spa/secret", key: admin)
            #expect(rotate.status == .badRequest)
            #expect(rotate.error?.message.contains("public clients have no secret") == true)
            let worker = try await api.registerClient(
                #"{"client_id":"acme-worker","name":"Worker","grant_types":["client_credentials"]}"#, key: admin)
            #expect(worker.json["grant_types"] as? [String] == ["client_credentials"])
            let orphan = try await api.registerClient(
                #"{"client_id":"acme-odd","name":"Odd","grant_types":["refresh_token"]}"#, key: admin)
            #expect(orphan.error?.message.contains("refresh_token needs authorization_code") == true)
        }
    }

    @Test func onlyAConfidentialClientMayTurnPKCEOff() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let spa = try await api.registerClient(
                #"{"client_id":"spa","name":"SPA","type":"public","require_pkce":false}"#, key: admin)
            #expect(spa.status == .badRequest)
            #expect(spa.error?.message == "A public client always needs PKCE; require_pkce cannot be false.")
            let legacy = try await api.registerClient(
                #"{"client_id":"legacy","name":"Legacy","require_pkce":false}"#, key: admin)
            #expect(legacy.status == .created)
            #expect(legacy.json["require_pkce"] as? Bool == false)
            let restored = try await api.call(
                .patch, "/api/v1/clients/legacy", key: admin, json: #"{"require_pkce":true}"#)
            #expect(restored.json["require_pkce"] as? Bool == true)
            _ = try await api.registerClient(#"{"client_id":"spa","name":"SPA","type":"public"}"#, key: admin)
            let off = try await api.call(.patch, "/api/v1/clients/spa", key: admin, json: #"{"require_pkce":false}"#)
            #expect(off.status == .badRequest)
            let wrongType = try await api.call(
                .patch, "/api/v1/clients/legacy", key: admin, json: #"{"require_pkce":"no"}"#)
            #expect(wrongType.status == .badRequest)
        }
    }

    @Test func aTakenClientIDIsAConflictEvenInAnotherWorkspace() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, globexOwner) = try await api.workspace("globex")
            let (_, admin) = try await api.key(for: owner)
            let (_, globexAdmin) = try await api.key(for: globexOwner)
            #expect(try await api.registerClient(Self.syncClient, key: admin).status == .created)
            for key in [admin, globexAdmin] {
                let again = try await api.registerClient(#"{"client_id":"acme-sync","name":"Again"}"#, key: key)
                #expect(again.status == .conflict)
                #expect(again.error?.error == "conflict")
                #expect(again.error?.message.contains("client_id already exists") == true)
            }
            let stored = try await api.store.client(id: try ClientID("acme-sync"))
            #expect(stored?.name == "Acme Sync")
        }
    }

    @Test(arguments: [
        ("http://sync.example.com/cb", "loopback"), ("https://sync.example.com/cb#x", "fragment"),
        ("https://*.example.com/cb", "wildcard"), ("/cb", "absolute URI"), ("javascript:alert(1)", "scheme"),
        ("https://u:p@sync.example.com/cb", "user name or password"),
    ])
    func eachRejectedRedirectURIIsNamedWithItsRuleAndNothingIsStored(_ uri: String, _ rule: String) async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let json =
                #"{"client_id":"acme-sync","name":"Sync","redirect_uris":["https://ok.example.com/cb",""#
                + uri + #""]}"#
            let refused = try await api.registerClient(json, key: admin)
            #expect(refused.status == .badRequest)
            #expect(refused.error?.error == "bad_request")
            #expect(refused.error?.message.contains(uri) == true)
            #expect(refused.error?.message.contains(rule) == true)
            #expect(try await api.store.clients(in: acme.id, after: nil, limit: 10).isEmpty)

            #expect(
                try await api.registerClient(#"{"client_id":"acme-sync","name":"Sync"}"#, key: admin).status == .created
            )
            let patch = try await api.call(
                .patch, "/api/v1/clients/acme-sync", key: admin, json: #"{"redirect_uris":[""# + uri + #""]}"#)
            #expect(patch.status == .badRequest)
            #expect(patch.error?.message.contains(uri) == true)
            #expect(try await api.store.client(id: try ClientID("acme-sync"))?.redirectURIs == [])
        }
    }

    @Test func clientsArePagedWithAnOpaqueCursor() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, globexOwner) = try await api.workspace("globex")
            let (_, admin) = try await api.key(for: owner)
            let (_, globexAdmin) = try await api.key(for: globexOwner)
            for id in ["delta", "alpha", "echo", "charlie", "bravo"] {
                #expect(
                    try await api.registerClient(#"{"client_id":"\#(id)","name":"\#(id)"}"#, key: admin).status
                        == .created)
            }
            var seen: [String] = []
            var path = "/api/v1/clients?limit=2"
            var pages = 0
            while true {
                let page = try await api.call(.get, path, key: admin)
                #expect(page.status == .ok)
                pages += 1
                seen += page.items("clients").compactMap { $0["client_id"] as? String }
                guard let cursor = page.string("next_cursor") else { break }
                #expect(!cursor.contains(seen.last ?? "-"))
                path = "/api/v1/clients?limit=2&cursor=\(cursor)"
            }
            #expect(seen == ["alpha", "bravo", "charlie", "delta", "echo"])
            #expect(pages == 3)
            #expect(try await api.call(.get, "/api/v1/clients", key: globexAdmin).items("clients").isEmpty)
            for bad in ["limit=0", "limit=201", "limit=ten", "cursor=%21%21not-ours"] {
                let refused = try await api.call(.get, "/api/v1/clients?\(bad)", key: admin)
                #expect(refused.status == .badRequest, "\(bad)")
                #expect(refused.error?.error == "bad_request")
            }
        }
    }

    @Test func anAdminChangesAClientAndEachChangeIsAudited() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            try await api.registerClient(Self.syncClient, key: admin)
            api.clock.advance(by: 60)
            let changed = try await api.call(
                .patch, "/api/v1/clients/acme-sync", key: admin,
                json: #"""
                    {"name":"Acme Sync 2","description":null,"redirect_uris":["https://sync2.example.com/cb"],
                     "scopes":["profile","users:read"],"grant_types":["client_credentials"]}
                    """#)
            #expect(changed.status == .ok)
            #expect(changed.string("name") == "Acme Sync 2")
            #expect(changed.json["description"] is NSNull)
            #expect(changed.string("homepage_url") == "https://sync.example.com")
            #expect(changed.json["redirect_uris"] as? [String] == ["https://sync2.example.com/cb"])
            #expect(changed.json["scopes"] as? [String] == ["profile", "users:read"])
            #expect(changed.json["grant_types"] as? [String] == ["client_credentials"])
            #expect(changed.string("updated_at") != changed.string("created_at"))
            let disabled = try await api.call(
                .patch, "/api/v1/clients/acme-sync", key: admin, json: #"{"disabled":true}"#)
            #expect(disabled.json["disabled"] as? Bool == true)
            let actions = try await api.call(.get, "/api/v1/audit-events?target=acme-sync", key: admin)
                .items("audit_events")
            #expect(actions.map { $0["action"] as? String } == ["client.disabled", "client.updated", "client.created"])
            let details = actions[1]["details"] as? [String: String]
            #expect(details?["fields"] == "name description redirect_uris grant_types scopes")

            let undefined = try await api.call(
                .patch, "/api/v1/clients/acme-sync", key: admin, json: #"{"scopes":["okrs:write"]}"#)
            #expect(undefined.status == .badRequest)
            #expect(undefined.error?.message == "There is no scope 'okrs:write' in this workspace.")
            let rename = try await api.call(
                .patch, "/api/v1/clients/acme-sync", key: admin, json: #"{"client_id":"acme-other"}"#)
            #expect(rename.status == .badRequest)
            #expect(rename.error?.message.contains("Unknown field 'client_id'") == true)
            let missing = try await api.call(.patch, "/api/v1/clients/nobody", key: admin, json: #"{"name":"X"}"#)
            #expect(missing.status == .notFound)
        }
    }

    @Test func nobodyGivesAClientScopesTheyDoNotHold() async throws {
        try await withAPI { api in
            let (acme, _) = try await api.workspace()
            let boss = try await api.user("boss@acme.test", role: .admin, in: acme)
            let (_, admin) = try await api.key(for: boss)
            _ = try await ScopeCatalog(store: api.store, clock: api.clock).define(
                try Scope("payroll:read"), description: "Payroll", roles: [.hrAdmin], in: acme.id, by: .commandLine)
            let grab = try await api.registerClient(
                #"{"client_id":"grab","name":"Grab","scopes":["audit:read"],"grant_types":["client_credentials"]}"#,
                key: admin)
            #expect(grab.status == .forbidden)
            #expect(grab.error?.message.contains("audit:read") == true)
            // The default leaves out what the creator lacks (payroll:read is an HR admin's).
            let plain = try await api.registerClient(#"{"client_id":"plain","name":"Plain"}"#, key: admin)
            #expect(plain.json["scopes"] as? [String] == ["email", "openid", "profile"])
        }
    }

    @Test func deletingAClientStopsItsKeysAtOnce() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            try await api.registerClient(Self.syncClient, key: admin)
            let serviceKey = try #require(
                try await api.call(.post, "/api/v1/clients/acme-sync/api-keys", key: admin, json: #"{"name":"sync"}"#)
                    .string("key"))
            #expect(try await api.call(.get, "/api/v1/me", key: serviceKey).status == .ok)
            let deleted = try await api.call(.delete, "/api/v1/clients/acme-sync", key: admin)
            #expect(deleted.status == .noContent)
            #expect(deleted.body.isEmpty)
            #expect(try await api.call(.get, "/api/v1/me", key: serviceKey).status == .unauthorized)
            #expect(try await api.call(.get, "/api/v1/clients/acme-sync", key: admin).status == .notFound)
            #expect(try await api.call(.delete, "/api/v1/clients/acme-sync", key: admin).status == .notFound)
            let event = try await api.call(.get, "/api/v1/audit-events?action=client.deleted", key: admin)
                .items("audit_events").first
            #expect((event?["details"] as? [String: String])?["api_keys_deleted"] == "1")
        }
    }

    @Test func rotatingKeepsTheOldSecretForTheGracePeriodOnly() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let (_, token) = try await api.key(for: try await api.user("ann@acme.test", in: acme))
            // A resource server, so its introspection says whether its secret still authenticates it.
            let registered = try await api.registerClient(
                #"{"client_id":"acme-sync","name":"Acme Sync","resource_server":true}"#, key: admin)
            let first = try #require(registered.string("client_secret"))
            #expect(try await api.isActive(token, asClient: "acme-sync", secret: first))

            let rotated = try await api.call(
                .post, "/api/v1/clients/acme-sync/secret", key: admin, json: #"{"grace_seconds":3600}"#)
            #expect(rotated.status == .ok)
            #expect(rotated.headers[.cacheControl] == "no-store")
            let second = try #require(rotated.string("client_secret"))
            #expect(second != first)
            #expect(rotated.string("previous_secret_expires_at") == "2026-09-21T15:13:20Z")
            #expect(try await api.isActive(token, asClient: "acme-sync", secret: first))
            #expect(try await api.isActive(token, asClient: "acme-sync", secret: second))
            api.clock.advance(by: 3599)
            #expect(try await api.isActive(token, asClient: "acme-sync", secret: first))
            api.clock.advance(by: 1)
            let old = try await api.form("/oauth/introspect", [("token", token)], basic: ("acme-sync", first))
            #expect(old.status == .unauthorized)
            #expect(old.json["error"] as? String == "invalid_client")
            #expect(try await api.isActive(token, asClient: "acme-sync", secret: second))

            // Without a body the grace period is 0: the old secret stops at once.
            let third = try #require(
                try await api.call(.post, "/api/v1/clients/acme-sync/secret", key: admin).string("client_secret"))
            let stopped = try await api.form("/oauth/introspect", [("token", token)], basic: ("acme-sync", second))
            #expect(stopped.status == .unauthorized)
            #expect(try await api.isActive(token, asClient: "acme-sync", secret: third))
            let audit = try await api.call(.get, "/api/v1/audit-events?action=client.secret_rotated", key: admin)
            #expect(
                audit.items("audit_events").map { ($0["details"] as? [String: String])?["grace_seconds"] } == [
                    "0", "3600",
                ])
            #expect(!audit.text.contains(first) && !audit.text.contains(second) && !audit.text.contains(third))

            for body in [#"{"grace_seconds":604801}"#, #"{"grace_seconds":-1}"#, #"{"grace_seconds":"60"}"#] {
                let refused = try await api.call(.post, "/api/v1/clients/acme-sync/secret", key: admin, json: body)
                #expect(refused.status == .badRequest, "\(body)")
                #expect(refused.error?.message.contains("grace") == true)
            }
            #expect(try await api.isActive(token, asClient: "acme-sync", secret: third))
        }
    }

    @Test func clientsNeedClientsScopesAndStayInTheirWorkspace() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, globexOwner) = try await api.workspace("globex")
            let (_, admin) = try await api.key(for: owner)
            let (_, stranger) = try await api.key(for: globexOwner)
            try await api.registerClient(Self.syncClient, key: admin)
            let (_, plainUser) = try await api.key(for: try await api.user("ann@acme.test", in: acme))
            let (_, hr) = try await api.key(for: try await api.user("hr@acme.test", role: .hrAdmin, in: acme))
            let (_, adminKey) = try await api.key(for: try await api.user("ad@acme.test", role: .admin, in: acme))
            let (_, readOnly) = try await api.key(for: owner, scopes: .only([.clientsRead]))
            for key in [plainUser, hr] {
                let refused = try await api.call(.get, "/api/v1/clients", key: key)
                #expect(refused.status == .forbidden)
                #expect(refused.error?.message == "This key does not have clients:read permission")
            }
            #expect(try await api.call(.get, "/api/v1/clients", key: adminKey).status == .ok)
            #expect(try await api.call(.get, "/api/v1/clients/acme-sync", key: readOnly).status == .ok)
            let write = try await api.call(.patch, "/api/v1/clients/acme-sync", key: readOnly, json: #"{"name":"X"}"#)
            #expect(write.status == .forbidden)
            #expect(write.error?.message == "This key does not have clients:write permission")

            let foreign: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/api/v1/clients/acme-sync", nil), (.patch, "/api/v1/clients/acme-sync", #"{"name":"Mine"}"#),
                (.delete, "/api/v1/clients/acme-sync", nil), (.post, "/api/v1/clients/acme-sync/secret", nil),
                (.get, "/api/v1/clients/acme-sync/api-keys", nil),
                (.post, "/api/v1/clients/acme-sync/api-keys", #"{"name":"steal"}"#),
            ]
            for (method, path, json) in foreign {
                let answer = try await api.call(method, path, key: stranger, json: json)
                #expect(answer.status == .notFound, "\(method) \(path)")
            }
            #expect(try await api.store.client(id: try ClientID("acme-sync"))?.name == "Acme Sync")
        }
    }
}
