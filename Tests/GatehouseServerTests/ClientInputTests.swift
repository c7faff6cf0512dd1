import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Every kind of bad input to the client endpoints gets a 400 in the error shape, and changes nothing.
@Suite("Bad input to the client endpoints")
struct ClientInputTests {
    static let badBodies: [(body: String, message: String)] = [
        ("", "needs a JSON object"),
        (#"{"client_id":"acme-sync","name":"#, "not valid JSON"),
        ("not json at all", "not valid JSON"),
        (#"["acme-sync"]"#, "must be a JSON object"),
        (#""acme-sync""#, "must be a JSON object"),
        (#"{"name":"Sync"}"#, "'client_id' is required"),
        (#"{"client_id":"acme-sync"}"#, "'name' is required"),
        (#"{"client_id":"acme-sync","name":null}"#, "'name' must not be null"),
        (#"{"client_id":"acme-sync","name":5}"#, "'name' must be a string"),
        (#"{"client_id":7,"name":"Sync"}"#, "'client_id' must be a string"),
        (
            #"{"client_id":"acme-sync","name":"Sync","redirect_uris":"https://a.example/cb"}"#,
            "'redirect_uris' must be a list"
        ),
        (#"{"client_id":"acme-sync","name":"Sync","redirect_uris":[42]}"#, "'redirect_uris[0]' must be a string"),
        (#"{"client_id":"acme-sync","name":"Sync","scopes":{"a":1}}"#, "'scopes' must be a list"),
        (#"{"client_id":"acme-sync","name":"Sync","secret":"mine"}"#, "Unknown field 'secret'"),
        (#"{"client_id":"acme-sync","name":"Sync","redirectUris":[]}"#, "Unknown field 'redirectUris'"),
        (#"{"client_id":"acme-sync","name":"Sync","type":"trusted"}"#, "'trusted' is not a client type"),
        (#"{"client_id":"acme-sync","name":"Sync","grant_types":["implicit"]}"#, "'implicit' is not a grant type"),
        (#"{"client_id":"acme-sync","name":"Sync","grant_types":["password"]}"#, "'password' is not a grant type"),
        (#"{"client_id":"acme-sync","name":"Sync","scopes":["Bad Scope"]}"#, "is not a valid scope"),
        (#"{"client_id":"AB","name":"Sync"}"#, "3 to 64 lowercase letters"),
        (#"{"client_id":"01a2154a-1a7e-7a62-8074-9ee719da1629","name":"Sync"}"#, "must not look like a user id"),
        (#"{"client_id":"acme-sync","name":"   "}"#, "must not be empty"),
        (
            #"{"client_id":"acme-sync","name":"Sync","logo_url":"http://evil.example/x.png"}"#,
            "logo_url must be an https"
        ),
        (
            #"{"client_id":"acme-sync","name":"Sync","homepage_url":"javascript:alert(1)"}"#,
            "homepage_url must be an https"
        ),
        (
            #"{"client_id":"acme-sync","name":"Sync","description":"\#(String(repeating: "d", count: 1001))"}"#,
            "at most 1000"
        ),
    ]

    @Test func eachBadBodyIsA400NamingTheProblemAndNothingIsStored() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            for (body, message) in Self.badBodies {
                let answer = try await api.call(.post, "/api/v1/clients", key: admin, json: body)
                #expect(answer.status == .badRequest, "\(body.prefix(80))")
                #expect(answer.error?.error == "bad_request", "\(body.prefix(80))")
                #expect(answer.error?.message.contains(message) == true, "\(body.prefix(80)): \(answer.text)")
            }
            #expect(try await api.store.clients(in: acme.id, after: nil, limit: 10).isEmpty)
            let events = try await api.store.auditEvents(in: acme.id, matching: AuditQuery(action: "client.created"))
            #expect(events.isEmpty)
        }
    }

    @Test func aTenThousandCharacterNameIsRefused() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let long = String(repeating: "n", count: 10_000)
            let created = try await api.registerClient(#"{"client_id":"acme-sync","name":"\#(long)"}"#, key: admin)
            #expect(created.status == .badRequest)
            #expect(created.error?.message == "The name must be at most 200 characters (and 800 bytes) long.")
            #expect(try await api.store.clients(in: acme.id, after: nil, limit: 10).isEmpty)

            #expect(
                try await api.registerClient(#"{"client_id":"acme-sync","name":"Sync"}"#, key: admin).status == .created
            )
            let renamed = try await api.call(
                .patch, "/api/v1/clients/acme-sync", key: admin, json: #"{"name":"\#(long)"}"#)
            #expect(renamed.status == .badRequest)
            #expect(try await api.store.client(id: try ClientID("acme-sync"))?.name == "Sync")
        }
    }

    @Test func anOversizedBodyIsRefusedBeforeItIsRead() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let padding = String(repeating: "x", count: 1 << 20)
            let answer = try await api.registerClient(
                #"{"client_id":"acme-sync","name":"Sync","description":"\#(padding)"}"#, key: admin)
            #expect(answer.status == .contentTooLarge)
            #expect(answer.error?.error == "payload_too_large")
            #expect(try await api.store.clients(in: acme.id, after: nil, limit: 10).isEmpty)
        }
    }

    @Test func badChangesAndRotationsAre400sAndChangeNothing() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            #expect(
                try await api.registerClient(#"{"client_id":"acme-sync","name":"Sync"}"#, key: admin).status == .created
            )
            let before = try await api.store.client(id: try ClientID("acme-sync"))
            let patches: [(String, String)] = [
                ("{", "not valid JSON"), ("[]", "must be a JSON object"), (#"{"disabled":"yes"}"#, "true or false"),
                (#"{"name":null}"#, "'name' must not be null"), (#"{"type":"public"}"#, "Unknown field 'type'"),
                (#"{"scopes":"profile"}"#, "'scopes' must be a list"),
                (#"{"redirect_uris":null}"#, "'redirect_uris' must not be null"),
                (#"{"grant_types":["client_credentials","refresh_token"]}"#, "refresh_token needs authorization_code"),
            ]
            for (body, message) in patches {
                let answer = try await api.call(.patch, "/api/v1/clients/acme-sync", key: admin, json: body)
                #expect(answer.status == .badRequest, "\(body)")
                #expect(answer.error?.message.contains(message) == true, "\(body): \(answer.text)")
            }
            for body in ["[1]", #"{"grace":60}"#, #"{"grace_seconds":1e99}"#, #"{"grace_seconds":1.5}"#] {
                let answer = try await api.call(.post, "/api/v1/clients/acme-sync/secret", key: admin, json: body)
                #expect(answer.status == .badRequest, "\(body)")
                #expect(answer.error?.error == "bad_request")
            }
            #expect(try await api.store.client(id: try ClientID("acme-sync")) == before)
        }
    }

    @Test func unknownFieldsAreRefusedOnEveryJSONEndpoint() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let ann = try await api.user("ann@acme.test", in: acme)
            let requests: [(HTTPRequest.Method, String, String)] = [
                (.post, "/api/v1/users", #"{"email":"x@acme.test","name":"X","admin":true}"#),
                (.patch, "/api/v1/users/\(ann.id)", #"{"is_admin":true}"#),
                (.post, "/api/v1/users/\(ann.id)/api-keys", #"{"name":"k","scope":["profile"]}"#),
                (.post, "/api/v1/scopes", #"{"name":"okrs:read","description":"d","roles":["user"],"x":1}"#),
            ]
            for (method, path, body) in requests {
                let answer = try await api.call(method, path, key: admin, json: body)
                #expect(answer.status == .badRequest, "\(path)")
                #expect(answer.error?.message.hasPrefix("Unknown field") == true, "\(path): \(answer.text)")
            }
            #expect(try await api.reload(ann) == ann)
        }
    }

    /// `null` clears the PATCH fields that may be empty; anywhere else it is refused, never read as "absent".
    @Test func nullIsRefusedWhereNothingCanBeCleared() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let ann = try await api.user("ann@acme.test", in: acme)
            #expect(
                try await api.registerClient(#"{"client_id":"acme-sync","name":"Sync"}"#, key: admin).status == .created
            )
            let before = try await api.store.client(id: try ClientID("acme-sync"))
            let requests: [(HTTPRequest.Method, String, String, String)] = [
                (
                    .post, "/api/v1/clients", #"{"client_id":"acme-web","name":"Web","require_pkce":null}"#,
                    "require_pkce"
                ),
                (.post, "/api/v1/clients", #"{"client_id":"acme-web","name":"Web","type":null}"#, "type"),
                (.post, "/api/v1/clients/acme-sync/secret", #"{"grace_seconds":null}"#, "grace_seconds"),
                (.post, "/api/v1/users", #"{"email":"x@acme.test","name":"X","role":null}"#, "role"),
                (.patch, "/api/v1/users/\(ann.id)", #"{"active":null}"#, "active"),
                (.post, "/api/v1/users/\(ann.id)/api-keys", #"{"name":"k","scopes":null}"#, "scopes"),
                (.post, "/api/v1/clients/acme-sync/api-keys", #"{"name":"k","expires_at":null}"#, "expires_at"),
                (.post, "/api/v1/scopes", #"{"name":"okrs:read","description":null,"roles":["user"]}"#, "description"),
            ]
            for (method, path, body, field) in requests {
                let answer = try await api.call(method, path, key: admin, json: body)
                #expect(answer.status == .badRequest, "\(path) \(body)")
                #expect(answer.error?.message == "The field '\(field)' must not be null.", "\(body): \(answer.text)")
            }
            #expect(try await api.store.client(id: try ClientID("acme-sync")) == before)
            #expect(try await api.store.client(id: try ClientID("acme-web")) == nil)
            #expect(try await api.reload(ann) == ann)
            #expect(try await api.store.apiKeys(in: acme.id, status: nil, owner: nil).count == 1)
        }
    }
}
