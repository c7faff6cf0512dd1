import Foundation
import GatehouseCore
import GatehouseTestSupport
import Synchronization
import Testing

/// The rules of RP-Initiated Logout, without HTTP: which hints are believed, which redirects are allowed, and
/// when the user must be asked.
@Suite("Logout rules")
struct LogoutRulesTests {
    private final class Stores: ClientStore, SigningKeyStore {
        let clients: [ClientApplication]
        let keys = Mutex<[StoredSigningKey]>([])
        init(_ clients: [ClientApplication]) { self.clients = clients }
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
        let (other, _) = try Fixture.client("other", in: workspace)
        let stores = Stores([app, other])
        let secret = try Fixture.signingKeySecret()
        try await SigningKeys(store: stores, secret: secret, clock: SystemClock()).prepare()
        let ring = SigningKeyRing(store: stores, secret: secret, clock: SystemClock(), tokenLifetime: 900)
        return Setting(
            logout: Logout(clients: stores, keys: ring, issuer: Self.issuer), ring: ring,
            user: try Fixture.user("ann@acme.test", in: workspace))
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
}
