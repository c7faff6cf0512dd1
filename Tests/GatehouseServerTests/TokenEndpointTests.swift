import Crypto
import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// `POST /oauth/token` (RFC 6749 §4.1.3, §4.4, §5, §6; RFC 7636 §4.5; RFC 9700 §4.8.2, §4.14).
@Suite("Token endpoint")
struct TokenEndpointTests {
    @Test func aPublicClientExchangesItsCodeWithPKCE() async throws {
        try await OAuthWorld.run { world in
            let answer = try await world.exchange(try await world.code())
            #expect(answer.status == .ok)
            #expect(answer.headers[.cacheControl] == "no-store")
            #expect(answer.headers[HTTPField.Name("Pragma")!] == "no-cache")
            #expect(answer.string("token_type") == "Bearer")
            #expect(answer.json["expires_in"] as? Int == 900)
            #expect(answer.string("scope") == "openid profile")
            let refresh = try #require(answer.string("refresh_token"))
            #expect(refresh.count == 43)
            #expect(answer.string("id_token")?.split(separator: ".").count == 3)
            let me = try await world.api.call(.get, "/api/v1/me", key: try #require(answer.string("access_token")))
            #expect(me.status == .ok)
            #expect(me.string("email") == "ann@acme.test")
        }
    }

    @Test func theIDTokenCarriesTheHashOfItsAccessToken() async throws {
        try await OAuthWorld.run { world in
            let answer = try await world.exchange(try await world.code())
            let access = try #require(answer.string("access_token"))
            let idToken = try #require(answer.string("id_token"))
            // OIDC Core §3.3.2.11, computed here with Foundation's base64: the left half of the SHA-256 of the
            // access token's ASCII, base64url without padding.
            let expected = Data(SHA256.hash(data: Data(access.utf8)).prefix(16)).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            var payload = String(idToken.split(separator: ".")[1])
            payload = payload.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while payload.count % 4 != 0 { payload += "=" }
            let data = try #require(Data(base64Encoded: payload))
            let claims = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(claims["at_hash"] as? String == expected)
            #expect(expected.count == 22)
        }
    }

    @Test func aConfidentialClientAuthenticatesWithBasicOrPost() async throws {
        try await OAuthWorld.run { world in
            let query = OAuthWorld.authorizeQuery(client: "acme-web")
            let basic = try await world.exchange(try await world.code(query), client: "acme-web")
            #expect(basic.status == .ok)
            let code = try await world.code(query)
            let post = try await world.api.form(
                "/oauth/token",
                [
                    ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", OAuthWorld.redirect),
                    ("code_verifier", OAuthWorld.verifier), ("client_id", "acme-web"), ("client_secret", world.secret),
                ])
            #expect(post.status == .ok)
            let unauthenticated = try await world.exchange(try await world.code(query), client: "acme-spa")
            #expect(unauthenticated.json["error"] as? String == "invalid_grant")
        }
    }

    @Test func clientAuthenticationFailuresAre401WithABasicChallenge() async throws {
        try await OAuthWorld.run { world in
            let wrong = try await world.api.form(
                "/oauth/token", [("grant_type", "client_credentials")], basic: ("acme-web", "wrong"))
            #expect(wrong.status == .unauthorized)
            #expect(wrong.json["error"] as? String == "invalid_client")
            #expect(wrong.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
            #expect(wrong.headers[.cacheControl] == "no-store")
            let missing = try await world.api.form("/oauth/token", [("grant_type", "client_credentials")])
            #expect(missing.status == .unauthorized)
            let secretForPublic = try await world.api.form(
                "/oauth/token", [("grant_type", "authorization_code"), ("code", "x")], basic: ("acme-spa", "anything"))
            #expect(secretForPublic.json["error"] as? String == "invalid_client")
        }
    }

    @Test func grantTypeErrors() async throws {
        try await OAuthWorld.run { world in
            let none = try await world.api.form("/oauth/token", [("client_id", "acme-spa")])
            #expect(none.status == .badRequest)
            #expect(none.json["error"] as? String == "invalid_request")
            let unknown = try await world.api.form(
                "/oauth/token", [("grant_type", "password"), ("client_id", "acme-spa")])
            #expect(unknown.json["error"] as? String == "unsupported_grant_type")
            let unregistered = try await world.api.form(
                "/oauth/token", [("grant_type", "client_credentials"), ("client_id", "acme-spa")])
            #expect(unregistered.json["error"] as? String == "unauthorized_client")
            let json = try await world.api.call(.post, "/oauth/token", key: nil, json: #"{"grant_type":"x"}"#)
            #expect(json.json["error"] as? String == "invalid_request")
        }
    }

    @Test func aReplayedCodeFailsAndRevokesWhatItIssued() async throws {
        try await OAuthWorld.run { world in
            let code = try await world.code()
            let first = try await world.exchange(code)
            let access = try #require(first.string("access_token"))
            let refresh = try #require(first.string("refresh_token"))
            #expect(try await world.isActive(access))
            let second = try await world.exchange(code)
            #expect(second.status == .badRequest)
            #expect(second.json["error"] as? String == "invalid_grant")
            #expect(second.string("error_description")?.contains("already used") == true)
            #expect(try await world.isActive(access) == false)
            #expect(try await world.api.call(.get, "/api/v1/me", key: access).status == .unauthorized)
            #expect(try await world.refresh(refresh).json["error"] as? String == "invalid_grant")
        }
    }

    @Test func aCodeIsBoundToItsVerifierRedirectURIAndClientAndLivesSixtySeconds() async throws {
        try await OAuthWorld.run { world in
            let code = try await world.code()
            let mismatch = try await world.exchange(code, verifier: String(repeating: "a", count: 43))
            #expect(mismatch.json["error"] as? String == "invalid_grant")
            #expect(mismatch.string("error_description")?.contains("code_verifier does not match") == true)
            let missing = try await world.exchange(code, verifier: nil)
            #expect(missing.string("error_description")?.contains("code_verifier is required") == true)
            let tampered = try await world.exchange(code, redirectURI: "https://app.example.com/other")
            #expect(tampered.string("error_description")?.contains("redirect_uri does not match") == true)
            let omitted = try await world.exchange(code, redirectURI: nil)
            #expect(omitted.json["error"] as? String == "invalid_grant")
            let otherClient = try await world.exchange(code, client: "acme-web")
            #expect(otherClient.json["error"] as? String == "invalid_grant")
            // None of those consumed it.
            #expect(try await world.exchange(code).status == .ok)
            let late = try await world.code()
            world.api.clock.advance(by: 61)
            let expired = try await world.exchange(late)
            #expect(expired.string("error_description")?.contains("expired") == true)
        }
    }

    @Test func aVerifierForACodeIssuedWithoutAChallengeIsADowngrade() async throws {
        try await OAuthWorld.run { world in
            var web = try #require(try await world.api.store.client(id: try ClientID("acme-web")))
            web.requirePKCE = false
            try await world.api.store.apply(
                .updateClient(web),
                recording: AuditEvent(
                    workspaceID: web.workspaceID, actor: .commandLine, action: "client.updated", targetKind: "client",
                    targetID: "acme-web", address: nil, occurredAt: Fixture.epoch))
            let code = try await world.code(OAuthWorld.authorizeQuery(client: "acme-web", verifier: nil))
            let downgrade = try await world.exchange(code, client: "acme-web", verifier: OAuthWorld.verifier)
            #expect(downgrade.json["error"] as? String == "invalid_grant")
            #expect(downgrade.string("error_description")?.contains("without a code_challenge") == true)
        }
    }

    @Test func refreshRotatesAndAReusedTokenRevokesTheFamily() async throws {
        try await OAuthWorld.run { world in
            let first = try await world.tokens()
            let original = try #require(first.string("refresh_token"))
            let rotated = try await world.refresh(original)
            #expect(rotated.status == .ok)
            let next = try #require(rotated.string("refresh_token"))
            #expect(next != original)
            let nextAccess = try #require(rotated.string("access_token"))
            #expect(rotated.string("id_token") != nil)
            let reuse = try await world.refresh(original)
            #expect(reuse.json["error"] as? String == "invalid_grant")
            #expect(reuse.string("error_description")?.contains("every token of its grant is revoked") == true)
            #expect(try await world.refresh(next).json["error"] as? String == "invalid_grant")
            #expect(try await world.isActive(nextAccess) == false)
            #expect(try await world.isActive(try #require(first.string("access_token"))) == false)
        }
    }

    @Test func withAReuseGraceARetriedRotationGetsAFreshPairAndTheLostOneIsRetired() async throws {
        try await OAuthWorld.run(configure: { $0.oauth.refreshReuseGrace = 60 }) { world in
            let original = try #require(try await world.tokens().string("refresh_token"))
            // The client rotates, loses the answer, and presents the same token again 10 seconds later.
            let lost = try await world.refresh(original)
            #expect(lost.status == .ok)
            let lostRefresh = try #require(lost.string("refresh_token"))
            world.api.clock.advance(by: 10)
            let retry = try await world.refresh(original)
            #expect(retry.status == .ok)
            let retried = try #require(retry.string("refresh_token"))
            #expect(![original, lostRefresh].contains(retried))
            #expect(try await world.isActive(try #require(retry.string("access_token"))))
            // The pair it gets goes on rotating.
            let next = try await world.refresh(retried)
            #expect(next.status == .ok)
            let current = try #require(next.string("refresh_token"))
            // The answer it lost was retired: shown again past the grace, it is a stolen copy, and the grant goes.
            world.api.clock.advance(by: 61)
            let stolen = try await world.refresh(lostRefresh)
            #expect(stolen.json["error"] as? String == "invalid_grant")
            #expect(stolen.string("error_description")?.contains("every token of its grant is revoked") == true)
            #expect(try await world.refresh(current).json["error"] as? String == "invalid_grant")
        }
    }

    @Test func pastTheReuseGraceAPresentedAgainTokenRevokesTheFamily() async throws {
        try await OAuthWorld.run(configure: { $0.oauth.refreshReuseGrace = 60 }) { world in
            let first = try await world.tokens()
            let original = try #require(first.string("refresh_token"))
            let rotated = try await world.refresh(original)
            let next = try #require(rotated.string("refresh_token"))
            world.api.clock.advance(by: 61)
            let reuse = try await world.refresh(original)
            #expect(reuse.json["error"] as? String == "invalid_grant")
            #expect(reuse.string("error_description")?.contains("every token of its grant is revoked") == true)
            #expect(try await world.refresh(next).json["error"] as? String == "invalid_grant")
            #expect(try await world.isActive(try #require(rotated.string("access_token"))) == false)
        }
    }

    @Test func aRefreshMayNarrowTheScopeButNeverWidenIt() async throws {
        try await OAuthWorld.run { world in
            let first = try await world.tokens(scope: "openid profile")
            let narrow = try await world.refresh(try #require(first.string("refresh_token")), scope: "profile")
            #expect(narrow.string("scope") == "profile")
            #expect(narrow.string("id_token") == nil)
            // The new refresh token keeps the original ceiling.
            let back = try await world.refresh(try #require(narrow.string("refresh_token")), scope: "openid profile")
            #expect(back.string("scope") == "openid profile")
            let wider = try await world.refresh(try #require(back.string("refresh_token")), scope: "openid email")
            #expect(wider.json["error"] as? String == "invalid_scope")
            let stranger = try await world.api.form(
                "/oauth/token",
                [("grant_type", "refresh_token"), ("refresh_token", try #require(back.string("refresh_token")))],
                basic: ("acme-web", world.secret))
            #expect(stranger.json["error"] as? String == "invalid_grant")
        }
    }

    @Test func aTokenCarriesOnlyWhatTheUsersRoleAllowsNowAndFollowsTheUser() async throws {
        try await OAuthWorld.run { world in
            // A plain user asking for users:read gets the scopes they hold and no more.
            let plain = try await world.tokens(scope: "openid users:read")
            #expect(plain.string("scope") == "openid")
            // Promoted: a new authorization gets users:read.
            var ann = try await world.api.reload(world.ann)
            ann.role = .admin
            try await world.api.store.update(ann)
            let promoted = try await world.tokens(scope: "openid users:read")
            #expect(promoted.string("scope") == "openid users:read")
            let access = try #require(promoted.string("access_token"))
            #expect(try await world.api.call(.get, "/api/v1/users", key: access).status == .ok)
            // Demoted: the live token loses the right at once, and the next refresh does not return it.
            ann.role = .user
            try await world.api.store.update(ann)
            let denied = try await world.api.call(.get, "/api/v1/users", key: access)
            #expect(denied.status == .forbidden)
            #expect(denied.error?.message.contains("This token does not have users:read") == true)
            let refreshed = try await world.refresh(try #require(promoted.string("refresh_token")))
            #expect(refreshed.string("scope") == "openid")
        }
    }

    @Test func deactivatingAUserStopsTheirTokensAtOnce() async throws {
        try await OAuthWorld.run { world in
            let tokens = try await world.tokens()
            let access = try #require(tokens.string("access_token"))
            let (_, admin) = try await world.api.key(for: world.owner)
            let answer = try await world.api.call(
                .patch, "/api/v1/users/\(world.ann.id)", key: admin, json: #"{"active":false}"#)
            #expect(answer.status == .ok)
            #expect(try await world.isActive(access) == false)
            let me = try await world.api.call(.get, "/api/v1/me", key: access)
            #expect(me.status == .forbidden || me.status == .unauthorized)
            let refresh = try await world.refresh(try #require(tokens.string("refresh_token")))
            #expect(refresh.json["error"] as? String == "invalid_grant")
            // Reactivated, the revoked grant stays revoked.
            _ = try await world.api.call(.patch, "/api/v1/users/\(world.ann.id)", key: admin, json: #"{"active":true}"#)
            #expect(try await world.isActive(access) == false)
        }
    }

    @Test func aRefreshSeesTheUserAsTheyAreNowThoughTheLastOneReadThem() async throws {
        try await OAuthWorld.run { world in
            let tokens = try await world.tokens()
            // A first refresh reads Ann (and this instance keeps her, at the credential epoch).
            let first = try await world.refresh(try #require(tokens.string("refresh_token")))
            let refresh = try #require(first.string("refresh_token"))
            // Deactivated in the store alone, which revokes nothing: only Ann's own standing stops the refresh.
            var ann = try await world.api.reload(world.ann)
            ann.isActive = false
            try await world.api.store.update(ann)
            let refused = try await world.refresh(refresh)
            #expect(refused.json["error"] as? String == "invalid_grant")
            #expect((refused.json["error_description"] as? String)?.contains("can no longer sign in") == true)
            // Active again, the same token refreshes: it was never used, and the grant stands.
            ann.isActive = true
            try await world.api.store.update(ann)
            #expect(try await world.refresh(refresh).string("access_token") != nil)
        }
    }

    @Test func accessTokensExpireAfterFifteenMinutes() async throws {
        try await OAuthWorld.run { world in
            let tokens = try await world.tokens()
            let access = try #require(tokens.string("access_token"))
            world.api.clock.advance(by: 899)
            #expect(try await world.api.call(.get, "/api/v1/me", key: access).status == .ok)
            world.api.clock.advance(by: 1)
            #expect(try await world.api.call(.get, "/api/v1/me", key: access).status == .unauthorized)
            #expect(try await world.isActive(access) == false)
            // The refresh token outlives it.
            #expect(try await world.refresh(try #require(tokens.string("refresh_token"))).status == .ok)
        }
    }

    @Test func clientCredentialsGiveAClientTokenWithinItsScopes() async throws {
        try await OAuthWorld.run { world in
            let token = try await world.api.form(
                "/oauth/token", [("grant_type", "client_credentials"), ("scope", "clients:read")],
                basic: ("acme-web", world.secret))
            #expect(token.status == .ok)
            #expect(token.string("refresh_token") == nil)
            #expect(token.string("id_token") == nil)
            #expect(token.string("scope") == "clients:read")
            let access = try #require(token.string("access_token"))
            let clients = try await world.api.call(.get, "/api/v1/clients", key: access)
            #expect(clients.status == .ok)
            #expect(try await world.api.call(.get, "/api/v1/users", key: access).status == .forbidden)
            let described = try await world.api.form(
                "/oauth/introspect", [("token", access)], basic: ("acme-web", world.secret))
            #expect(described.string("client_id") == "acme-web")
            #expect(described.json["sub"] == nil)
            #expect(described.string("scope") == "clients:read")
            let defaults = try await world.api.form(
                "/oauth/token", [("grant_type", "client_credentials")], basic: ("acme-web", world.secret))
            #expect(defaults.string("scope") == "clients:read users:read")
            let beyond = try await world.api.form(
                "/oauth/token", [("grant_type", "client_credentials"), ("scope", "audit:read")],
                basic: ("acme-web", world.secret))
            #expect(beyond.json["error"] as? String == "invalid_scope")
            let events = try await world.api.store.auditEvents(in: world.workspace.id, matching: AuditQuery())
            #expect(events.allSatisfy { !$0.details.values.contains(access) })
        }
    }

    @Test func aClientsOwnTokenBelongsToNoGrantYetIsRevokedAtOnceAndFollowsItsClient() async throws {
        try await OAuthWorld.run { world in
            func issue() async throws -> String {
                let answer = try await world.api.form(
                    "/oauth/token", [("grant_type", "client_credentials")], basic: ("acme-web", world.secret))
                #expect(answer.status == .ok)
                return try #require(answer.string("access_token"))
            }
            let first = try await issue()
            let second = try await issue()
            let payload = try #require(Data(base64URLEncoded: String(first.split(separator: ".")[1])))
            let claims = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
            #expect(claims["gty"] as? String == "client_credentials")
            #expect(claims["sub"] as? String == "acme-web")
            #expect(claims["grant_id"] == nil)
            let jti = try #require(claims["jti"] as? String)
            // Both tokens count against the client's one limit: a client cannot buy requests by minting tokens.
            let one = try await world.api.call(.get, "/api/v1/clients", key: first)
            let two = try await world.api.call(.get, "/api/v1/clients", key: second)
            #expect(one.status == .ok && two.status == .ok)
            let remaining = [one, two].compactMap { $0.headers[.rateLimit] }
            #expect(remaining.count == 2 && remaining[0] != remaining[1], "\(remaining)")

            // Revoked by its client: the very next request is refused, the other token goes on.
            let revoked = try await world.api.form(
                "/oauth/revoke", [("token", first)], basic: ("acme-web", world.secret))
            #expect(revoked.status == .ok)
            #expect(try await world.api.call(.get, "/api/v1/clients", key: first).status == .unauthorized)
            #expect(try await world.isActive(first) == false)
            #expect(try await world.isActive(second))
            #expect(try await world.api.store.isAccessTokenRevoked(id: jti))
            let again = try await world.api.form("/oauth/revoke", [("token", first)], basic: ("acme-web", world.secret))
            #expect(again.status == .ok)

            // It follows its client: disabled, it stops; enabled again, it works.
            let (_, admin) = try await world.api.key(for: world.owner)
            _ = try await world.api.call(.patch, "/api/v1/clients/acme-web", key: admin, json: #"{"disabled":true}"#)
            #expect(try await world.api.call(.get, "/api/v1/clients", key: second).status != .ok)
            _ = try await world.api.call(.patch, "/api/v1/clients/acme-web", key: admin, json: #"{"disabled":false}"#)
            #expect(try await world.api.call(.get, "/api/v1/clients", key: second).status == .ok)
            // Expiry is the signed one, against the injected clock.
            world.api.clock.advance(by: 900)
            #expect(try await world.api.call(.get, "/api/v1/clients", key: second).status == .unauthorized)
        }
    }

    @Test func aUsersTokenIsHeldToTheGrantItNames() async throws {
        try await OAuthWorld.run { world in
            let access = try #require(try await world.tokens().string("access_token"))
            let payload = try #require(Data(base64URLEncoded: String(access.split(separator: ".")[1])))
            let claims = try JSONDecoder().decode(AccessTokenClaims.self, from: payload)
            #expect(claims.grantID != nil && claims.grantType == nil)
            // Signed with the server's own key, so only the claims decide.
            let ring = SigningKeyRing(
                store: world.api.store, secret: sharedSigningKeySecret, clock: world.api.clock, tokenLifetime: 900)
            func accepted(_ changed: AccessTokenClaims) async throws -> Bool {
                let token = try await ring.sign(changed, type: "at+jwt")
                return try await world.api.call(.get, "/api/v1/me", key: token).status == .ok
            }
            #expect(try await accepted(claims), "the same claims, signed again")
            var noGrant = claims
            noGrant.grantID = nil
            #expect(try await accepted(noGrant) == false, "a user's token that names no grant")
            var otherGrant = claims
            otherGrant.grantID = GrantID().description
            #expect(try await accepted(otherGrant) == false, "a grant that does not exist")
            var otherUser = claims
            otherUser.sub = world.owner.id.description
            #expect(try await accepted(otherUser) == false, "another user under this grant")
            var otherClient = claims
            otherClient.clientID = "acme-web"
            #expect(try await accepted(otherClient) == false, "another client under this grant")
        }
    }

    @Test func aClientRegisteredAgainUnderTheSameIDDoesNotInheritTheOldOnesTokens() async throws {
        try await OAuthWorld.run { world in
            let answer = try await world.api.form(
                "/oauth/token", [("grant_type", "client_credentials")], basic: ("acme-web", world.secret))
            let old = try #require(answer.string("access_token"))
            #expect(try await world.api.call(.get, "/api/v1/clients", key: old).status == .ok)
            let (_, admin) = try await world.api.key(for: world.owner)
            #expect(try await world.api.call(.delete, "/api/v1/clients/acme-web", key: admin).status == .noContent)
            world.api.clock.advance(by: 1)
            let again = try await world.api.registerClient(
                #"""
                {"client_id":"acme-web","name":"Acme Web","redirect_uris":["https://web.example.com/cb"],
                 "grant_types":["client_credentials"],"scopes":["clients:read"]}
                """#, key: admin)
            #expect(again.status == .created)
            let secret = try #require(again.string("client_secret"))
            #expect(try await world.api.call(.get, "/api/v1/clients", key: old).status == .unauthorized)
            #expect(try await world.api.isActive(old, asClient: "acme-web", secret: secret) == false)
            // The new client's own tokens work.
            let fresh = try await world.api.form(
                "/oauth/token", [("grant_type", "client_credentials")], basic: ("acme-web", secret))
            let token = try #require(fresh.string("access_token"))
            #expect(try await world.api.call(.get, "/api/v1/clients", key: token).status == .ok)
        }
    }

    @Test func disablingTheClientStopsItsTokens() async throws {
        try await OAuthWorld.run { world in
            let access = try #require(try await world.tokens().string("access_token"))
            let (_, admin) = try await world.api.key(for: world.owner)
            _ = try await world.api.call(.patch, "/api/v1/clients/acme-spa", key: admin, json: #"{"disabled":true}"#)
            #expect(try await world.isActive(access) == false)
            #expect(try await world.api.call(.get, "/api/v1/me", key: access).status != .ok)
        }
    }
}
