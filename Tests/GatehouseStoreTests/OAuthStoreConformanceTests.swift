import Foundation
import GatehouseCore
import GatehouseStore
import GatehouseTestSupport
import Testing

/// Signing keys, codes, grants, tokens, consents and sessions, on every backend.
@Suite("OAuth store conformance")
struct OAuthStoreConformanceTests {
    struct Seed {
        let workspace: Workspace
        let user: User
        let client: ClientApplication
    }

    static func seeded(_ store: any GatehouseStorage) async throws -> Seed {
        let (workspace, user) = try await AccessStoreConformanceTests.seeded(store)
        let (client, _) = try Fixture.client("acme-spa", in: workspace, type: .public, scopes: BuiltInScopes.personal)
        try await store.apply(.insertClient(client), recording: ClientStoreConformanceTests.event("c", client))
        return Seed(workspace: workspace, user: user, client: client)
    }

    static func code(_ seed: Seed, at date: Date = Fixture.epoch) -> (OpaqueToken, AuthorizationCode) {
        let token = OpaqueToken.generate()
        let code = AuthorizationCode(
            digest: token.digest, workspaceID: seed.workspace.id, clientID: seed.client.id, userID: seed.user.id,
            redirectURI: "https://app.example.com/cb", scopes: [.openid, .profile],
            challenge: CodeChallenge(stored: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), nonce: "n-0S6",
            authTime: date.addingTimeInterval(-5), amr: ["pwd", "otp"],
            resource: ResourceIdentifier(trusted: "https://okrs.example.com/api"), issuedAt: date,
            expiresAt: date.addingTimeInterval(60))
        return (token, code)
    }

    static func tokens(_ seed: Seed, grant: GrantID, new: Bool) -> IssuedTokens {
        IssuedTokens(
            newGrant: new
                ? TokenGrant(
                    id: grant, workspaceID: seed.workspace.id, clientID: seed.client.id, userID: seed.user.id,
                    scopes: [.openid, .profile], authTime: Fixture.epoch, amr: ["pwd"],
                    resource: ResourceIdentifier(trusted: "https://okrs.example.com/api"), createdAt: Fixture.epoch)
                : nil,
            refreshToken: RefreshToken(
                digest: OpaqueToken.generate().digest, grantID: grant, scopes: [.openid, .profile],
                issuedAt: Fixture.epoch, expiresAt: Fixture.epoch.addingTimeInterval(86400)))
    }

