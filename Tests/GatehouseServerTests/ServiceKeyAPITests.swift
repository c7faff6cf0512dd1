import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// Service keys: API keys of a client application, with no user.
@Suite("Service keys over HTTP")
struct ServiceKeyAPITests {
    /// A workspace with a super admin key and a registered confidential client `acme-sync`.
    static func withClient(
        _ test: @escaping @Sendable (APIWorld, Workspace, String) async throws -> Void
    ) async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let created = try await api.registerClient(#"{"client_id":"acme-sync","name":"Acme Sync"}"#, key: admin)
            #expect(created.status == .created)
            try await test(api, acme, admin)
        }
    }

    @Test func aServiceKeyCarriesEveryScopeAndDescribesItsClient() async throws {
        try await Self.withClient { api, _, admin in
            let created = try await api.call(
                .post, "/api/v1/clients/acme-sync/api-keys", key: admin, json: #"{"name":"nightly sync"}"#)
            #expect(created.status == .created)
            #expect(created.headers[.cacheControl] == "no-store")
            let key = try #require(created.string("key"))
            #expect(key.hasPrefix("gate_"))
            #expect((created.json["owner"] as? [String: String]) == ["type": "client", "id": "acme-sync"])
            #expect(created.json["scopes"] is NSNull)

            let me = try await api.call(.get, "/api/v1/me", key: key)
            #expect(me.status == .ok)
            #expect(me.string("client_id") == "acme-sync")
            #expect(me.string("name") == "Acme Sync")
            #expect(me.json.keys.contains("client_secret") == false)
            // Admin rights: every scope of the workspace, audit included.
            for path in ["/api/v1/users", "/api/v1/clients", "/api/v1/audit-events", "/api/v1/api-keys"] {
                #expect(try await api.call(.get, path, key: key).status == .ok, "\(path)")
            }
            let made = try await api.call(
                .post, "/api/v1/users", key: key, json: #"{"email":"new@acme.test","name":"New"}"#)
            #expect(made.status == .created)
            let events = try await api.call(.get, "/api/v1/audit-events?action=user.created", key: admin)
            let actor = events.items("audit_events").first?["actor"] as? [String: Any]
            #expect(actor?["user_id"] is NSNull)
            #expect(actor?["credential"] as? String == "api_key:\(try #require(created.string("id")))")

            // But never a super admin: a service key's role bound is admin.
            let promote = try await api.call(
                .post, "/api/v1/users", key: key,
                json: #"{"email":"boss@acme.test","name":"Boss","role":"super_admin"}"#)
            #expect(promote.status == .forbidden)

            let listed = try await api.call(.get, "/api/v1/clients/acme-sync/api-keys", key: admin)
            #expect(listed.items("api_keys").map { $0["name"] as? String } == ["nightly sync"])
            #expect(!listed.text.contains(key))
            let byOwner = try await api.call(.get, "/api/v1/api-keys?owner=client:acme-sync", key: admin)
            #expect(byOwner.items("api_keys").count == 1)
        }
    }

    @Test func aScopedServiceKeyCarriesOnlyItsScopes() async throws {
        try await Self.withClient { api, _, admin in
            let created = try await api.call(
                .post, "/api/v1/clients/acme-sync/api-keys", key: admin,
                json: #"{"name":"reader","scopes":["users:read"],"rate_limit_per_minute":2}"#)
            let key = try #require(created.string("key"))
            #expect(created.json["scopes"] as? [String] == ["users:read"])
            #expect(try await api.call(.get, "/api/v1/users", key: key).status == .ok)
            let refused = try await api.call(.get, "/api/v1/clients", key: key)
            #expect(refused.status == .forbidden)
            #expect(refused.error?.message == "This key does not have clients:read permission")
            let limited = try await api.call(.get, "/api/v1/users", key: key)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            let unknown = try await api.call(
                .post, "/api/v1/clients/acme-sync/api-keys", key: admin, json: #"{"name":"x","scopes":["nope:read"]}"#)
            #expect(unknown.status == .badRequest)
            #expect(unknown.error?.message == "There is no scope 'nope:read' in this workspace.")
        }
    }

    @Test func anAdminMustChooseScopesTheyHold() async throws {
        try await Self.withClient { api, acme, _ in
            let admin = try await api.user("ad@acme.test", role: .admin, in: acme)
            let (_, adminKey) = try await api.key(for: admin)
            let everything = try await api.call(
                .post, "/api/v1/clients/acme-sync/api-keys", key: adminKey, json: #"{"name":"all"}"#)
            #expect(everything.status == .forbidden)
            #expect(everything.error?.message.contains("audit:read") == true)
            let chosen = try await api.call(
                .post, "/api/v1/clients/acme-sync/api-keys", key: adminKey,
                json: #"{"name":"some","scopes":["users:read","clients:read"]}"#)
            #expect(chosen.status == .created)
            let (_, plainKey) = try await api.key(for: try await api.user("ann@acme.test", in: acme))
            let plain = try await api.call(
                .post, "/api/v1/clients/acme-sync/api-keys", key: plainKey, json: #"{"name":"mine"}"#)
            #expect(plain.status == .forbidden)
            #expect(plain.error?.message == "This key does not have api_keys:write permission")
        }
    }

    @Test func revokingDisablingAndDeletingStopAServiceKeyAtOnce() async throws {
        try await Self.withClient { api, _, admin in
            let created = try await api.call(
                .post, "/api/v1/clients/acme-sync/api-keys", key: admin, json: #"{"name":"sync"}"#)
            let key = try #require(created.string("key"))
            let id = try #require(created.string("id"))
            #expect(try await api.call(.post, "/api/v1/api-keys/\(id)/revoke", key: admin).status == .ok)
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .unauthorized)
            #expect(try await api.call(.post, "/api/v1/api-keys/\(id)/reactivate", key: admin).status == .ok)
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .ok)

            _ = try await api.call(.patch, "/api/v1/clients/acme-sync", key: admin, json: #"{"disabled":true}"#)
            let disabled = try await api.call(.get, "/api/v1/me", key: key)
            #expect(disabled.status == .unauthorized)
            #expect(disabled.error?.message.contains("client application this key belongs to is disabled") == true)
            _ = try await api.call(.patch, "/api/v1/clients/acme-sync", key: admin, json: #"{"disabled":false}"#)
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .ok)

            #expect(try await api.call(.delete, "/api/v1/clients/acme-sync", key: admin).status == .noContent)
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .unauthorized)
            #expect(try await api.call(.get, "/api/v1/api-keys/\(id)", key: admin).status == .notFound)
            let missing = try await api.call(
                .post, "/api/v1/clients/acme-sync/api-keys", key: admin, json: #"{"name":"late"}"#)
            #expect(missing.status == .notFound)
        }
    }

    @Test func anExpiredServiceKeyIsRefused() async throws {
        try await Self.withClient { api, _, admin in
            let created = try await api.call(
                .post, "/api/v1/clients/acme-sync/api-keys", key: admin,
                json: #"{"name":"short","expires_at":"2026-09-21T14:43:20Z"}"#)
            let key = try #require(created.string("key"))
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .ok)
            api.clock.advance(by: 3600)
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .unauthorized)
        }
    }
}
