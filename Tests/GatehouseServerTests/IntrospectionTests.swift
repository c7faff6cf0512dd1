import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// `POST /oauth/introspect` (RFC 7662) for API keys, with client authentication (RFC 6749 §2.3.1).
@Suite("Introspection and client authentication")
struct IntrospectionTests {
    struct World {
        let api: APIWorld
        let admin: String
        let secret: String
        let ann: User
        let annKey: String
    }

    static func withWorld(_ test: @escaping @Sendable (World) async throws -> Void) async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let created = try await api.registerClient(
                #"{"client_id":"acme-api","name":"Acme API","resource_server":true}"#, key: admin)
            let secret = try #require(created.string("client_secret"))
            let ann = try await api.user("ann@acme.test", in: acme)
            let (_, annKey) = try await api.key(for: ann, expiresAt: api.clock.now().addingTimeInterval(86400))
            try await test(World(api: api, admin: admin, secret: secret, ann: ann, annKey: annKey))
        }
    }

    @Test func anActiveUserKeyIsDescribed() async throws {
        try await Self.withWorld { world in
            let answer = try await world.api.form(
                "/oauth/introspect", [("token", world.annKey), ("token_type_hint", "access_token")],
                basic: ("acme-api", world.secret))
            #expect(answer.status == .ok)
            #expect(answer.headers[.cacheControl] == "no-store")
            #expect(answer.json["active"] as? Bool == true)
            #expect(answer.string("token_type") == "api_key")
            #expect(answer.string("scope") == "email openid profile")
            #expect(answer.string("sub") == "\(world.ann.id)")
            #expect(answer.string("workspace_id") == "\(world.ann.workspaceID)")
            #expect(answer.json["iat"] as? Int == 1_790_000_000)
            #expect(answer.json["exp"] as? Int == 1_790_086_400)
            #expect(answer.json["client_id"] == nil)
        }
    }

    @Test func aServiceKeyNamesItsClient() async throws {
        try await Self.withWorld { world in
            let key = try #require(
                try await world.api.call(
                    .post, "/api/v1/clients/acme-api/api-keys", key: world.admin,
                    json: #"{"name":"svc","scopes":["users:read"]}"#
                ).string("key"))
            // client_secret_post: the credentials in the body.
            let answer = try await world.api.form(
                "/oauth/introspect", [("token", key), ("client_id", "acme-api"), ("client_secret", world.secret)])
            #expect(answer.json["active"] as? Bool == true)
            #expect(answer.string("client_id") == "acme-api")
            #expect(answer.string("scope") == "users:read")
            #expect(answer.json["sub"] == nil)
        }
    }

    @Test func anythingNotActiveHereIsJustInactive() async throws {
        try await Self.withWorld { world in
            let api = world.api
            let (_, globexOwner) = try await api.workspace("globex")
            let (_, foreignKey) = try await api.key(for: globexOwner)
            let (revokedRecord, revoked) = try await api.key(for: world.ann)
            _ = try await api.call(.post, "/api/v1/api-keys/\(revokedRecord.id)/revoke", key: world.admin)
            let typo = String(world.annKey.dropLast()) + (world.annKey.hasSuffix("A") ? "B" : "A")
            for token in [foreignKey, revoked, typo, "gate_nothing", "eyJhbGciOi.e30.sig", "x"] {
                let answer = try await api.form(
                    "/oauth/introspect", [("token", token)], basic: ("acme-api", world.secret))
                #expect(answer.status == .ok)
                #expect(answer.text == #"{"active":false}"#, "\(token)")
            }
            var deactivated = try await api.reload(world.ann)
            deactivated.isActive = false
            try await api.store.update(deactivated)
            #expect(try await !api.isActive(world.annKey, asClient: "acme-api", secret: world.secret))
            api.clock.advance(by: 86400)
            deactivated.isActive = true
            try await api.store.update(deactivated)
            #expect(try await !api.isActive(world.annKey, asClient: "acme-api", secret: world.secret))
        }
    }

    @Test func aClientThatCannotAuthenticateGetsInvalidClient() async throws {
        try await Self.withWorld { world in
            let api = world.api
            _ = try await api.registerClient(
                #"{"client_id":"acme-spa","name":"SPA","type":"public"}"#, key: world.admin)
            let attempts: [([(String, String)], (String, String)?)] = [
                ([("token", world.annKey)], ("acme-api", "wrong")),
                ([("token", world.annKey)], ("nobody", world.secret)),
                ([("token", world.annKey)], nil),
                ([("token", world.annKey), ("client_id", "acme-api")], nil),
                ([("token", world.annKey), ("client_id", "acme-api"), ("client_secret", "wrong")], nil),
                ([("token", world.annKey), ("client_id", "acme-spa")], nil),
            ]
            for (parameters, basic) in attempts {
                let answer = try await api.form("/oauth/introspect", parameters, basic: basic)
                #expect(answer.status == .unauthorized, "\(parameters) \(String(describing: basic))")
                #expect(answer.json["error"] as? String == "invalid_client")
                #expect(answer.json["error_description"] is String)
                #expect(answer.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
                #expect(answer.headers[.cacheControl] == "no-store")
                #expect(!answer.text.contains(world.secret))
            }
            _ = try await api.call(.patch, "/api/v1/clients/acme-api", key: world.admin, json: #"{"disabled":true}"#)
            let disabled = try await api.form(
                "/oauth/introspect", [("token", world.annKey)], basic: ("acme-api", world.secret))
            #expect(disabled.status == .unauthorized)
        }
    }

    /// Introspection answers and client authentications are cached at the credential epoch; a change written
    /// to the store by anyone else is obeyed by the very next request all the same.
    @Test func aChangeBehindTheServersBackIsObeyedOnTheNextIntrospection() async throws {
        try await Self.withWorld { world in
            let api = world.api
            func introspect(_ token: String, secret: String? = nil) async throws -> APIResponse {
                try await api.form("/oauth/introspect", [("token", token)], basic: ("acme-api", secret ?? world.secret))
            }
            let event = CredentialCacheHTTPTests.event(
                try #require(try await api.store.workspace(id: world.ann.workspaceID)))
            for _ in 0..<3 { #expect(try await introspect(world.annKey).json["active"] as? Bool == true) }

            var key = try #require(
                try await api.store.apiKeys(in: world.ann.workspaceID, status: nil, owner: .user(world.ann.id)).first)
            key.status = .revoked
            try await api.store.apply(.updateKey(key), recording: event)
            #expect(try await introspect(world.annKey).json["active"] as? Bool == false)
            key.status = .active
            try await api.store.apply(.updateKey(key), recording: event)
            #expect(try await introspect(world.annKey).json["active"] as? Bool == true)

            var demoted = world.ann
            demoted.isActive = false
            try await api.store.apply(.updateUser(demoted), recording: event)
            #expect(try await introspect(world.annKey).json["active"] as? Bool == false)

            // The client's secret replaced in the store: the old one stops at once, the new one works.
            var client = try #require(try await api.store.client(id: ClientID("acme-api")))
            let replacement = ClientSecret.generate()
            client.secret = ClientSecretDigests(current: replacement.digest)
            try await api.store.apply(.updateClient(client), recording: event)
            #expect(try await introspect(world.annKey).status == .unauthorized)
            #expect(try await introspect(world.annKey, secret: replacement.value).status == .ok)
            client.isDisabled = true
            try await api.store.apply(.updateClient(client), recording: event)
            #expect(try await introspect(world.annKey, secret: replacement.value).status == .unauthorized)
        }
    }

    @Test func anExpiredKeyTurnsInactiveThoughItsAnswerWasCached() async throws {
        try await Self.withWorld { world in
            func active() async throws -> Bool? {
                let answer = try await world.api.form(
                    "/oauth/introspect", [("token", world.annKey)], basic: ("acme-api", world.secret))
                return answer.json["active"] as? Bool
            }
            let before = try await active()
            #expect(before == true)
            world.api.clock.advance(by: 86400)
            let after = try await active()
            #expect(after == false)
        }
    }

    @Test func aClientThatIsNoResourceServerLearnsOnlyAboutItsOwnCredentials() async throws {
        try await OAuthWorld.run { world in
            let (_, superKey) = try await world.api.key(for: world.owner)
            let registered = try await world.api.registerClient(
                #"{"client_id":"acme-batch","name":"Batch","grant_types":["client_credentials"],"scopes":["users:read"]}"#,
                key: superKey)
            let secret = try #require(registered.string("client_secret"))
            let own = try #require(
                try await world.api.form(
                    "/oauth/token", [("grant_type", "client_credentials"), ("scope", "users:read")],
                    basic: ("acme-batch", secret)
                ).string("access_token"))
            let ownKey = try #require(
                try await world.api.call(
                    .post, "/api/v1/clients/acme-batch/api-keys", key: superKey,
                    json: #"{"name":"svc","scopes":["users:read"]}"#
                ).string("key"))
            let tokens = try await world.tokens()
            let othersAccess = try #require(tokens.string("access_token"))
            let othersRefresh = try #require(tokens.string("refresh_token"))
            let (_, annKey) = try await world.api.key(for: world.ann)
            for token in [own, ownKey] {
                #expect(try await world.api.isActive(token, asClient: "acme-batch", secret: secret))
            }
            for token in [othersAccess, othersRefresh, annKey, superKey] {
                #expect(try await world.api.isActive(token, asClient: "acme-batch", secret: secret) == false)
                // The resource server of the workspace learns about them all.
                #expect(try await world.isActive(token))
            }
        }
    }

    @Test func introspectingAKeyIsNotUsingIt() async throws {
        try await Self.withWorld { world in
            let key = try #require(
                try await world.api.store.apiKeys(in: world.ann.workspaceID, status: nil, owner: .user(world.ann.id))
                    .first)
            for _ in 0..<3 {
                #expect(try await world.api.isActive(world.annKey, asClient: "acme-api", secret: world.secret))
            }
            try await world.api.lastUse.flush(everything: true)
            #expect(try await world.api.store.apiKey(id: key.id)?.lastUsedAt == nil)
            // Using it is.
            #expect(try await world.api.call(.get, "/api/v1/me", key: world.annKey).status == .ok)
            try await world.api.lastUse.flush(everything: true)
            #expect(try await world.api.store.apiKey(id: key.id)?.lastUsedAt == world.api.clock.now())
        }
    }

    @Test func eachClientMayIntrospectSoManyTimesAMinute() async throws {
        try await withAPI(configure: { $0.oauth.introspectionsPerMinute = 3 }) { api in
            let (_, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let secret = try #require(
                try await api.registerClient(
                    #"{"client_id":"acme-api","name":"Acme API","resource_server":true}"#, key: admin
                ).string("client_secret"))
            for _ in 0..<3 { #expect(try await api.isActive(admin, asClient: "acme-api", secret: secret)) }
            let refused = try await api.form("/oauth/introspect", [("token", admin)], basic: ("acme-api", secret))
            #expect(refused.status == .tooManyRequests)
            #expect(refused.json["error"] as? String == "temporarily_unavailable")
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 > 0)
            api.clock.advance(by: 60)
            #expect(try await api.isActive(admin, asClient: "acme-api", secret: secret))
        }
    }

    @Test func onlySomeoneWhoMayReadKeysAndUsersMakesAResourceServer() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, superKey) = try await api.key(for: owner)
            let integration = try await api.registerClient(
                #"{"client_id":"acme-int","name":"Integration"}"#, key: superKey)
            #expect(integration.json["resource_server"] as? Bool == false)
            let narrow = try #require(
                try await api.call(
                    .post, "/api/v1/clients/acme-int/api-keys", key: superKey,
                    json: #"{"name":"svc","scopes":["clients:read","clients:write"]}"#
                ).string("key"))
            let refused = try await api.registerClient(
                #"{"client_id":"acme-rs","name":"RS","resource_server":true}"#, key: narrow)
            #expect(refused.status == .forbidden)
            #expect(refused.error?.message.contains("api_keys:read, users:read") == true)
            let made = try await api.registerClient(#"{"client_id":"acme-rs","name":"RS"}"#, key: narrow)
            #expect(made.status == .created)
            let promoted = try await api.call(
                .patch, "/api/v1/clients/acme-rs", key: narrow, json: #"{"resource_server":true}"#)
            #expect(promoted.status == .forbidden)
            let admin = try await api.user("admin@acme.test", role: .admin, in: acme)
            let (_, adminKey) = try await api.key(for: admin)
            let byAdmin = try await api.call(
                .patch, "/api/v1/clients/acme-rs", key: adminKey, json: #"{"resource_server":true}"#)
            #expect(byAdmin.status == .ok)
            #expect(byAdmin.json["resource_server"] as? Bool == true)
            // Once it is one, the narrow key may not touch it at all.
            let renamed = try await api.call(.patch, "/api/v1/clients/acme-rs", key: narrow, json: #"{"name":"R"}"#)
            #expect(renamed.status == .forbidden)
            let publicOne = try await api.registerClient(
                #"{"client_id":"acme-spa","name":"SPA","type":"public","resource_server":true}"#, key: superKey)
            #expect(publicOne.status == .badRequest)
            #expect(publicOne.error?.message.contains("Only a confidential client") == true)
        }
    }

    @Test func malformedRequestsGetInvalidRequest() async throws {
        try await Self.withWorld { world in
            let api = world.api
            let basic = ("acme-api", world.secret)
            let cases: [[(String, String)]] = [
                [],
                [("token", world.annKey), ("token", world.annKey)],
                [("token", world.annKey), ("client_secret", world.secret)],
                [("token", world.annKey), ("client_id", "someone-else")],
            ]
            for parameters in cases {
                let answer = try await api.form("/oauth/introspect", parameters, basic: basic)
                #expect(answer.status == .badRequest, "\(parameters.map(\.0))")
                #expect(answer.json["error"] as? String == "invalid_request")
            }
            var headers: HTTPFields = [.contentType: "application/json"]
            headers[.authorization] = "Basic " + Data("acme-api:\(world.secret)".utf8).base64EncodedString()
            let json = try await api.client.execute(
                uri: "/oauth/introspect", method: .post, headers: headers, body: .init(string: #"{"token":"x"}"#)
            ) { response in response.status }
            #expect(json == .badRequest)
        }
    }
}
