import Crypto
import CryptoExtras
import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// Back-Channel Logout 1.0: when a user signs out of Gatehouse, each app they allowed that registered a
/// `backchannel_logout_uri` is sent a signed logout token, over real HTTP, retried, never holding up the
/// sign-out.
@Suite("Back-Channel Logout")
struct BackchannelLogoutTests {
    /// An app's back-channel logout endpoint: records what it is sent, and answers with the statuses it is
    /// given in turn (200 once they run out).
    final class Receiver: Sendable {
        let received = Mutex<[String]>([])
        let statuses: Mutex<[HTTPResponse.Status]>

        init(answering statuses: [HTTPResponse.Status] = []) { self.statuses = Mutex(statuses) }

        /// Runs the endpoint on a free loopback port for the length of `body`.
        func run(_ body: @escaping @Sendable (_ uri: String) async throws -> Void) async throws {
            let router = Router()
            router.post("backchannel") { request, context -> Response in
                let form = String(buffer: try await request.body.collect(upTo: 64 * 1024))
                self.received.withLock { $0.append(form) }
                let status = self.statuses.withLock { $0.isEmpty ? .ok : $0.removeFirst() }
                return Response(status: status)
            }
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in
                try await body("http://127.0.0.1:\(try #require(client.port))/backchannel")
            }
        }

