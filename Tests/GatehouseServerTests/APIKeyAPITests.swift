import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// Generating, listing, changing and auditing keys through `/api/v1`.
@Suite("API keys over HTTP")
struct APIKeyAPITests {
    @Test func aKeyIsShownOnceAndListedOnlyByItsLastFour() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let ann = try await api.user("ann@acme.test", in: acme)
            let created = try await api.call(
                .post, "/api/v1/users/\(ann.id)/api-keys", key: admin,
                json: #"{"name":"CI deploys","expires_at":"2027-01-01T00:00:00Z","rate_limit_per_minute":120}"#)
            #expect(created.status == .created)
            #expect(created.headers[.cacheControl] == "no-store")
            let key = try #require(created.string("key"))
            #expect(PlaintextKey(parsing: key) != nil)
            #expect(key.hasPrefix("gate_"))
            #expect(created.string("last_four") == String(key.suffix(4)))
            #expect(created.string("name") == "CI deploys")
            #expect(created.string("expires_at") == "2027-01-01T00:00:00Z")
            #expect((created.json["owner"] as? [String: String]) == ["type": "user", "id": "\(ann.id)"])
            #expect(created.json.keys.contains("scopes") && created.json["scopes"] is NSNull)
            #expect(created.string("created_by") == "\(owner.id)")
            let id = try #require(created.string("id"))

            let one = try await api.call(.get, "/api/v1/api-keys/\(id)", key: admin)
            let listed = try await api.call(.get, "/api/v1/api-keys", key: admin)
            let theirs = try await api.call(.get, "/api/v1/users/\(ann.id)/api-keys", key: admin)
            for response in [one, listed, theirs] {
                #expect(response.status == .ok)
                #expect(!response.text.contains(key))
                #expect(!response.text.contains(String(key.dropLast(4))))
                #expect(!response.text.contains("digest"))
            }
            #expect(one.json.keys.contains("key") == false)
            #expect(theirs.items("api_keys").map { $0["id"] as? String } == [id])
            #expect(try await api.call(.get, "/api/v1/me", key: key).string("email") == "ann@acme.test")
        }
    }

    @Test func listingsFilterByStatusAndOwner() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (ownerKey, admin) = try await api.key(for: owner)
            let ann = try await api.user("ann@acme.test", in: acme)
            let (annKey, _) = try await api.key(for: ann)
            _ = try await api.call(.post, "/api/v1/api-keys/\(annKey.id)/revoke", key: admin)
            let revoked = try await api.call(.get, "/api/v1/api-keys?status=revoked", key: admin)
            #expect(revoked.items("api_keys").map { $0["id"] as? String } == ["\(annKey.id)"])
            let active = try await api.call(.get, "/api/v1/api-keys?status=active&owner=\(owner.id)", key: admin)
            #expect(active.items("api_keys").map { $0["id"] as? String } == ["\(ownerKey.id)"])
            let bad = try await api.call(.get, "/api/v1/api-keys?status=paused", key: admin)
            #expect(bad.status == .badRequest)
            #expect(bad.error?.error == "bad_request")
        }
    }

    @Test func patchChangesNameScopesExpiryAndLimitAndNullClearsThem() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let (key, _) = try await api.key(for: owner, rateLimit: 5)
            let changed = try await api.call(
                .patch, "/api/v1/api-keys/\(key.id)", key: admin,
                json: #"{"name":"renamed","scopes":["users:read"],"expires_at":"2026-10-01T00:00:00Z"}"#)
            #expect(changed.status == .ok)
            #expect(changed.string("name") == "renamed")
            #expect(changed.json["scopes"] as? [String] == ["users:read"])
            #expect(changed.string("expires_at") == "2026-10-01T00:00:00Z")
            #expect(changed.json["rate_limit_per_minute"] as? Int == 5)
            let cleared = try await api.call(
                .patch, "/api/v1/api-keys/\(key.id)", key: admin,
                json: #"{"scopes":null,"expires_at":null,"rate_limit_per_minute":null}"#)
            #expect(cleared.json["scopes"] is NSNull)
            #expect(cleared.json["expires_at"] is NSNull)
            #expect(cleared.json["rate_limit_per_minute"] is NSNull)
            #expect(cleared.string("name") == "renamed")
            let past = try await api.call(
                .patch, "/api/v1/api-keys/\(key.id)", key: admin, json: #"{"expires_at":"2020-01-01T00:00:00Z"}"#)
            #expect(past.status == .badRequest)
            let zero = try await api.call(
                .patch, "/api/v1/api-keys/\(key.id)", key: admin, json: #"{"rate_limit_per_minute":0}"#)
            #expect(zero.status == .badRequest)
        }
    }

    @Test func badRequestsSayWhatIsWrong() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            for json in [
                #"{"name":""}"#, #"{"name":"x","scopes":["no such"]}"#, #"{"name":"x","scopes":["okrs:read"]}"#, "{",
                "[]",
            ] {
                let response = try await api.call(.post, "/api/v1/users/\(owner.id)/api-keys", key: admin, json: json)
                #expect(response.status == .badRequest, "\(json)")
                #expect(response.error?.error == "bad_request")
                #expect(response.error?.message.isEmpty == false)
            }
            let notAnID = try await api.call(.get, "/api/v1/api-keys/not-an-id", key: admin)
            #expect(notAnID.status == .notFound)
        }
    }

    @Test func useIsRecordedWithoutAWritePerRequest() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (key, plaintext) = try await api.key(for: owner)
            #expect(try await api.call(.get, "/api/v1/me", key: plaintext).status == .ok)
            #expect(try await api.store.apiKey(id: key.id)?.lastUsedAt == nil)
            try await api.lastUse.flush()
            #expect(try await api.store.apiKey(id: key.id)?.lastUsedAt == api.clock.now())
            let shown = try await api.call(.get, "/api/v1/api-keys/\(key.id)", key: plaintext)
            #expect(shown.string("last_used_at") != nil)
        }
    }

    @Test func changesAreAuditedWithoutSecrets() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let ann = try await api.user("ann@acme.test", in: acme)
            let created = try await api.call(
                .post, "/api/v1/users/\(ann.id)/api-keys", key: admin, json: #"{"name":"audited"}"#)
            let key = try #require(created.string("key"))
            let id = try #require(created.string("id"))
            _ = try await api.call(.post, "/api/v1/api-keys/\(id)/revoke", key: admin)
            _ = try await api.call(.patch, "/api/v1/users/\(ann.id)", key: admin, json: #"{"title":"Engineer"}"#)

            let trail = try await api.call(.get, "/api/v1/audit-events", key: admin)
            #expect(trail.status == .ok)
            #expect(!trail.text.contains(key))
            let events = trail.items("audit_events")
            #expect(
                events.prefix(3).map { $0["action"] as? String } == [
                    "user.updated", "api_key.revoked", "api_key.created",
                ])
            let actor = events.first?["actor"] as? [String: String]
            #expect(actor?["user_id"] == "\(owner.id)")
            #expect(actor?["credential"]?.hasPrefix("api_key:") == true)
            #expect(events.first?["target_id"] as? String == "\(ann.id)")

            let filtered = try await api.call(.get, "/api/v1/audit-events?action=api_key.revoked", key: admin)
            #expect(filtered.items("audit_events").map { $0["target_id"] as? String } == [id])
            let page = try await api.call(.get, "/api/v1/audit-events?limit=1", key: admin)
            let next = try #require(page.json["next_before"] as? Int)
            let second = try await api.call(.get, "/api/v1/audit-events?limit=1&before=\(next)", key: admin)
            #expect(second.items("audit_events").first?["action"] as? String == "api_key.revoked")
            #expect(try await api.call(.get, "/api/v1/audit-events?limit=0", key: admin).status == .badRequest)
        }
    }
}
