import Foundation
import GatehouseCore
import GatehouseTestSupport
import Synchronization
import Testing

/// The rules of RP-Initiated Logout, without HTTP: which hints are believed, which redirects are allowed, and
/// when the user must be asked.
@Suite("Logout rules")
struct LogoutRulesTests {
    private final class Stores: ClientStore, SigningKeyStore, ConsentStore {
        let clients: [ClientApplication]
        let keys = Mutex<[StoredSigningKey]>([])
        let given = Mutex<[Consent]>([])
        init(_ clients: [ClientApplication]) { self.clients = clients }
        func consent(of user: UserID, for client: ClientID) async throws -> Consent? {
            given.withLock { $0.first { $0.userID == user && $0.clientID == client } }
        }
        func consents(of user: UserID) async throws -> [Consent] { given.withLock { $0.filter { $0.userID == user } } }
        func save(_ consent: Consent) async throws { given.withLock { $0.append(consent) } }
        func withdraw(consentOf user: UserID, for client: ClientID, at time: Date) async throws -> Bool { false }
        func client(id: ClientID) async throws -> ClientApplication? { clients.first { $0.id == id } }
        func clients(in workspace: WorkspaceID, after cursor: ClientID?, limit: Int) async throws
            -> [ClientApplication]
        { clients }
        func signingKeys() async throws -> [StoredSigningKey] { keys.withLock { $0 } }
        func rotateSigningKeys(to key: StoredSigningKey) async throws { keys.withLock { $0.append(key) } }
    }

    static let issuer = "https://id.example.com"

    private struct Setting {
        let logout: Logout
        let ring: SigningKeyRing
        let user: User
        let stores: Stores

        func idToken(aud: String = "app", sub: String? = nil, iss: String = LogoutRulesTests.issuer) async throws
            -> String
        {
            let claims = IDTokenClaims(
                iss: iss, sub: sub ?? "\(user.id)", aud: aud, azp: aud, exp: 2, iat: 1, authTime: 1, nonce: nil,
                name: nil, email: nil)
            return try await ring.sign(claims, type: "JWT", algorithm: .rs256)
        }
    }

    private func setting() async throws -> Setting {
        let workspace = try Fixture.workspace()
        var (app, _) = try Fixture.client("app", in: workspace)
        app.postLogoutRedirectURIs = [try RedirectURI("https://app.example.com/bye")]
        app.backchannelLogoutURI = try RedirectURI("https://app.example.com/backchannel")
        var (other, _) = try Fixture.client("other", in: workspace)
        other.backchannelLogoutURI = try RedirectURI("https://other.example.com/backchannel")
        other.idTokenSigningAlgorithm = .es256
        var (off, _) = try Fixture.client("off", in: workspace)
        off.backchannelLogoutURI = try RedirectURI("https://off.example.com/backchannel")
        off.isDisabled = true
        let (quiet, _) = try Fixture.client("quiet", in: workspace)
        let (unasked, _) = try Fixture.client("unasked", in: workspace)
        let stores = Stores([app, other, off, quiet, unasked])
        let secret = try Fixture.signingKeySecret()
        try await SigningKeys(store: stores, secret: secret, clock: SystemClock()).prepare()
        let ring = SigningKeyRing(store: stores, secret: secret, clock: SystemClock(), tokenLifetime: 900)
        return Setting(
            logout: Logout(clients: stores, hints: IDTokenHints(keys: ring, issuer: Self.issuer)), ring: ring,
            user: try Fixture.user("ann@acme.test", in: workspace), stores: stores)
    }

    @Test func aHintNamesItsClientAndUserAndLetsTheRegisteredRedirectThrough() async throws {
        let setting = try await setting()
        let request = try await setting.logout.check([
            "id_token_hint": try await setting.idToken(), "post_logout_redirect_uri": "https://app.example.com/bye",
            "state": "s", "ui_locales": "de",
        ])
        #expect(request.client?.id.value == "app")
        #expect(request.redirect?.location == "https://app.example.com/bye?state=s")
        let ann = SignedInUser(user: setting.user, authTime: Fixture.epoch)
        #expect(request.mayEndSessionWithoutAsking(ann))
        var someoneElse = ann
        someoneElse.user.id = UserID()
        #expect(!request.mayEndSessionWithoutAsking(someoneElse))
        #expect(request.mayEndSessionWithoutAsking(nil), "nobody signed in: nothing to ask about")
    }

    @Test func withoutAHintTheUserIsAlwaysAsked() async throws {
        let setting = try await setting()
        let request = try await setting.logout.check(["client_id": "app"])
        #expect(request.redirect == nil)
        #expect(!request.mayEndSessionWithoutAsking(SignedInUser(user: setting.user, authTime: Fixture.epoch)))
    }

    @Test func refusalsNameWhatIsWrong() async throws {
        let setting = try await setting()
        let bye = "https://app.example.com/bye"
        let refused: [[String: String]] = [
            ["post_logout_redirect_uri": bye],
            ["client_id": "app", "post_logout_redirect_uri": bye + "/"],
            ["client_id": "other", "post_logout_redirect_uri": bye],
            ["id_token_hint": try await setting.idToken(), "client_id": "other"],
            ["id_token_hint": try await setting.idToken(iss: "https://elsewhere.example.com")],
            ["id_token_hint": try await setting.idToken(aud: "gone")],
            ["id_token_hint": "not-a-token"],
            ["client_id": "Not A Client"],
        ]
        for parameters in refused {
            await #expect(throws: LogoutRefusal.self, "\(parameters)") { try await setting.logout.check(parameters) }
        }
    }

    @Test func everyAllowedEnabledAppWithABackchannelURIGetsALogoutTokenSignedAsItsIDTokens() async throws {
        let setting = try await setting()
        let user = setting.user
        // Ann allowed app, other, off and quiet; unasked she never allowed, and Bea's consent is not hers.
        for id in ["app", "other", "off", "quiet"] {
            try await setting.stores.save(
                Consent(
                    userID: user.id, clientID: try ClientID(id), workspaceID: user.workspaceID, scopes: [.openid],
                    terms: nil, grantedAt: Fixture.epoch))
        }
        try await setting.stores.save(
            Consent(
                userID: UserID(), clientID: try ClientID("unasked"), workspaceID: user.workspaceID, scopes: [.openid],
                terms: nil, grantedAt: Fixture.epoch))
        let clock = ManualClock()
        let backchannel = BackchannelLogout(
            store: setting.stores, keys: setting.ring, issuer: Self.issuer, clock: clock)
        let notices = try await backchannel.notices(for: user.id)
        #expect(notices.map(\.clientID.value) == ["app", "other"])
        #expect(notices.map(\.uri) == ["https://app.example.com/backchannel", "https://other.example.com/backchannel"])
        for (notice, alg) in zip(notices, ["RS256", "ES256"]) {
            let parts = notice.logoutToken.split(separator: ".").map(String.init)
            let headerData = try #require(Data(base64URLEncoded: parts[0]))
            let header = try #require(try JSONSerialization.jsonObject(with: headerData) as? [String: Any])
            #expect(header["alg"] as? String == alg && header["typ"] as? String == "logout+jwt")
            let payload = String(decoding: try #require(Data(base64URLEncoded: parts[1])), as: UTF8.self)
            #expect(
                payload.contains(#""events":{"http://schemas.openid.net/event/backchannel-logout":{}}"#), "\(payload)")
            #expect(payload.contains(#""sub":"\#(user.id)""#) && payload.contains(#""aud":"\#(notice.clientID)""#))
        }
        #expect(try await backchannel.notices(for: UserID()).isEmpty)
    }
}
