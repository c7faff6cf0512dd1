import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// Resource indicators (RFC 8707) and protected resource metadata (RFC 9728): tokens for a registered API carry
/// its identifier as `aud`, only its scopes and its lifetime, and no other API takes them.
@Suite("Resource indicators")
struct ResourceIndicatorTests {
    static let okrs = "https://okrs.example.com/api"

    /// Defines `okrs:read` for users, lets `acme-spa` ask for it, and registers the OKR API with it, through the
    /// admin API as the workspace's super admin. Returns the owner's key.
    static func registerOKRs(_ world: OAuthWorld, lifetime: Int? = 300) async throws -> String {
        let (_, key) = try await world.api.key(for: world.owner)
        let defined = try await world.api.call(
            .post, "/api/v1/scopes", key: key, json: #"{"name":"okrs:read","description":"Read OKRs","roles":["user"]}"#
        )
        #expect(defined.status == .created)
        let scopes = #"{"scopes":["openid","profile","users:read","okrs:read"]}"#
        #expect(try await world.api.call(.patch, "/api/v1/clients/acme-spa", key: key, json: scopes).status == .ok)
        let lifetimeField = lifetime.map { #","access_token_lifetime":\#($0)"# } ?? ""
        let registered = try await world.api.call(
            .post, "/api/v1/resources", key: key,
            json: #"{"identifier":"\#(okrs)","name":"OKR API","scopes":["okrs:read"]\#(lifetimeField)}"#)
        #expect(registered.status == .created, "\(registered.text)")
        #expect(registered.string("identifier") == okrs)
        return key
    }

    @Test func aTokenForARegisteredAPICarriesItsAudienceScopesAndLifetime() async throws {
        try await OAuthWorld.run { world in
            _ = try await Self.registerOKRs(world)
            let query = OAuthWorld.authorizeQuery(
                scope: "openid okrs:read users:read", extra: [("resource", Self.okrs)])
            let answer = try await world.exchange(try await world.code(query))
            #expect(answer.status == .ok, "\(answer.text)")
            #expect(answer.string("scope") == "okrs:read")
            #expect(answer.json["expires_in"] as? Int == 300)
            let access = try #require(answer.string("access_token"))
            let claims = try OpenIDBasicTests.claims(of: access)
            #expect(claims["aud"] as? String == Self.okrs)
            #expect(claims["scope"] as? String == "okrs:read")
            // The ID token is for the app, as ever, and the grant keeps every scope the user allowed.
            #expect(
                try OpenIDBasicTests.claims(of: try #require(answer.string("id_token")))["aud"] as? String == "acme-spa"
            )

            // Gatehouse's own API refuses a token for another API, and says where to learn what it takes.
            let me = try await world.api.call(.get, "/api/v1/me", key: access)
            #expect(me.status == .unauthorized)
            let challenge = try #require(me.headers[.wwwAuthenticate])
            #expect(challenge.contains(#"resource_metadata="http://127.0.0.1:0/.well-known/oauth-protected-resource""#))

            // The API itself learns of it by introspection, with its audience.
            let introspected = try await world.api.form(
                "/oauth/introspect", [("token", access)], basic: ("acme-web", world.secret))
            #expect(introspected.json["active"] as? Bool == true)
            #expect(introspected.string("aud") == Self.okrs)

            // A refresh stays with the API the grant is for; naming another is invalid_target.
            let refresh = try #require(answer.string("refresh_token"))
            let elsewhere = try await world.api.form(
                "/oauth/token",
                [
                    ("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", "acme-spa"),
                    ("resource", "https://other.example.com"),
                ])
            #expect(elsewhere.status == .badRequest)
            #expect(elsewhere.string("error") == "invalid_target")
            let refreshed = try await world.api.form(
                "/oauth/token",
                [
                    ("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", "acme-spa"),
                    ("resource", Self.okrs),
                ])
            #expect(refreshed.status == .ok, "\(refreshed.text)")
            let again = try OpenIDBasicTests.claims(of: try #require(refreshed.string("access_token")))
            #expect(again["aud"] as? String == Self.okrs)
        }
    }

    @Test func withoutAResourceTokensAreForGatehousesOwnAPI() async throws {
        try await OAuthWorld.run { world in
            _ = try await Self.registerOKRs(world)
            let answer = try await world.exchange(
                try await world.code(OAuthWorld.authorizeQuery(scope: "openid profile users:read")))
            let access = try #require(answer.string("access_token"))
            #expect(try OpenIDBasicTests.claims(of: access)["aud"] as? String == OAuthWorld.issuer)
            #expect(answer.json["expires_in"] as? Int == 900)
            #expect(try await world.api.call(.get, "/api/v1/me", key: access).status == .ok)
            // Naming Gatehouse's own API is the same as naming none.
            let named = try await world.exchange(
                try await world.code(OAuthWorld.authorizeQuery(extra: [("resource", OAuthWorld.issuer)])))
            #expect(
                try OpenIDBasicTests.claims(of: try #require(named.string("access_token")))["aud"] as? String
                    == OAuthWorld.issuer)
        }
    }

    @Test func anUnknownOrMalformedResourceIsInvalidTarget() async throws {
        try await OAuthWorld.run { world in
            _ = try await Self.registerOKRs(world)
            let browser = try await world.signedIn()
            for resource in ["https://unknown.example.com", "not a uri", "https://okrs.example.com/api#frag"] {
                let answer = try await browser.get(
                    "/oauth/authorize", OAuthWorld.authorizeQuery(extra: [("resource", resource)]))
                #expect(answer.status == .found || answer.status == .seeOther, "\(resource)")
                #expect(answer.redirectParameters["error"] == "invalid_target", "\(resource)")
                #expect(answer.redirectParameters["state"] == "xyz")
            }
            // The token request must name the resource the code was issued for, if it names one.
            let code = try await world.code(OAuthWorld.authorizeQuery(extra: [("resource", Self.okrs)]))
            var form = [
                ("grant_type", "authorization_code"), ("code", code), ("client_id", "acme-spa"),
                ("redirect_uri", OAuthWorld.redirect), ("code_verifier", OAuthWorld.verifier),
            ]
            form.append(("resource", OAuthWorld.issuer))
            let mismatched = try await world.api.form("/oauth/token", form)
            #expect(mismatched.string("error") == "invalid_target")
        }
    }

    @Test func clientCredentialsMayNameAResourceToo() async throws {
        try await OAuthWorld.run { world in
            let key = try await Self.registerOKRs(world)
            let scopes =
                #"{"scopes":["clients:read","users:read","okrs:read"],"grant_types":["authorization_code","refresh_token","client_credentials"]}"#
            #expect(try await world.api.call(.patch, "/api/v1/clients/acme-web", key: key, json: scopes).status == .ok)
            let answer = try await world.api.form(
                "/oauth/token", [("grant_type", "client_credentials"), ("resource", Self.okrs)],
                basic: ("acme-web", world.secret))
            #expect(answer.status == .ok, "\(answer.text)")
            #expect(answer.string("scope") == "okrs:read")
            let claims = try OpenIDBasicTests.claims(of: try #require(answer.string("access_token")))
            #expect(claims["aud"] as? String == Self.okrs)
            let unknown = try await world.api.form(
                "/oauth/token", [("grant_type", "client_credentials"), ("resource", "https://nope.example.com")],
                basic: ("acme-web", world.secret))
            #expect(unknown.string("error") == "invalid_target")
        }
    }

    @Test func aRemovedResourceGetsNoMoreTokens() async throws {
        try await OAuthWorld.run { world in
            let key = try await Self.registerOKRs(world)
            let answer = try await world.exchange(
                try await world.code(OAuthWorld.authorizeQuery(extra: [("resource", Self.okrs)])))
            let listed = try await world.api.call(.get, "/api/v1/resources", key: key)
            let id = try #require(listed.items("resources").first?["id"] as? String)
            #expect(try await world.api.call(.delete, "/api/v1/resources/\(id)", key: key).status == .noContent)
            #expect(try await world.api.call(.get, "/api/v1/resources/\(id)", key: key).status == .notFound)
            let refreshed = try await world.refresh(try #require(answer.string("refresh_token")))
            #expect(refreshed.string("error") == "invalid_target")
            let events = try await world.api.call(.get, "/api/v1/audit-events?action=resource.deleted", key: key)
            #expect(events.items("audit_events").count == 1)
        }
    }

    @Test func registeringAResourceIsCheckedAndNeedsClientsWrite() async throws {
        try await OAuthWorld.run { world in
            let (_, owner) = try await world.api.key(for: world.owner)
            let (_, ann) = try await world.api.key(for: world.ann)
            let body = #"{"identifier":"https://a.example.com","name":"A"}"#
            let refused = try await world.api.call(.post, "/api/v1/resources", key: ann, json: body)
            #expect(refused.status == .forbidden)
            for (json, field) in [
                (#"{"identifier":"http://a.example.com","name":"A"}"#, "https URI"),
                (#"{"identifier":"https://a.example.com","name":"A","scopes":["nope:read"]}"#, "no scope 'nope:read'"),
                (#"{"identifier":"https://a.example.com","name":"A","access_token_lifetime":5}"#, "lifetime must be"),
            ] {
                let answer = try await world.api.call(.post, "/api/v1/resources", key: owner, json: json)
                #expect(answer.status == .badRequest, "\(json)")
                #expect(answer.text.contains(field), "\(answer.text)")
            }
            #expect(try await world.api.call(.post, "/api/v1/resources", key: owner, json: body).status == .created)
            #expect(try await world.api.call(.post, "/api/v1/resources", key: owner, json: body).status == .conflict)
            let own = #"{"identifier":"\#(OAuthWorld.issuer)","name":"Us"}"#
            #expect(try await world.api.call(.post, "/api/v1/resources", key: owner, json: own).status == .conflict)
        }
    }

    @Test func theProtectedResourceMetadataDescribesGatehousesAPI() async throws {
        try await OAuthWorld.run { world in
            let answer = try await world.api.call(.get, "/.well-known/oauth-protected-resource", key: nil)
            #expect(answer.status == .ok)
            #expect(answer.string("resource") == OAuthWorld.issuer)
            #expect(answer.json["authorization_servers"] as? [String] == [OAuthWorld.issuer])
            #expect(answer.json["bearer_methods_supported"] as? [String] == ["header"])
            #expect((answer.json["scopes_supported"] as? [String])?.contains("users:read") == true)
            // A request without a credential is challenged with the metadata's address too.
            let bare = try await world.api.call(.get, "/api/v1/me", key: nil)
            #expect(bare.headers[.wwwAuthenticate]?.contains("resource_metadata=") == true)
        }
    }

    @Test func anIssuerWithAPathServesItsWellKnownDocumentsAtBothPlaces() async throws {
        try await OAuthWorld.run(configure: {
            $0.issuer = URL(string: "https://id.example.com/tenant")!
            $0.oauth.issuer = "https://id.example.com/tenant"
        }) { world in
            for path in [
                "/.well-known/oauth-authorization-server/tenant", "/.well-known/oauth-authorization-server",
                "/.well-known/openid-configuration",
            ] {
                let answer = try await world.api.call(.get, path, key: nil)
                #expect(answer.string("issuer") == "https://id.example.com/tenant", "\(path)")
            }
            let resource = try await world.api.call(.get, "/.well-known/oauth-protected-resource/tenant", key: nil)
            #expect(resource.string("resource") == "https://id.example.com/tenant")
            let bare = try await world.api.call(.get, "/api/v1/me", key: nil)
            #expect(
                bare.headers[.wwwAuthenticate]?.contains(
                    #"resource_metadata="https://id.example.com/.well-known/oauth-protected-resource/tenant""#) == true)
        }
    }
}