        /// Waits (briefly, in real time: this is delivery over a socket) until `count` requests have come.
        func logoutTokens(count: Int) async throws -> [String] {
            for _ in 0..<500 {
                let forms = received.withLock { $0 }
                if forms.count >= count {
                    return forms.compactMap { form in
                        form.split(separator: "&").first { $0.hasPrefix("logout_token=") }.map {
                            String($0.dropFirst("logout_token=".count)).removingPercentEncoding ?? ""
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            Issue.record("only \(received.withLock { $0.count }) of \(count) deliveries came")
            return []
        }
    }

    static func register(_ uri: String, in world: OAuthWorld) async throws {
        let (_, admin) = try await world.api.key(for: world.owner)
        let changed = try await world.api.call(
            .patch, "/api/v1/clients/acme-spa", key: admin, json: #"{"backchannel_logout_uri":"\#(uri)"}"#)
        #expect(changed.status == .ok)
        #expect(changed.string("backchannel_logout_uri") == uri)
    }

    static func part(_ token: String, _ index: Int) throws -> [String: Any] {
        let data = try #require(Data(base64URLEncoded: String(token.split(separator: ".")[index])))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func signingOutSendsTheAppASignedLogoutToken() async throws {
        let receiver = Receiver()
        try await receiver.run { uri in
            try await OAuthWorld.run { world in
                try await Self.register(uri, in: world)
                let discovery = try await world.api.call(.get, "/.well-known/openid-configuration", key: nil)
                #expect(discovery.json["backchannel_logout_supported"] as? Bool == true)
                #expect(discovery.json["backchannel_logout_session_supported"] as? Bool == false)
                let (browser, idToken) = try await world.signedInWithIDToken()
                let out = try await browser.get("/oauth/logout", [("id_token_hint", idToken)])
                #expect(out.status == .ok)
                let token = try #require(try await receiver.logoutTokens(count: 1).first)
                let header = try Self.part(token, 0)
                #expect(header["typ"] as? String == "logout+jwt" && header["alg"] as? String == "RS256")
                let claims = try Self.part(token, 1)
                #expect(claims["iss"] as? String == OAuthWorld.issuer)
                #expect(claims["sub"] as? String == "\(world.ann.id)")
                #expect(claims["aud"] as? String == "acme-spa")
                #expect(claims["nonce"] == nil, "a logout token never carries a nonce (§2.4)")
                #expect((claims["jti"] as? String)?.isEmpty == false)
                let iat = try #require(claims["iat"] as? Int)
                #expect(claims["exp"] as? Int == iat + 120)
                let events = try #require(claims["events"] as? [String: Any])
                #expect(events["http://schemas.openid.net/event/backchannel-logout"] is [String: Any])
                // It verifies against the published RSA key.
                let keys = try #require(
                    try await world.api.call(.get, "/oauth/jwks", key: nil).json["keys"] as? [[String: String]])
                let key = try #require(keys.first { $0["kid"] == header["kid"] as? String })
                let publicKey = try _RSA.Signing.PublicKey(
                    n: try #require(key["n"].flatMap { Data(base64URLEncoded: $0) }),
                    e: try #require(key["e"].flatMap { Data(base64URLEncoded: $0) }))
                let parts = token.split(separator: ".").map(String.init)
                let signature = _RSA.Signing.RSASignature(
                    rawRepresentation: try #require(Data(base64URLEncoded: parts[2])))
                #expect(
                    publicKey.isValidSignature(
                        signature, for: SHA256.hash(data: Data("\(parts[0]).\(parts[1])".utf8)),
                        padding: .insecurePKCS1v1_5))
            }
        }
    }

    @Test func aFailedDeliveryIsTriedAgainAndARefusalIsNot() async throws {
        let receiver = Receiver(answering: [.serviceUnavailable, .badGateway])
        try await receiver.run { uri in
            try await OAuthWorld.run { world in
                try await Self.register(uri, in: world)
                let browser = try await world.signedIn()
                _ = try await world.code(browser: browser)
                // The page's own sign-out form tells the apps too.
                let account = try await browser.get("/account")
                let out = try await browser.post("/logout", [("csrf_token", try Self.csrf(in: account))])
                #expect(out.status == .seeOther)
                let tokens = try await receiver.logoutTokens(count: 3)
                #expect(tokens.count == 3 && Set(tokens).count == 1, "the same token, delivered on the third try")
            }
        }
        let refusing = Receiver(answering: [.badRequest])
        try await refusing.run { uri in
            try await OAuthWorld.run { world in
                try await Self.register(uri, in: world)
                let browser = try await world.signedIn()
                _ = try await world.code(browser: browser)
                let account = try await browser.get("/account")
                _ = try await browser.post("/logout", [("csrf_token", try Self.csrf(in: account))])
                _ = try await refusing.logoutTokens(count: 1)
                // Time for two retries, which must not come: a 400 is the app's answer, not a failure.
                try await Task.sleep(for: .milliseconds(200))
                #expect(refusing.received.withLock { $0.count } == 1)
            }
        }
    }

    @Test func anAppThatDoesNotAnswerNeverHoldsUpTheSignOut() async throws {
        try await OAuthWorld.run { world in
            // Nothing listens on the discard port; every attempt fails, in the background.
            try await Self.register("http://127.0.0.1:9/backchannel", in: world)
            let (browser, idToken) = try await world.signedInWithIDToken()
            let started = ContinuousClock.now
            let out = try await browser.get("/oauth/logout", [("id_token_hint", idToken)])
            #expect(out.status == .ok)
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(try await browser.get("/account").status == .found)
        }
    }

    @Test func aBackchannelURIMustBeAWebAddressGatehouseCanCall() async throws {
        try await OAuthWorld.run { world in
            let (_, admin) = try await world.api.key(for: world.owner)
            for uri in ["com.example.app:/logout", "http://app.example.com/logout", "https://app.example.com/#x"] {
                let refused = try await world.api.call(
                    .patch, "/api/v1/clients/acme-spa", key: admin, json: #"{"backchannel_logout_uri":"\#(uri)"}"#)
                #expect(refused.status == .badRequest, "\(uri)")
                #expect(refused.string("message")?.contains(uri) == true, "\(refused.text)")
            }
            let set = try await world.api.call(
                .patch, "/api/v1/clients/acme-spa", key: admin,
                json: #"{"backchannel_logout_uri":"https://app.example.com/logout"}"#)
            #expect(set.string("backchannel_logout_uri") == "https://app.example.com/logout")
            let cleared = try await world.api.call(
                .patch, "/api/v1/clients/acme-spa", key: admin, json: #"{"backchannel_logout_uri":null}"#)
            #expect(cleared.status == .ok)
            #expect(cleared.json["backchannel_logout_uri"] is NSNull)
        }
    }

    static func csrf(in page: APIResponse) throws -> String {
        let pattern = try NSRegularExpression(pattern: #"name="csrf_token" value="([^"]+)""#)
        let text = page.text
        let match = try #require(pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)))
        return String(text[try #require(Range(match.range(at: 1), in: text))])
    }
}
