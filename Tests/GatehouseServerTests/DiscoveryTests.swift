import Crypto
import CryptoExtras
import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// Metadata (RFC 8414, OIDC Discovery), the JWKS and signing-key rotation, userinfo and revocation.
@Suite("Discovery, keys, userinfo and revocation")
struct DiscoveryTests {
    @Test func bothMetadataDocumentsNameEveryEndpoint() async throws {
        try await OAuthWorld.run { world in
            let oauth = try await world.api.call(.get, "/.well-known/oauth-authorization-server", key: nil)
            let oidc = try await world.api.call(.get, "/.well-known/openid-configuration", key: nil)
            #expect(oauth.body == oidc.body)
            let issuer = OAuthWorld.issuer
            #expect(oauth.string("issuer") == issuer)
            #expect(oauth.string("authorization_endpoint") == issuer + "/oauth/authorize")
            #expect(oauth.string("token_endpoint") == issuer + "/oauth/token")
            #expect(oauth.string("revocation_endpoint") == issuer + "/oauth/revoke")
            #expect(oauth.string("introspection_endpoint") == issuer + "/oauth/introspect")
            #expect(oauth.string("userinfo_endpoint") == issuer + "/oauth/userinfo")
            #expect(oauth.string("jwks_uri") == issuer + "/oauth/jwks")
            #expect(oauth.json["response_types_supported"] as? [String] == ["code"])
            #expect(oauth.json["code_challenge_methods_supported"] as? [String] == ["S256"])
            #expect(
                oauth.json["grant_types_supported"] as? [String]
                    == [
                        "authorization_code", "client_credentials", "refresh_token",
                        "urn:ietf:params:oauth:grant-type:device_code",
                    ])
            #expect(oauth.string("registration_endpoint") == issuer + "/oauth/register")
            #expect(oauth.string("device_authorization_endpoint") == issuer + "/oauth/device_authorization")
            #expect(oauth.json["client_id_metadata_document_supported"] as? Bool == true)
            #expect(
                oauth.json["token_endpoint_auth_methods_supported"] as? [String]
                    == ["client_secret_basic", "client_secret_post", "none"])
            #expect(oauth.json["authorization_response_iss_parameter_supported"] as? Bool == true)
            #expect((oauth.json["scopes_supported"] as? [String])?.contains("openid") == true)
            // RS256 is what the OpenID Connect libraries (and the conformance suite's Config OP plan) insist on.
            #expect(oauth.json["id_token_signing_alg_values_supported"] as? [String] == ["RS256", "ES256"])
        }
    }

    @Test func theJWKSPublishesTheKeyThatVerifiesTokens() async throws {
        try await OAuthWorld.run { world in
            let access = try #require(try await world.tokens().string("access_token"))
            let jwks = try await world.api.call(.get, "/oauth/jwks", key: nil)
            #expect(jwks.headers[.contentType] == "application/jwk-set+json")
            let keys = try #require(jwks.json["keys"] as? [[String: String]])
            #expect(keys.count == 2)
            let key = try #require(keys.first { $0["kty"] == "EC" })
            #expect(key["kty"] == "EC" && key["crv"] == "P-256" && key["alg"] == "ES256" && key["use"] == "sig")
            #expect(key["d"] == nil)
            let parts = access.split(separator: ".").map(String.init)
            let headerData = try #require(Data(base64URLEncoded: parts[0]))
            let header = try #require(try JSONSerialization.jsonObject(with: headerData) as? [String: Any])
            #expect(header["typ"] as? String == "at+jwt")
            #expect(header["alg"] as? String == "ES256")
            #expect(header["kid"] as? String == key["kid"])
            // Verify the signature with nothing but the published coordinates.
            let x = try #require(key["x"].flatMap { Data(base64URLEncoded: $0) })
            let y = try #require(key["y"].flatMap { Data(base64URLEncoded: $0) })
            let publicKey = try P256.Signing.PublicKey(x963Representation: Data([4]) + x + y)
            let signatureData = try #require(Data(base64URLEncoded: parts[2]))
            let signature = try P256.Signing.ECDSASignature(rawRepresentation: signatureData)
            #expect(publicKey.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])".utf8)))
            let claimsData = try #require(Data(base64URLEncoded: parts[1]))
            let claims = try #require(try JSONSerialization.jsonObject(with: claimsData) as? [String: Any])
            #expect(claims["iss"] as? String == OAuthWorld.issuer)
            #expect(claims["aud"] as? String == OAuthWorld.issuer)
            #expect(claims["sub"] as? String == "\(world.ann.id)")
            #expect(claims["client_id"] as? String == "acme-spa")
            #expect(claims["scope"] as? String == "openid profile")
            #expect(claims["workspace_id"] as? String == "\(world.workspace.id)")
            #expect(claims["iat"] as? Int == 1_790_000_000)
            #expect(claims["exp"] as? Int == 1_790_000_900)
            #expect(claims["gty"] == nil, "a user's token is stored, and says nothing of a client's own")
            #expect((claims["jti"] as? String)?.isEmpty == false)
        }
    }

    @Test func theJWKSPublishesAnRSAKeyThatVerifiesIDTokens() async throws {
        try await OAuthWorld.run { world in
            // A client that names no algorithm gets RS256 ID tokens (OIDC Dynamic Client Registration §2).
            let idToken = try #require(try await world.tokens().string("id_token"))
            let keys = try #require(
                try await world.api.call(.get, "/oauth/jwks", key: nil).json["keys"] as? [[String: String]])
            let key = try #require(keys.first { $0["kty"] == "RSA" })
            #expect(key["alg"] == "RS256" && key["use"] == "sig" && key["e"] == "AQAB")
            #expect(key["d"] == nil && key["p"] == nil && key["q"] == nil)
            let parts = idToken.split(separator: ".").map(String.init)
            let headerData = try #require(Data(base64URLEncoded: parts[0]))
            let header = try #require(try JSONSerialization.jsonObject(with: headerData) as? [String: Any])
            #expect(header["alg"] as? String == "RS256" && header["kid"] as? String == key["kid"])
            // Verify the signature with nothing but the published modulus and exponent.
            let n = try #require(key["n"].flatMap { Data(base64URLEncoded: $0) })
            let e = try #require(key["e"].flatMap { Data(base64URLEncoded: $0) })
            #expect(n.count == 256 && n.first != 0, "2048 bits, without a leading zero octet (RFC 7518 §6.3.1.1)")
            let publicKey = try _RSA.Signing.PublicKey(n: n, e: e)
            let signature = _RSA.Signing.RSASignature(rawRepresentation: try #require(Data(base64URLEncoded: parts[2])))
            #expect(
                publicKey.isValidSignature(
                    signature, for: SHA256.hash(data: Data("\(parts[0]).\(parts[1])".utf8)),
                    padding: .insecurePKCS1v1_5))
        }
    }

    @Test func aClientThatAsksForES256GetsES256IDTokens() async throws {
        try await OAuthWorld.run { world in
            let (_, admin) = try await world.api.key(for: world.owner)
            let changed = try await world.api.call(
                .patch, "/api/v1/clients/acme-spa", key: admin, json: #"{"id_token_signed_response_alg":"ES256"}"#)
            #expect(changed.status == .ok)
            #expect(changed.string("id_token_signed_response_alg") == "ES256")
            let idToken = try #require(try await world.tokens().string("id_token"))
            let header = try #require(Data(base64URLEncoded: String(idToken.split(separator: ".")[0])))
            #expect((try JSONSerialization.jsonObject(with: header) as? [String: Any])?["alg"] as? String == "ES256")
            let refused = try await world.api.call(
                .patch, "/api/v1/clients/acme-spa", key: admin, json: #"{"id_token_signed_response_alg":"HS256"}"#)
            #expect(refused.status == .badRequest)
            #expect(refused.string("error") == "bad_request")
            #expect(refused.string("message")?.contains("RS256 or ES256") == true)
        }
    }

    @Test func anOperatorMaySignAccessTokensWithRS256AndTokensOfBothAlgorithmsWork() async throws {
        // The same store under two configurations, one after the other, as an operator changing the setting.
        try await OAuthWorld.run(configure: { $0.oauth.accessTokenAlgorithm = .rs256 }) { world in
            let machine = try await world.api.form(
                "/oauth/token", [("grant_type", "client_credentials"), ("scope", "clients:read")],
                basic: ("acme-web", world.secret))
            let rs256 = try #require(machine.string("access_token"))
            let headerData = try #require(Data(base64URLEncoded: String(rs256.split(separator: ".")[0])))
            let header = try #require(try JSONSerialization.jsonObject(with: headerData) as? [String: Any])
            #expect(header["alg"] as? String == "RS256" && header["typ"] as? String == "at+jwt")
            #expect(try await world.api.call(.get, "/api/v1/clients", key: rs256).status == .ok)
            #expect(try await world.isActive(rs256))
            // A user's token too, and an ES256 one (as issued before the change) keeps working beside it.
            let user = try #require(try await world.tokens().string("access_token"))
            #expect(try Self.part(user, 0)["alg"] as? String == "RS256")
            #expect(try await world.api.call(.get, "/api/v1/me", key: user).status == .ok)
            let ring = SigningKeyRing(
                store: world.api.store, secret: sharedSigningKeySecret, clock: world.api.clock, tokenLifetime: 900)
            var claims = try Self.accessClaims(of: rs256)
            claims.jti = UUID().uuidString.lowercased()
            let es256 = try await ring.sign(claims, type: "at+jwt", algorithm: .es256)
            #expect(try Self.part(es256, 0)["alg"] as? String == "ES256")
            #expect(try await world.api.call(.get, "/api/v1/clients", key: es256).status == .ok)
            _ = try await world.api.form("/oauth/revoke", [("token", rs256)], basic: ("acme-web", world.secret))
            #expect(try await world.isActive(rs256) == false)
        }
    }

    static func part(_ token: String, _ index: Int) throws -> [String: Any] {
        let data = try #require(Data(base64URLEncoded: String(token.split(separator: ".")[index])))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func accessClaims(of token: String) throws -> AccessTokenClaims {
        let data = try #require(Data(base64URLEncoded: String(token.split(separator: ".")[1])))
        return try JSONDecoder().decode(AccessTokenClaims.self, from: data)
    }

    @Test func aRotatedKeyStaysPublishedUntilItsTokensHaveExpired() async throws {
        try await OAuthWorld.run { world in
            let before = try await world.tokens()
            let old = try #require(before.string("access_token"))
            let oldIDToken = try #require(before.string("id_token"))
            let keys = SigningKeys(store: world.api.store, secret: sharedSigningKeySecret, clock: world.api.clock)
            world.api.clock.advance(by: 1)
            let new = Set(try await keys.rotate().map(\.kid))
            #expect(new.count == 2)
            // Servers pick the new keys up within the refresh interval.
            world.api.clock.advance(by: SigningKeyRing.refreshInterval)
            let kids = try await Self.kids(world)
            #expect(kids.count == 4 && Set(kids.suffix(2)) == new)
            let after = try await world.tokens()
            let fresh = try #require(after.string("access_token"))
            let freshIDToken = try #require(after.string("id_token"))
            let freshKids = [try Self.kid(of: fresh), try Self.kid(of: freshIDToken)]
            #expect(freshKids.allSatisfy { $0.map(new.contains) == true }, "both new keys sign")
            let oldKid = try #require(try Self.kid(of: oldIDToken))
            #expect(!new.contains(oldKid))
            #expect(try await world.api.call(.get, "/api/v1/me", key: old).status == .ok)
            // After the old keys' last tokens have expired (plus the refresh interval), they are gone.
            world.api.clock.advance(by: 900)
            #expect(Set(try await Self.kids(world)) == new)
            #expect(try await world.api.call(.get, "/api/v1/me", key: fresh).status == .unauthorized)
        }
    }

    @Test func aTokenSignedByAnotherKeyOrWithAnotherTypeIsRefused() async throws {
        try await OAuthWorld.run { world in
            let tokens = try await world.tokens()
            let access = try #require(tokens.string("access_token"))
            let parts = access.split(separator: ".").map(String.init)
            // Same header and claims, a signature by a stranger's key.
            let stranger = P256.Signing.PrivateKey()
            let forged = try stranger.signature(for: Data("\(parts[0]).\(parts[1])".utf8))
            let forgery = "\(parts[0]).\(parts[1]).\(forged.rawRepresentation.base64URLEncodedString())"
            #expect(try await world.api.call(.get, "/api/v1/me", key: forgery).status == .unauthorized)
            // alg none.
            let none = Data(#"{"alg":"none","typ":"at+jwt"}"#.utf8).base64URLEncodedString()
            #expect(try await world.api.call(.get, "/api/v1/me", key: "\(none).\(parts[1]).").status == .unauthorized)
            // The ID token is signed by the same key but is not an access token.
            let idToken = try #require(tokens.string("id_token"))
            #expect(try await world.api.call(.get, "/api/v1/me", key: idToken).status == .unauthorized)
            #expect(try await world.isActive(idToken) == false)
        }
    }

    @Test func userinfoAnswersByScopeAndNeedsOpenID() async throws {
        try await OAuthWorld.run { world in
            let full = try #require(try await world.tokens(scope: "openid profile email").string("access_token"))
            let info = try await world.api.call(.get, "/oauth/userinfo", key: full)
            #expect(info.status == .ok)
            #expect(info.string("sub") == "\(world.ann.id)")
            #expect(info.string("email") == "ann@acme.test")
            #expect(info.string("name") == "Test User")
            #expect(try await world.api.call(.post, "/oauth/userinfo", key: full).status == .ok)
            let narrow = try #require(try await world.tokens(scope: "openid").string("access_token"))
            let minimal = try await world.api.call(.get, "/oauth/userinfo", key: narrow)
            #expect(minimal.json["email"] == nil && minimal.json["name"] == nil)
            let noOpenID = try #require(try await world.tokens(scope: "profile").string("access_token"))
            let forbidden = try await world.api.call(.get, "/oauth/userinfo", key: noOpenID)
            #expect(forbidden.status == .forbidden)
            #expect(forbidden.headers[.wwwAuthenticate]?.contains(#"error="insufficient_scope""#) == true)
            let invalid = try await world.api.call(.get, "/oauth/userinfo", key: "eyJ.garbage.x")
            #expect(invalid.status == .unauthorized)
            #expect(invalid.headers[.wwwAuthenticate]?.contains(#"error="invalid_token""#) == true)
            #expect(try await world.api.call(.get, "/oauth/userinfo", key: nil).status == .unauthorized)
        }
    }

    @Test func userinfoTakesTheTokenInAFormBodyButNotTwice() async throws {
        try await OAuthWorld.run { world in
            let token = try #require(try await world.tokens(scope: "openid email").string("access_token"))
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            // RFC 6750 §2.2: the token as the access_token of a form-encoded POST body.
            let inBody = try await world.api.send(
                .post, "/oauth/userinfo", headers: form, body: "access_token=\(token)")
            #expect(inBody.status == .ok)
            #expect(inBody.string("email") == "ann@acme.test")
            let wrong = try await world.api.send(.post, "/oauth/userinfo", headers: form, body: "access_token=nope")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.headers[.wwwAuthenticate]?.contains(#"error="invalid_token""#) == true)
            // Never by two methods at once (RFC 6750 §2).
            var both = form
            both[.authorization] = "Bearer \(token)"
            let twice = try await world.api.send(.post, "/oauth/userinfo", headers: both, body: "access_token=\(token)")
            #expect(twice.status == .badRequest)
            #expect(twice.json["error"] as? String == "invalid_request")
            // A form without access_token is no credential.
            let empty = try await world.api.send(.post, "/oauth/userinfo", headers: form, body: "x=1")
            #expect(empty.status == .unauthorized)
            #expect(empty.json["error"] as? String == "invalid_request")
        }
    }

    @Test func revokingAnAccessTokenOrARefreshTokenStopsIt() async throws {
        try await OAuthWorld.run { world in
            let tokens = try await world.tokens()
            let access = try #require(tokens.string("access_token"))
            let refresh = try #require(tokens.string("refresh_token"))
            // Another client cannot revoke them.
            let other = try await world.api.form(
                "/oauth/revoke", [("token", access)], basic: ("acme-web", world.secret))
            #expect(other.status == .ok)
            #expect(try await world.isActive(access))
            let revoked = try await world.api.form("/oauth/revoke", [("token", access), ("client_id", "acme-spa")])
            #expect(revoked.status == .ok)
            #expect(try await world.isActive(access) == false)
            #expect(try await world.isActive(refresh))
            _ = try await world.api.form(
                "/oauth/revoke",
                [("token", refresh), ("token_type_hint", "refresh_token"), ("client_id", "acme-spa")])
            #expect(try await world.isActive(refresh) == false)
            #expect(try await world.refresh(refresh).json["error"] as? String == "invalid_grant")
            let missing = try await world.api.form("/oauth/revoke", [("client_id", "acme-spa")])
            #expect(missing.json["error"] as? String == "invalid_request")
            let unauthenticated = try await world.api.form("/oauth/revoke", [("token", refresh)])
            #expect(unauthenticated.status == .unauthorized)
        }
    }

    @Test func introspectionDescribesTokensOnlyInTheirOwnWorkspace() async throws {
        try await OAuthWorld.run { world in
            let tokens = try await world.tokens()
            let access = try #require(tokens.string("access_token"))
            let described = try await world.api.form(
                "/oauth/introspect", [("token", access)], basic: ("acme-web", world.secret))
            #expect(described.json["active"] as? Bool == true)
            #expect(described.string("token_type") == "Bearer")
            #expect(described.string("scope") == "openid profile")
            #expect(described.string("client_id") == "acme-spa")
            #expect(described.string("sub") == "\(world.ann.id)")
            #expect(described.string("iss") == OAuthWorld.issuer)
            #expect(described.json["exp"] as? Int == 1_790_000_900)
            let refresh = try await world.api.form(
                "/oauth/introspect", [("token", try #require(tokens.string("refresh_token")))],
                basic: ("acme-web", world.secret))
            #expect(refresh.string("token_type") == "refresh_token")
            let (globex, _) = try await world.api.workspace("globex")
            let (outsider, secret) = try Fixture.client("globex-api", in: globex)
            try await world.api.store.apply(
                .insertClient(outsider),
                recording: AuditEvent(
                    workspaceID: globex.id, actor: .commandLine, action: "client.created", targetKind: "client",
                    targetID: "globex-api", address: nil, occurredAt: Fixture.epoch))
            let foreign = try await world.api.form(
                "/oauth/introspect", [("token", access)], basic: ("globex-api", try #require(secret?.value)))
            #expect(foreign.text == #"{"active":false}"#)
        }
    }

    static func kids(_ world: OAuthWorld) async throws -> [String] {
        let jwks = try await world.api.call(.get, "/oauth/jwks", key: nil)
        return (jwks.json["keys"] as? [[String: String]] ?? []).compactMap { $0["kid"] }
    }

    static func kid(of token: String) throws -> String? {
        let header = try #require(Data(base64URLEncoded: String(token.split(separator: ".")[0])))
        return (try JSONSerialization.jsonObject(with: header) as? [String: Any])?["kid"] as? String
    }
}