    @Test(arguments: Backend.all) func resourceServersAreReadBackByIdentifierAndIDAndDeletedOnce(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let (globex, _) = try await AccessStoreConformanceTests.seeded(store, slug: "globex")
            func event(_ resource: ResourceServer) -> AuditEvent {
                AuditEvent(
                    workspaceID: resource.workspaceID, actor: .commandLine, action: "resource.created",
                    targetKind: "resource", targetID: "\(resource.id)", address: nil, occurredAt: Fixture.epoch)
            }
            let okrs = ResourceServer(
                workspaceID: seed.workspace.id, identifier: try ResourceIdentifier("https://okrs.example.com/api"),
                name: "OKRs", scopes: [.profile, try Scope("okrs:read")], accessTokenLifetime: 300,
                createdBy: seed.user.id, createdAt: Fixture.epoch)
            let mcp = ResourceServer(
                workspaceID: seed.workspace.id, identifier: try ResourceIdentifier("http://127.0.0.1:9/mcp"),
                name: "MCP", scopes: [], accessTokenLifetime: nil, createdBy: nil, createdAt: Fixture.epoch)
            for resource in [okrs, mcp] {
                try await store.apply(.insertResourceServer(resource), recording: event(resource))
            }
            #expect(try await store.resourceServer(identifier: okrs.identifier) == okrs)
            #expect(try await store.resourceServer(id: mcp.id) == mcp)
            #expect(try await store.resourceServers(in: seed.workspace.id) == [mcp, okrs])
            #expect(try await store.resourceServers(in: globex.id).isEmpty)
            // The identifier is the tokens' audience: one API, one owner, across workspaces.
            var taken = okrs
            taken.id = ResourceServerID()
            taken.workspaceID = globex.id
            await #expect(throws: UniqueViolation(.resourceIdentifier)) {
                try await store.apply(.insertResourceServer(taken), recording: event(taken))
            }
            try await store.apply(.deleteResourceServer(okrs), recording: event(okrs))
            #expect(try await store.resourceServer(identifier: okrs.identifier) == nil)
            await #expect(throws: RecordNotFound.self) {
                try await store.apply(.deleteResourceServer(okrs), recording: event(okrs))
            }
        }
    }

    @Test(arguments: Backend.all) func aDeviceCodeIsAnsweredOnceAndRedeemedOnce(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let device = OpaqueToken.generate()
            let user = UserCode.generate()
            let code = DeviceCode(
                deviceDigest: device.digest, userCodeDigest: user.digest, workspaceID: seed.workspace.id,
                clientID: seed.client.id, requestedScopes: [.openid, .profile],
                resource: ResourceIdentifier(trusted: "https://okrs.example.com/api"), createdAt: Fixture.epoch,
                expiresAt: Fixture.epoch.addingTimeInterval(600), interval: 5)
            try await store.insert(code)
            #expect(try await store.deviceCode(deviceDigest: device.digest) == code)
            #expect(try await store.deviceCode(userCodeDigest: user.digest) == code)
            let later = Fixture.epoch.addingTimeInterval(30)
            try await store.recordPoll(deviceDigest: device.digest, at: later, interval: 10)
            let approval = DeviceApproval(
                userID: seed.user.id, scopes: [.openid], authTime: Fixture.epoch, amr: ["pwd", "otp"])
            // Two answers at once: one is stored.
            async let first = store.decide(userCodeDigest: user.digest, approval: approval, at: later)
            async let second = store.decide(userCodeDigest: user.digest, approval: nil, at: later)
            let answers = try await [first, second]
            #expect(answers.filter { $0 }.count == 1)
            let decided = try #require(try await store.deviceCode(deviceDigest: device.digest))
            #expect(decided.lastPolledAt == later && decided.interval == 10)
            #expect((decided.approval == approval) != (decided.deniedAt == later))
            // Expired codes take no answer.
            let other = UserCode.generate()
            var stale = code
            stale.deviceDigest = OpaqueToken.generate().digest
            stale.userCodeDigest = other.digest
            try await store.insert(stale)
            #expect(try await !store.decide(userCodeDigest: other.digest, approval: approval, at: code.expiresAt))
            // Redeemed once, with its tokens stored in the same step.
            let tokens = Self.tokens(seed, grant: GrantID(), new: true)
            #expect(try await store.redeem(deviceDigest: device.digest, at: later, issuing: tokens))
            #expect(
                try await !store.redeem(
                    deviceDigest: device.digest, at: later, issuing: Self.tokens(seed, grant: GrantID(), new: true)))
            #expect(try await store.grant(id: try #require(tokens.newGrant?.id)) != nil)
            #expect(try await store.deviceCode(deviceDigest: device.digest)?.consumedAt == later)
            // Deleting the client takes its device codes with it.
            try await store.apply(
                .deleteClient(seed.client), recording: ClientStoreConformanceTests.event("d", seed.client))
            #expect(try await store.deviceCode(deviceDigest: device.digest) == nil)
        }
    }

    @Test(arguments: Backend.all) func aSingleUseInitialAccessTokenRegistersOneClient(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let token = InitialAccessToken(
                workspaceID: seed.workspace.id, digest: OpaqueToken.generate().digest, label: "partner",
                scopes: [.profile], singleUse: true, expiresAt: Fixture.epoch.addingTimeInterval(600),
                createdBy: seed.user.id, createdAt: Fixture.epoch)
            let event = AuditEvent(
                workspaceID: seed.workspace.id, actor: .commandLine, action: "initial_access_token.issued",
                targetKind: "initial_access_token", targetID: "\(token.id)", address: nil, occurredAt: Fixture.epoch)
            try await store.apply(.issueInitialAccessToken(token), recording: event)
            #expect(try await store.initialAccessToken(digest: token.digest) == token)
            #expect(try await store.initialAccessTokens(in: seed.workspace.id) == [token])
            func client(_ id: String) throws -> ClientApplication {
                var (client, _) = try Fixture.client(id, in: seed.workspace, type: .public)
                client.registeredBy = .appWithToken
                client.registrationTokenDigest = OpaqueToken.generate().digest
                client.tokenEndpointAuthMethod = TokenEndpointAuthMethod.none
                return client
            }
            let (one, two) = (try client("app-one"), try client("app-two"))
            // Two registrations at once: the token's one use goes to one of them; the other is refused.
            let stored = await withTaskGroup(of: Bool.self) { group in
                for candidate in [one, two] {
                    group.addTask {
                        do {
                            try await store.apply(
                                .registerClient(candidate, usingToken: token.id),
                                recording: ClientStoreConformanceTests.event("r", candidate))
                            return true
                        } catch {
                            return false
                        }
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(stored == 1)
            let registered = [try await store.client(id: one.id), try await store.client(id: two.id)].compactMap { $0 }
            #expect(registered.count == 1)
            #expect(registered.first?.registeredBy == .appWithToken)
            #expect(registered.first?.registrationTokenDigest != nil)
            let used = try #require(try await store.initialAccessToken(id: token.id))
            #expect(used.uses == 1 && !used.isUsable(at: Fixture.epoch))
        }
    }

    @Test(arguments: Backend.all) func signingKeysRotateRetiringTheCurrentOneOfTheirAlgorithm(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store async throws in
            let secret = try Fixture.signingKeySecret()
            let first = try secret.generateKey(.es256, at: Fixture.epoch)
            try await store.rotateSigningKeys(to: first)
            #expect(try await store.signingKeys() == [first])
            // A key of the other algorithm retires nothing: each algorithm has its current key.
            let rsa = try secret.generateKey(.rs256, at: Fixture.epoch.addingTimeInterval(30))
            try await store.rotateSigningKeys(to: rsa)
            #expect(try await store.signingKeys() == [first, rsa])
            let second = try secret.generateKey(.es256, at: Fixture.epoch.addingTimeInterval(60))
            try await store.rotateSigningKeys(to: second)
            var retired = first
            retired.retiredAt = second.createdAt
            #expect(try await store.signingKeys() == [retired, rsa, second])
            // The sealed private parts come back intact: they open under the secret that sealed them.
            #expect(try secret.open(second).algorithm == .es256)
            #expect(try secret.open(rsa).algorithm == .rs256)
        }
    }

    @Test(arguments: Backend.all) func aCodeIsReadBackAndRedeemedOnlyOnce(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let (token, code) = Self.code(seed)
            try await store.insert(code)
            #expect(try await store.authorizationCode(digest: token.digest) == code)
            let issued = Self.tokens(seed, grant: code.grantID, new: true)
            #expect(try await store.redeem(code, at: Fixture.epoch, issuing: issued))
            #expect(try await store.authorizationCode(digest: token.digest)?.consumedAt == Fixture.epoch)
            #expect(try await store.grant(id: code.grantID) == issued.newGrant)
            let refresh = try #require(issued.refreshToken)
            #expect(try await store.refreshToken(digest: refresh.digest)?.token == refresh)
            #expect(try await store.refreshToken(digest: refresh.digest)?.grant == issued.newGrant)
            // The second redemption stores nothing.
            let again = Self.tokens(seed, grant: GrantID(), new: true)
            #expect(try await store.redeem(code, at: Fixture.epoch, issuing: again) == false)
            #expect(try await store.grant(id: try #require(again.newGrant).id) == nil)
            #expect(try await store.refreshToken(digest: try #require(again.refreshToken).digest) == nil)
        }
    }

    @Test(arguments: Backend.all) func concurrentRedemptionsOfOneCodeLetExactlyOneThrough(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let (_, code) = Self.code(seed)
            try await store.insert(code)
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await store.redeem(
                            code, at: Fixture.epoch, issuing: Self.tokens(seed, grant: code.grantID, new: true))
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
        }
    }

    @Test(arguments: Backend.all) func aRefreshTokenRotatesOnlyOnce(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let grant = GrantID()
            let first = Self.tokens(seed, grant: grant, new: true)
            try await store.store(first)
            let refresh = try #require(first.refreshToken)
            let next = Self.tokens(seed, grant: grant, new: false)
            let later = Fixture.epoch.addingTimeInterval(10)
            #expect(try await store.rotate(refresh, at: later, issuing: next))
            #expect(try await store.refreshToken(digest: refresh.digest)?.token.usedAt == later)
            #expect(
                try await store.rotate(refresh, at: later, issuing: Self.tokens(seed, grant: grant, new: false))
                    == false)
            #expect(try await store.refreshToken(digest: try #require(next.refreshToken).digest)?.token.usedAt == nil)
        }
    }

    @Test(arguments: Backend.all) func aRetryWithinTheGraceRetiresTheUnansweredSuccessorAndStoresAFreshPair(
        _ backend: Backend
    ) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let grant = GrantID()
            let first = Self.tokens(seed, grant: grant, new: true)
            try await store.store(first)
            let refresh = try #require(first.refreshToken)
            let lost = Self.tokens(seed, grant: grant, new: false)
            let rotatedAt = Fixture.epoch.addingTimeInterval(10)
            #expect(try await store.rotate(refresh, at: rotatedAt, issuing: lost))
            let retry = Self.tokens(seed, grant: grant, new: false)
            let retriedAt = rotatedAt.addingTimeInterval(5)
            // Used before the grace began: no.
            #expect(
                try await !store.reissue(
                    after: refresh, usedSince: rotatedAt.addingTimeInterval(1), at: retriedAt, issuing: retry))
            #expect(try await store.refreshToken(digest: try #require(retry.refreshToken).digest) == nil)
            // Within it: the successor is retired and the fresh one stored.
            #expect(try await store.reissue(after: refresh, usedSince: rotatedAt, at: retriedAt, issuing: retry))
            let lostToken = try #require(lost.refreshToken)
            #expect(try await store.refreshToken(digest: lostToken.digest)?.token.usedAt == retriedAt)
            #expect(try await store.refreshToken(digest: try #require(retry.refreshToken).digest)?.token.usedAt == nil)
            #expect(try await store.refreshToken(digest: refresh.digest)?.token.usedAt == rotatedAt)
            // A revoked grant is reissued nothing.
            try await store.revokeGrant(id: grant, at: retriedAt)
            let after = Self.tokens(seed, grant: grant, new: false)
            #expect(try await !store.reissue(after: refresh, usedSince: rotatedAt, at: retriedAt, issuing: after))
            #expect(try await store.refreshToken(digest: try #require(after.refreshToken).digest) == nil)
        }
    }

    @Test(arguments: Backend.all) func anAccessTokenIsRevokedByItsIDAloneAndOnlyOnce(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let expiry = Fixture.epoch.addingTimeInterval(900)
            #expect(try await store.isAccessTokenRevoked(id: "0198a5c2-jti") == false)
            try await store.revokeAccessToken(
                id: "0198a5c2-jti", of: seed.client.id, expiresAt: expiry, at: Fixture.epoch)
            #expect(try await store.isAccessTokenRevoked(id: "0198a5c2-jti"))
            #expect(try await store.isAccessTokenRevoked(id: "0198a5c2-other") == false)
            // Revoking it again, later, is no error and no change.
            try await store.revokeAccessToken(
                id: "0198a5c2-jti", of: seed.client.id, expiresAt: expiry, at: Fixture.epoch.addingTimeInterval(5))
            #expect(try await store.isAccessTokenRevoked(id: "0198a5c2-jti"))
        }
    }

    @Test(arguments: Backend.all) func grantsAreRevokedOneAtATimeOrAllOfAUser(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let one = try #require(Self.tokens(seed, grant: GrantID(), new: true).newGrant)
            let two = try #require(Self.tokens(seed, grant: GrantID(), new: true).newGrant)
            try await store.store(IssuedTokens(newGrant: one, refreshToken: nil))
            try await store.store(IssuedTokens(newGrant: two, refreshToken: nil))
            try await store.revokeGrant(id: one.id, at: Fixture.epoch)
            #expect(try await store.grant(id: one.id)?.revokedAt == Fixture.epoch)
            #expect(try await store.grant(id: two.id)?.revokedAt == nil)
            let later = Fixture.epoch.addingTimeInterval(5)
            try await store.revokeGrants(of: seed.user.id, client: nil, at: later)
            #expect(try await store.grant(id: two.id)?.revokedAt == later)
            // An earlier revocation keeps its time.
            #expect(try await store.grant(id: one.id)?.revokedAt == Fixture.epoch)
        }
    }

    @Test(arguments: Backend.all) func consentsAreReplacedAndWithdrawingRevokesTheClientsGrantsAndCodes(
        _ backend: Backend
    ) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let consent = Consent(
                userID: seed.user.id, clientID: seed.client.id, workspaceID: seed.workspace.id, scopes: [.openid],
                terms: ConsentTerms(of: seed.client), grantedAt: Fixture.epoch)
            try await store.save(consent)
            var wider = consent
            wider.scopes = [.openid, .email]
            wider.terms = ConsentTerms(
                redirectURIs: ["https://app.example.com/cb", "http://127.0.0.1/cb"],
                grantTypes: [.authorizationCode, .refreshToken], scopes: [.openid, .email, .profile])
            try await store.save(wider)
            #expect(try await store.consent(of: seed.user.id, for: seed.client.id) == wider)
            #expect(try await store.consents(of: seed.user.id) == [wider])
            let issued = Self.tokens(seed, grant: GrantID(), new: true)
            try await store.store(issued)
            let (inFlight, code) = Self.code(seed)
            try await store.insert(code)
            #expect(try await store.withdraw(consentOf: seed.user.id, for: seed.client.id, at: Fixture.epoch))
            #expect(try await store.consent(of: seed.user.id, for: seed.client.id) == nil)
            #expect(try await store.grant(id: try #require(issued.newGrant).id)?.revokedAt == Fixture.epoch)
            #expect(try await store.authorizationCode(digest: inFlight.digest) == nil, "the code dies with the consent")
            #expect(try await store.withdraw(consentOf: seed.user.id, for: seed.client.id, at: Fixture.epoch) == false)
        }
    }

    @Test(arguments: Backend.all) func aConsentStoredWithoutTermsReadsBackWithout(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let old = Consent(
                userID: seed.user.id, clientID: seed.client.id, workspaceID: seed.workspace.id, scopes: [.openid],
                terms: nil, grantedAt: Fixture.epoch)
            try await store.save(old)
            let read = try #require(try await store.consent(of: seed.user.id, for: seed.client.id))
            #expect(read.terms == nil)
            #expect(!read.covers(seed.client, asking: [.openid]), "a consent from before terms covers no client")
        }
    }

    @Test(arguments: Backend.all) func revokingAUsersGrantsAndDisablingAClientKillTheirCodesInFlight(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let (first, firstCode) = Self.code(seed)
            try await store.insert(firstCode)
            try await store.revokeGrants(of: seed.user.id, client: seed.client.id, at: Fixture.epoch)
            #expect(try await store.authorizationCode(digest: first.digest) == nil)
            let (second, secondCode) = Self.code(seed)
            try await store.insert(secondCode)
            var disabled = seed.client
            disabled.isDisabled = true
            try await store.apply(
                .updateClient(disabled), recording: ClientStoreConformanceTests.event("client.disabled", disabled))
            #expect(try await store.authorizationCode(digest: second.digest) == nil)
        }
    }

    @Test(arguments: Backend.all) func sessionsAreStoredByDigestRecordTheirLastUseAndEndWithDeactivation(
        _ backend: Backend
    ) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let cookie = OpaqueToken.generate()
            let session = WebSession(
                digest: cookie.digest, userID: seed.user.id, workspaceID: seed.workspace.id, authTime: Fixture.epoch,
                expiresAt: Fixture.epoch.addingTimeInterval(3600))
            try await store.insert(session)
            #expect(try await store.session(digest: cookie.digest) == session)
            #expect(session.lastSeenAt == Fixture.epoch)
            let later = Fixture.epoch.addingTimeInterval(600)
            try await store.touchSession(digest: cookie.digest, at: later)
            #expect(try await store.session(digest: cookie.digest)?.lastSeenAt == later)
            let issued = Self.tokens(seed, grant: GrantID(), new: true)
            try await store.store(issued)
            var user = seed.user
            user.isActive = false
            try await store.apply(
                .deactivateUser(user),
                recording: AuditEvent(
                    workspaceID: seed.workspace.id, actor: .commandLine, action: "user.updated", targetKind: "user",
                    targetID: "\(user.id)", address: nil, occurredAt: Fixture.epoch))
            #expect(try await store.user(id: user.id)?.isActive == false)
            #expect(try await store.session(digest: cookie.digest) == nil)
            #expect(try await store.grant(id: try #require(issued.newGrant).id)?.revokedAt == Fixture.epoch)
            let other = OpaqueToken.generate()
            try await store.insert(
                WebSession(
                    digest: other.digest, userID: seed.user.id, workspaceID: seed.workspace.id, authTime: Fixture.epoch,
                    expiresAt: Fixture.epoch))
            try await store.deleteSession(digest: other.digest)
            #expect(try await store.session(digest: other.digest) == nil)
        }
    }

    @Test(arguments: Backend.all) func aUsersSessionsAreListedMostRecentlyUsedFirstWithWhereTheyCameFrom(
        _ backend: Backend
    ) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let older = WebSession(
                digest: OpaqueToken.generate().digest, userID: seed.user.id, workspaceID: seed.workspace.id,
                authTime: Fixture.epoch, expiresAt: Fixture.epoch.addingTimeInterval(3600),
                userAgent: "Firefox \u{2014} the laptop", address: "2001:db8::1")
            let newer = WebSession(
                digest: OpaqueToken.generate().digest, userID: seed.user.id, workspaceID: seed.workspace.id,
                authTime: Fixture.epoch.addingTimeInterval(60), expiresAt: Fixture.epoch.addingTimeInterval(3600))
            try await store.insert(older)
            try await store.insert(newer)
            #expect(try await store.sessions(of: seed.user.id) == [newer, older])
            try await store.touchSession(digest: older.digest, at: Fixture.epoch.addingTimeInterval(120))
            #expect(try await store.sessions(of: seed.user.id).map(\.digest) == [older.digest, newer.digest])
            #expect(try await store.sessions(of: UserID()).isEmpty)
        }
    }

    @Test(arguments: Backend.all) func aPasswordChangeEndsEverySessionButTheOneKeptAndNoGrant(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let cookies = (0..<3).map { _ in OpaqueToken.generate() }
            for cookie in cookies {
                try await store.insert(
                    WebSession(
                        digest: cookie.digest, userID: seed.user.id, workspaceID: seed.workspace.id,
                        authTime: Fixture.epoch, expiresAt: Fixture.epoch.addingTimeInterval(3600)))
            }
            let issued = Self.tokens(seed, grant: GrantID(), new: true)
            try await store.store(issued)
            var user = seed.user
            user.passwordHash = await Fixture.fastPasswords.hash(try Password("a brand new passphrase"))
            user.updatedAt = Fixture.epoch.addingTimeInterval(60)
            let event = AuditEvent(
                workspaceID: seed.workspace.id, actor: AuditActor(user: user.id, credential: "web_session"),
                action: "user.password_changed", targetKind: "user", targetID: "\(user.id)", address: nil,
                occurredAt: Fixture.epoch)
            try await store.apply(.changePassword(user, keepingSession: cookies[0].digest), recording: event)
            #expect(try await store.user(id: user.id) == user)
            #expect(try await store.session(digest: cookies[0].digest) != nil, "the browser that changed it")
            #expect(try await store.session(digest: cookies[1].digest) == nil)
            #expect(try await store.session(digest: cookies[2].digest) == nil)
            // The apps the user allowed keep their tokens: a password change is not a withdrawal.
            #expect(try await store.grant(id: try #require(issued.newGrant).id)?.revokedAt == nil)
            #expect(
                try await store.auditEvents(
                    in: seed.workspace.id, matching: AuditQuery(action: "user.password_changed")
                )
                .count == 1)
            // Set by the operator: no session is kept.
            try await store.apply(.changePassword(user, keepingSession: nil), recording: event)
            #expect(try await store.session(digest: cookies[0].digest) == nil)
            // Sessions alone, as "sign out everywhere else" ends them.
            for cookie in cookies {
                try await store.insert(
                    WebSession(
                        digest: cookie.digest, userID: seed.user.id, workspaceID: seed.workspace.id,
                        authTime: Fixture.epoch, expiresAt: Fixture.epoch.addingTimeInterval(3600)))
            }
            try await store.apply(.endSessions(user, keepingSession: cookies[2].digest), recording: event)
            #expect(try await store.sessions(of: user.id).map(\.digest) == [cookies[2].digest])
            #expect(try await store.user(id: user.id) == user)
        }
    }

    /// A password link of `user`, made at the epoch.
    static func link(_ user: User, _ purpose: PasswordLinkPurpose) -> PasswordLink {
        PasswordLink(
            digest: OpaqueToken.generate().digest, userID: user.id, workspaceID: user.workspaceID, purpose: purpose,
            createdAt: Fixture.epoch, expiresAt: Fixture.epoch.addingTimeInterval(purpose.lifetime))
    }

    @Test(arguments: Backend.all) func passwordLinksAreOneOfEachPurposeAndUsedOnceWithTheirPasswordChange(
        _ backend: Backend
    ) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let event = AuditEvent(
                workspaceID: seed.workspace.id, actor: .commandLine, action: "user.invited", targetKind: "user",
                targetID: "\(seed.user.id)", address: nil, occurredAt: Fixture.epoch)
            // An invited user is stored with their invitation.
            let bea = try Fixture.user("bea@acme.test", in: seed.workspace)
            let invitation = Self.link(bea, .invitation)
            try await store.apply(.inviteUser(bea, invitation), recording: event)
            #expect(try await store.user(id: bea.id) == bea)
            #expect(try await store.passwordLink(digest: invitation.digest) == invitation)
            // A new link of a purpose replaces the old; links of other purposes stay.
            let newer = Self.link(bea, .invitation)
            try await store.apply(.issuePasswordLink(bea, newer), recording: event)
            let reset = Self.link(bea, .reset)
            try await store.apply(.issuePasswordLink(bea, reset), recording: event)
            #expect(try await store.passwordLink(digest: invitation.digest) == nil)
            #expect(
                Set(try await store.passwordLinks(in: seed.workspace.id).map(\.digest)) == [newer.digest, reset.digest])
            // Cancelling one purpose leaves the other.
            try await store.apply(.cancelPasswordLink(bea, .invitation), recording: event)
            #expect(try await store.passwordLinks(in: seed.workspace.id).map(\.digest) == [reset.digest])

            // Using a link: the password, the other links and every session go in one step, once.
            let cookie = OpaqueToken.generate()
            try await store.insert(
                WebSession(
                    digest: cookie.digest, userID: bea.id, workspaceID: seed.workspace.id, authTime: Fixture.epoch,
                    expiresAt: Fixture.epoch.addingTimeInterval(3600)))
            try await store.apply(.issuePasswordLink(bea, newer), recording: event)
            var changed = bea
            changed.passwordHash = PasswordHash(encoded: "$sha256-bcrypt$2b$04$hash")
            try await store.apply(.setPasswordWithLink(changed, reset), recording: event)
            #expect(try await store.user(id: bea.id) == changed)
            #expect(try await store.passwordLinks(in: seed.workspace.id).isEmpty)
            #expect(try await store.session(digest: cookie.digest) == nil)
            var again = changed
            again.passwordHash = PasswordHash(encoded: "$sha256-bcrypt$2b$04$other")
            let before = try await store.auditEvents(in: seed.workspace.id, matching: AuditQuery()).count
            await #expect(throws: RecordNotFound.self) {
                try await store.apply(.setPasswordWithLink(again, reset), recording: event)
            }
            #expect(try await store.user(id: bea.id) == changed, "a used link changes nothing")
            #expect(try await store.auditEvents(in: seed.workspace.id, matching: AuditQuery()).count == before)

            // A password change or a deactivation ends the links too.
            try await store.apply(.issuePasswordLink(changed, Self.link(changed, .reset)), recording: event)
            try await store.apply(.changePassword(changed, keepingSession: nil), recording: event)
            #expect(try await store.passwordLinks(in: seed.workspace.id).isEmpty)
            try await store.apply(.issuePasswordLink(changed, Self.link(changed, .reset)), recording: event)
            var inactive = changed
            inactive.isActive = false
            try await store.apply(.deactivateUser(inactive), recording: event)
            #expect(try await store.passwordLinks(in: seed.workspace.id).isEmpty)
        }
    }

    @Test(arguments: Backend.all) func aSecondFactorsCodesAndRecoveryCodesAreUsedOnce(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let user = seed.user
            let event = AuditEvent(
                workspaceID: seed.workspace.id, actor: AuditActor(user: user.id, credential: "web_session"),
                action: "user.two_factor_enabled", targetKind: "user", targetID: "\(user.id)", address: nil,
                occurredAt: Fixture.epoch)
            var factor = StoredSecondFactor(
                userID: user.id, workspaceID: seed.workspace.id, sealedSecret: "sealed-1", createdAt: Fixture.epoch)
            try await store.apply(.startTwoFactor(user, factor), recording: event)
            #expect(try await store.secondFactor(of: user.id) == factor)
            factor.sealedSecret = "sealed-2"
            try await store.apply(.startTwoFactor(user, factor), recording: event)
            #expect(try await store.secondFactor(of: user.id)?.sealedSecret == "sealed-2", "a new start replaces")

            factor.confirmedAt = Fixture.epoch.addingTimeInterval(30)
            factor.lastUsedStep = 100
            let codes = (0..<3).map { SecretDigest(of: "code \($0)") }
            try await store.apply(.confirmTwoFactor(user, factor, recoveryCodes: codes), recording: event)
            #expect(try await store.secondFactor(of: user.id) == factor)
            #expect(try await store.unusedRecoveryCodes(of: user.id) == 3)

            #expect(try await !store.useTOTPStep(100, of: user.id), "the step used to confirm")
            #expect(try await store.useTOTPStep(101, of: user.id))
            #expect(try await !store.useTOTPStep(101, of: user.id), "a replay")
            #expect(try await !store.useTOTPStep(99, of: user.id), "an older step")
            #expect(try await store.secondFactor(of: user.id)?.lastUsedStep == 101)

            #expect(try await store.useRecoveryCode(codes[1], of: user.id, at: Fixture.epoch))
            #expect(try await !store.useRecoveryCode(codes[1], of: user.id, at: Fixture.epoch))
            #expect(try await !store.useRecoveryCode(SecretDigest(of: "never issued"), of: user.id, at: Fixture.epoch))
            #expect(try await store.unusedRecoveryCodes(of: user.id) == 2)
            try await store.apply(.replaceRecoveryCodes(user, [SecretDigest(of: "new")]), recording: event)
            #expect(try await store.unusedRecoveryCodes(of: user.id) == 1)
            #expect(try await !store.useRecoveryCode(codes[0], of: user.id, at: Fixture.epoch), "old codes are gone")

            let cookie = OpaqueToken.generate()
            try await store.insert(
                WebSession(
                    digest: cookie.digest, userID: user.id, workspaceID: seed.workspace.id, authTime: Fixture.epoch,
                    expiresAt: Fixture.epoch.addingTimeInterval(3600), amr: ["pwd", "otp"]))
            #expect(try await store.session(digest: cookie.digest)?.amr == ["pwd", "otp"])
            try await store.apply(.removeTwoFactor(user), recording: event)
            #expect(try await store.secondFactor(of: user.id) == nil)
            #expect(try await store.unusedRecoveryCodes(of: user.id) == 0)
            #expect(try await store.session(digest: cookie.digest) == nil, "removing it signs every browser out")
        }
    }

    @Test(arguments: Backend.all) func devicesAreFirstNewOrKnownPerUser(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let (laptop, phone) = (SecretDigest(of: "laptop"), SecretDigest(of: "phone"))
            #expect(try await store.rememberDevice(laptop, of: seed.user.id, at: Fixture.epoch) == .first)
            #expect(try await store.rememberDevice(laptop, of: seed.user.id, at: Fixture.epoch) == .known)
            #expect(try await store.rememberDevice(phone, of: seed.user.id, at: Fixture.epoch) == .new)
            #expect(try await store.rememberDevice(phone, of: seed.user.id, at: Fixture.epoch) == .known)
        }
    }

    @Test(arguments: Backend.all) func aSessionAwaitingItsSecondFactorReadsBackSo(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let cookie = OpaqueToken.generate()
            let session = WebSession(
                digest: cookie.digest, userID: seed.user.id, workspaceID: seed.workspace.id, authTime: Fixture.epoch,
                expiresAt: Fixture.epoch.addingTimeInterval(300), awaitsSecondFactor: true)
            try await store.insert(session)
            #expect(try await store.session(digest: cookie.digest) == session)
        }
    }

    @Test(arguments: Backend.all) func deletingAClientDeletesItsCodesTokensGrantsAndConsents(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store async throws in
            let seed = try await Self.seeded(store)
            let (token, code) = Self.code(seed)
            try await store.insert(code)
            let issued = Self.tokens(seed, grant: code.grantID, new: true)
            #expect(try await store.redeem(code, at: Fixture.epoch, issuing: issued))
            try await store.save(
                Consent(
                    userID: seed.user.id, clientID: seed.client.id, workspaceID: seed.workspace.id, scopes: [.openid],
                    terms: ConsentTerms(of: seed.client), grantedAt: Fixture.epoch))
            try await store.apply(
                .deleteClient(seed.client), recording: ClientStoreConformanceTests.event("client.deleted", seed.client))
            #expect(try await store.authorizationCode(digest: token.digest) == nil)
            #expect(try await store.grant(id: code.grantID) == nil)
            #expect(try await store.refreshToken(digest: try #require(issued.refreshToken).digest) == nil)
            #expect(try await store.consents(of: seed.user.id).isEmpty)
        }
    }

    @Test(arguments: Backend.all) func parallelSignInAttemptsEachGetTheirOwnCount(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        try await store.countAttempt(bucket: "sign_in:account:a", windowStart: Fixture.epoch)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(counts.sorted() == Array(1...200), "every attempt sees a count of its own")
        }
    }

    @Test(arguments: Backend.all) func signInAttemptsAreForgivenAndLiveInWindowsOfTheirOwn(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store async throws in
            let window = Fixture.epoch
            for _ in 0..<3 { _ = try await store.countAttempt(bucket: "sign_in:account:b", windowStart: window) }
            try await store.forgiveAttempt(bucket: "sign_in:account:b", windowStart: window)
            #expect(try await store.countAttempt(bucket: "sign_in:account:b", windowStart: window) == 3)
            // Request counting moving on to later minutes leaves the quarter-hour window alone.
            for minute in 1...3 {
                _ = try await store.leaseRequests(
                    bucket: "api_key:x", windowStart: window.addingTimeInterval(60 * Double(minute)), limit: 60)
            }
            #expect(try await store.countAttempt(bucket: "sign_in:account:b", windowStart: window) == 4)
            // Forgiving never goes below zero.
            for _ in 0..<10 { try await store.forgiveAttempt(bucket: "sign_in:account:c", windowStart: window) }
            #expect(try await store.countAttempt(bucket: "sign_in:account:c", windowStart: window) == 1)
        }
    }
}
