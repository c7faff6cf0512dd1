import Foundation
import GatehouseCore
import GatehouseTestSupport
import Testing

/// The OAuth rules that need no I/O: PKCE, scope grants, redirects, sealed keys.
@Suite("OAuth rules")
struct OAuthRulesTests {
    @Test func pkceFollowsRFC7636AppendixB() throws {
        let challenge = try CodeChallenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", method: "S256")
        #expect(challenge.isSatisfied(by: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
        #expect(!challenge.isSatisfied(by: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj"))
        // Verifiers outside 43–128 unreserved characters never match.
        #expect(!challenge.isSatisfied(by: "short"))
        #expect(!challenge.isSatisfied(by: String(repeating: "a", count: 129)))
        #expect(!challenge.isSatisfied(by: "dBjftJeZ4CVP+mB92K27uhbUJU1p1r/wW1gFWFOEjXk"))
    }

    @Test func onlyS256ChallengesOfTheRightShapeAreAccepted() {
        let valid = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        #expect(throws: OAuthFailure.self) { try CodeChallenge(valid, method: "plain") }
        #expect(throws: OAuthFailure.self) { try CodeChallenge(valid, method: nil) }
        #expect(throws: OAuthFailure.self) { try CodeChallenge(valid, method: "S512") }
        #expect(throws: OAuthFailure.self) { try CodeChallenge("too-short", method: "S256") }
        #expect(throws: OAuthFailure.self) { try CodeChallenge(valid + "=", method: "S256") }
    }

    @Test func aUserIsGrantedWhatWasAskedTheClientMayHaveAndTheRoleHolds() throws {
        let workspace = try Fixture.workspace()
        let (client, _) = try Fixture.client(
            "acme-spa", in: workspace, scopes: [.openid, .profile, .usersRead, .auditRead])
        let scopes = GrantableScopes(rights: RoleRights(custom: []))
        #expect(
            try scopes.forUser(requested: [.openid, .usersRead, .email], client: client, role: .user) == [.openid])
        #expect(
            try scopes.forUser(requested: [.openid, .usersRead], client: client, role: .admin) == [.openid, .usersRead])
        #expect(try scopes.forUser(requested: nil, client: client, role: .user) == [.openid, .profile])
        #expect(
            throws: OAuthFailure.invalidScope(
                "None of the requested scopes can be granted to this user through this client.")
        ) {
            try scopes.forUser(requested: [.auditRead], client: client, role: .admin)
        }
        #expect(throws: OAuthFailure.invalidScope("The scope 'okrs:read' does not exist.")) {
            try scopes.forUser(requested: [try Scope("okrs:read")], client: client, role: .superAdmin)
        }
    }

    @Test func theOpenIDScopesGatehouseHoldsNothingForFallOutOfAnOpenIDRequestOnly() throws {
        let workspace = try Fixture.workspace()
        var (client, _) = try Fixture.client("acme-spa", in: workspace, scopes: [.openid, .profile])
        let scopes = GrantableScopes(rights: RoleRights(custom: []))
        #expect(
            try scopes.forUser(
                requested: [.openid, .profile, .address, .phone, .offlineAccess], client: client, role: .user)
                == [.openid, .profile])
        #expect(throws: OAuthFailure.invalidScope("The scope 'address' does not exist.")) {
            try scopes.forUser(requested: [.profile, .address], client: client, role: .user)
        }
        // A workspace's own scope of that name means that scope.
        let phone = ScopeDefinition(
            workspaceID: workspace.id, scope: .phone, description: "Phone book", roles: [.user],
            createdAt: Fixture.epoch)
        client.scopes.insert(.phone)
        let own = GrantableScopes(rights: RoleRights(custom: [phone]))
        #expect(
            try own.forUser(requested: [.openid, .phone, .address], client: client, role: .user) == [.openid, .phone])
    }

    @Test func aClientAloneGetsNoPersonalScopes() throws {
        let workspace = try Fixture.workspace()
        let (client, _) = try Fixture.client("acme-web", in: workspace, scopes: [.openid, .profile, .clientsRead])
        let scopes = GrantableScopes(rights: RoleRights(custom: []))
        #expect(try scopes.forClient(requested: nil, client: client) == [.clientsRead])
        #expect(throws: OAuthFailure.self) { try scopes.forClient(requested: [.openid], client: client) }
    }

    @Test func scopeParametersAreSpaceSeparatedTokens() throws {
        #expect(try GrantableScopes.parse(nil) == nil)
        #expect(try GrantableScopes.parse("  ") == nil)
        #expect(try GrantableScopes.parse("openid  profile openid") == [.openid, .profile])
        #expect(throws: OAuthFailure.self) { try GrantableScopes.parse("openid Profile") }
    }

    @Test func redirectParametersAreEncodedSoStateCannotChangeTheURL() {
        let redirect = AuthorizationRedirect(
            "https://app.example.com/cb?keep=1", [("code", "abc"), ("state", "a&b=c #d+e"), ("missing", nil)])
        #expect(redirect.location == "https://app.example.com/cb?keep=1&code=abc&state=a%26b%3Dc%20%23d%2Be")
        #expect(
            AuthorizationRedirect("com.example.app:/cb", [("error", "x")]).location == "com.example.app:/cb?error=x")
    }

    @Test(arguments: SigningAlgorithm.allCases) func aSealedKeyOpensOnlyUnderItsOwnSecret(
        _ algorithm: SigningAlgorithm
    ) throws {
        let secret = try Fixture.signingKeySecret()
        let key = try secret.generateKey(algorithm, at: Fixture.epoch)
        #expect(key.kid.count == 43)
        let jwk = try #require(key.jwk)
        #expect(jwk.alg == algorithm.rawValue && jwk.kid == key.kid && jwk.thumbprint == key.kid)
        #expect(!key.sealedPrivateKey.isEmpty)
        #expect(try secret.open(key).algorithm == algorithm)
        #expect(throws: SigningKeyUnusable.self) { try Fixture.signingKeySecret().open(key) }
        var moved = key
        moved.kid = "another-kid"
        #expect(throws: SigningKeyUnusable.self) { try secret.open(moved) }
        // A key stored under the other algorithm's name is no key of that algorithm.
        var mislabelled = key
        mislabelled.algorithm = algorithm == .es256 ? .rs256 : .es256
        #expect(mislabelled.jwk == nil)
        #expect(throws: SigningKeyUnusable.self) { try secret.open(mislabelled) }
        #expect(throws: DomainError.self) { try SigningKeySecret(text: "# nothing but a comment\n") }
        #expect(throws: DomainError.self) { try SigningKeySecret(text: Data(count: 16).base64EncodedString()) }
    }
}
