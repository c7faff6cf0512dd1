import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// What the OpenID Foundation's Basic OP plan asks of an authorization request beyond plain OAuth: the
/// `id_token_hint`, the parameters a provider may ignore, and the standard scopes Gatehouse does not hold.
@Suite("OpenID Connect Basic OP requests")
struct OpenIDBasicTests {
    /// Bea, a second member of the workspace who can sign in.
    static func addBea(_ world: OAuthWorld) async throws {
        var bea = try Fixture.user("bea@acme.test", in: world.workspace)
        bea.privacyNoticeAcceptedAt = Fixture.epoch
        bea.passwordHash = await Fixture.fastPasswords.hash(try Password(OAuthWorld.password))
        try await world.api.store.insert(bea)
    }

    @Test func promptNoneWithAnIDTokenHintAnswersForTheUserItNames() async throws {
        try await OAuthWorld.run { world in
            let (browser, idToken) = try await world.signedInWithIDToken()
            // oidcc-id-token-hint: the same user, still signed in, gets a code without a page.
            let same = try await browser.get(
                "/oauth/authorize", OAuthWorld.authorizeQuery(extra: [("prompt", "none"), ("id_token_hint", idToken)]))
            #expect(same.redirectParameters["code"] != nil)
            let tokens = try await world.exchange(try #require(same.redirectParameters["code"]))
            let claims = try Self.claims(of: try #require(tokens.string("id_token")))
            #expect(claims["sub"] as? String == "\(world.ann.id)")
            // Someone else signed in does not answer for Ann.
            try await Self.addBea(world)
            let bea = try await world.signedIn("bea@acme.test")
            let other = try await bea.get(
                "/oauth/authorize", OAuthWorld.authorizeQuery(extra: [("prompt", "none"), ("id_token_hint", idToken)]))
            #expect(other.redirectParameters["error"] == "login_required")
            // Nor does a hint Gatehouse did not sign.
            let parts = idToken.split(separator: ".").map(String.init)
            let forged = [parts[0], parts[1], String(parts[2].reversed())].joined(separator: ".")
            let refused = try await browser.get(
                "/oauth/authorize", OAuthWorld.authorizeQuery(extra: [("prompt", "none"), ("id_token_hint", forged)]))
            #expect(refused.redirectParameters["error"] == "invalid_request")
            #expect(refused.redirectParameters["state"] == "xyz")
        }
    }

    @Test func aHintForSomeoneElseAsksForASignInThatThenStands() async throws {
        try await OAuthWorld.run { world in
            let idToken = try #require(try await world.tokens().string("id_token"))
            try await Self.addBea(world)
            let bea = try await world.signedIn("bea@acme.test")
            let answer = try await bea.get(
                "/oauth/authorize", OAuthWorld.authorizeQuery(extra: [("id_token_hint", idToken)]))
            #expect(answer.status == .found)
            let location = try #require(answer.headers[.location])
            #expect(location.hasPrefix("/login"))
            // Coming back from the sign-in, the request no longer names Ann: whoever signed in answers it.
            let returnTo = try #require(queryItems(location)["return_to"])
            #expect(!returnTo.contains("id_token_hint"))
        }
    }

    @Test func parametersAProviderMayIgnoreAreAcceptedAndIgnored() async throws {
        try await OAuthWorld.run { world in
            let browser = try await world.signedIn()
            _ = try await world.code(browser: browser)
            let ignored: [(String, String)] = [
                ("ui_locales", "se de en"), ("claims_locales", "se de"), ("display", "popup"),
                ("acr_values", "1 2"), ("claims", #"{"id_token":{"email":{"essential":true}}}"#),
                ("extra", "foobar"), ("login_hint", "not an email"),
            ]
            for parameter in ignored {
                let answer = try await browser.get(
                    "/oauth/authorize", OAuthWorld.authorizeQuery(extra: [parameter, ("prompt", "none")]))
                #expect(answer.redirectParameters["code"] != nil, "\(parameter.0)")
            }
            let metadata = try await world.api.call(.get, "/.well-known/openid-configuration", key: nil)
            #expect(metadata.json["claims_parameter_supported"] as? Bool == false)
        }
    }

    @Test func addressPhoneAndOfflineAccessAreNotOfferedAndFallOutOfAnOpenIDRequest() async throws {
        try await OAuthWorld.run { world in
            let metadata = try await world.api.call(.get, "/.well-known/openid-configuration", key: nil)
            let offered = try #require(metadata.json["scopes_supported"] as? [String])
            #expect(offered.contains("openid") && offered.contains("profile") && offered.contains("email"))
            #expect(!offered.contains("address") && !offered.contains("phone") && !offered.contains("offline_access"))
            let tokens = try await world.tokens(scope: "openid profile address phone offline_access")
            #expect(tokens.string("scope") == "openid profile")
            let claims = try Self.claims(of: try #require(tokens.string("id_token")))
            #expect(claims["address"] == nil && claims["phone_number"] == nil)
            // Outside OpenID Connect, and for names OpenID Connect does not define, an unknown scope is still refused.
            let browser = try await world.signedIn()
            for scope in ["profile address", "openid addresses"] {
                let answer = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery(scope: scope))
                #expect(answer.redirectParameters["error"] == "invalid_scope", "\(scope)")
            }
        }
    }

    static func claims(of token: String) throws -> [String: Any] {
        let data = try #require(Data(base64URLEncoded: String(token.split(separator: ".")[1])))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}
