import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import GatehouseServer

/// Which credentials `/api/v1` accepts, and the one answer it gives every refused one.
@Suite("Bearer authentication")
struct BearerAuthenticationTests {
    static let refusal = ErrorBody(
        error: "unauthorized",
        message: "The request needs a valid API key or access token, sent as 'Authorization: Bearer <credential>'.")

    @Test func missingMalformedUnknownAndMistypedCredentialsGetOneAnswer() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, key) = try await api.key(for: owner)
            var typo = Array(key)
            typo[12] = typo[12] == "Q" ? "R" : "Q"
            let unknown = PlaintextKey.generate(prefix: .standard).value
            for credential in [nil, "", "not-a-key", String(typo), unknown] {
                let response = try await api.call(.get, "/api/v1/me", key: credential)
                #expect(response.status == .unauthorized)
                #expect(response.error == Self.refusal)
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix(#"Bearer realm="gatehouse""#) == true)
                #expect(response.headers[.cacheControl] == "no-store")
            }
            let basic = try await api.client.execute(
                uri: "/api/v1/me", method: .get, headers: [.authorization: "Basic \(key)"]
            ) { $0.status }
            #expect(basic == .unauthorized)
        }
    }

    @Test func theCredentialIsReadFromTheHeaderWithTheSchemeInAnyCase() {
        let read = BearerAuthenticator.bearerCredential
        #expect(read("Bearer gate_abc") == "gate_abc")
        #expect(read("bearer gate_abc") == "gate_abc")
        #expect(read("BEARER   gate_abc \t ") == "gate_abc")
        #expect(read("BeArEr eyJ.a-b_c.d~e+f/g=") == "eyJ.a-b_c.d~e+f/g=")
        for refused in [
            "", "Bearer", "Bearer ", "Bearer   ", "Bearergate_abc", "Bearer\tgate_abc", "Basic gate_abc",
            "Bearr gate_abc", "Bearer2 gate_abc", "Béarer gate_abc",
        ] {
            #expect(read(refused) == nil, "\(refused)")
        }
    }

    @Test func theSchemeIsCaseInsensitive() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, key) = try await api.key(for: owner)
            let status = try await api.client.execute(
                uri: "/api/v1/me", method: .get, headers: [.authorization: "bearer \(key)"]
            ) { $0.status }
            #expect(status == .ok)
        }
    }

    @Test func revokingRefusesTheVeryNextRequestAndReactivatingRestoresIt() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let ann = try await api.user("ann@acme.test", in: acme)
            let (annKey, key) = try await api.key(for: ann)
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .ok)

            let revoked = try await api.call(.post, "/api/v1/api-keys/\(annKey.id)/revoke", key: admin)
            #expect(revoked.status == .ok)
            #expect(revoked.string("status") == "revoked")
            let refused = try await api.call(.get, "/api/v1/me", key: key)
            #expect(refused.status == .unauthorized)
            #expect(refused.error == Self.refusal)

            #expect(try await api.call(.post, "/api/v1/api-keys/\(annKey.id)/reactivate", key: admin).status == .ok)
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .ok)
        }
    }

    @Test func aDeactivatedUsersKeysAreRefusedUntilTheyAreActiveAgain() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let ann = try await api.user("ann@acme.test", in: acme)
            let (_, key) = try await api.key(for: ann)

            let off = try await api.call(.patch, "/api/v1/users/\(ann.id)", key: admin, json: #"{"active": false}"#)
            #expect(off.status == .ok)
            let refused = try await api.call(.get, "/api/v1/me", key: key)
            #expect(refused.status == .unauthorized)
            #expect(refused.error?.error == "unauthorized")
            #expect(refused.error?.message.contains("deactivated") == true)

            _ = try await api.call(.patch, "/api/v1/users/\(ann.id)", key: admin, json: #"{"active": true}"#)
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .ok)
        }
    }

    @Test func aUserWhoHasNotAcceptedThePrivacyNoticeIsToldHowTo() async throws {
        try await withAPI { api in
            let (acme, _) = try await api.workspace()
            let ann = try await api.user("ann@acme.test", in: acme, acceptedPrivacyNotice: false)
            let (_, key) = try await api.key(for: ann)
            let refused = try await api.call(.get, "/api/v1/me", key: key)
            #expect(refused.status == .forbidden)
            #expect(refused.error?.error == "privacy_notice_not_accepted")
            #expect(refused.error?.message.contains("sign in") == true)
            #expect(refused.error?.message.contains("accept") == true)

            var accepted = try await api.reload(ann)
            accepted.privacyNoticeAcceptedAt = api.clock.now()
            try await api.store.update(accepted)
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .ok)
        }
    }

    @Test func anExpiredKeyIsRefusedLikeAnUnknownOne() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, key) = try await api.key(for: owner, expiresAt: api.clock.now().addingTimeInterval(3600))
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .ok)
            api.clock.advance(by: 3600)
            let refused = try await api.call(.get, "/api/v1/me", key: key)
            #expect(refused.status == .unauthorized)
            #expect(refused.error == Self.refusal)
        }
    }

    @Test func anotherWorkspacesResourcesAreNotFound() async throws {
        try await withAPI { api in
            let (_, acmeOwner) = try await api.workspace("acme")
            let (_, acmeKey) = try await api.key(for: acmeOwner)
            let (globex, globexOwner) = try await api.workspace("globex")
            let bob = try await api.user("bob@globex.test", in: globex)
            let (bobKey, _) = try await api.key(for: bob)
            for (method, path) in [
                (HTTPRequest.Method.get, "/api/v1/users/\(bob.id)"),
                (.get, "/api/v1/users/\(globexOwner.id)/api-keys"),
                (.get, "/api/v1/api-keys/\(bobKey.id)"),
                (.post, "/api/v1/api-keys/\(bobKey.id)/revoke"),
                (.post, "/api/v1/api-keys/\(bobKey.id)/reactivate"),
            ] {
                let response = try await api.call(method, path, key: acmeKey)
                #expect(response.status == .notFound, "\(method) \(path)")
                #expect(response.error?.error == "not_found")
            }
            let patch = try await api.call(
                .patch, "/api/v1/users/\(bob.id)", key: acmeKey, json: #"{"name":"Mallory"}"#)
            #expect(patch.status == .notFound)
            let create = try await api.call(
                .post, "/api/v1/users/\(bob.id)/api-keys", key: acmeKey, json: #"{"name":"x"}"#)
            #expect(create.status == .notFound)
            let users = try await api.call(.get, "/api/v1/users", key: acmeKey)
            #expect(!users.text.contains("globex"))
            #expect(try await api.store.apiKey(id: bobKey.id)?.status == .active)
            #expect(try await api.reload(bob).name == "Test User")
        }
    }
}
