import Foundation
import GatehouseCore
import GatehouseTestSupport
import Synchronization
import Testing

@Suite("Verifying API keys")
struct KeyVerificationTests {
    struct Setup {
        let clock = ManualClock()
        let peppers: KeyPeppers
        let plaintext = PlaintextKey.generate(prefix: .standard)
        let store: CountingVerificationStore
        let verifier: APIKeyVerifier
        let owner: User

        init(role: Role = .admin, scopes: KeyScopes = .ownerRights, expiresAt: Date? = nil) throws {
            peppers = try Fixture.peppers()
            var owner = try Fixture.user("ann@acme.test", in: try Fixture.workspace(), role: role)
            owner.privacyNoticeAcceptedAt = Fixture.epoch
            self.owner = owner
            let key = APIKey(
                workspaceID: owner.workspaceID, owner: .user(owner.id), name: "ci", prefix: "gate",
                lastFour: plaintext.lastFour, digest: peppers.current.digest(plaintext), scopes: scopes, createdBy: nil,
                createdAt: Fixture.epoch, updatedAt: Fixture.epoch, expiresAt: expiresAt)
            store = CountingVerificationStore(key: key, user: owner)
            verifier = APIKeyVerifier(store: store, peppers: peppers, clock: clock, settings: try APIKeySettings())
        }
    }

    @Test func aWrongChecksumIsRefusedWithoutAStoreRead() async throws {
        let setup = try Setup()
        var typo = Array(setup.plaintext.value)
        typo[10] = typo[10] == "A" ? "B" : "A"
        await #expect(throws: CredentialRefusal.invalid) {
            try await setup.verifier.principal(for: String(typo))
        }
        #expect(setup.store.reads == 0)
    }

    @Test func somethingThatIsNotAKeyIsLeftToOtherVerifiers() async throws {
        let setup = try Setup()
        #expect(try await setup.verifier.principal(for: "eyJhbGciOiJFUzI1NiJ9.e30.sig") == nil)
        #expect(setup.store.reads == 0)
    }

    @Test func aGenuineKeyActsWithItsOwnersRoleAndDefaultLimit() async throws {
        let setup = try Setup(role: .admin)
        let principal = try #require(try await setup.verifier.principal(for: setup.plaintext.value))
        #expect(principal.user?.id == setup.owner.id)
        #expect(principal.scopes == BuiltInScopes.scopes(of: .admin))
        #expect(principal.rateLimitPerMinute == 60)
    }

    @Test func chosenScopesAreBoundedByTheOwnersCurrentRole() async throws {
        let setup = try Setup(role: .admin, scopes: .only([.usersRead, .apiKeysRead]))
        #expect(try await setup.verifier.principal(for: setup.plaintext.value)?.scopes == [.usersRead, .apiKeysRead])
        var demoted = setup.owner
        demoted.role = .user
        setup.store.setUser(demoted)
        #expect(try await setup.verifier.principal(for: setup.plaintext.value)?.scopes == [])
    }

    @Test func anExpiredKeyIsRefusedLikeAnUnknownOne() async throws {
        let setup = try Setup(expiresAt: Fixture.epoch.addingTimeInterval(60))
        #expect(try await setup.verifier.principal(for: setup.plaintext.value) != nil)
        setup.clock.advance(by: 60)
        await #expect(throws: CredentialRefusal.invalid) {
            try await setup.verifier.principal(for: setup.plaintext.value)
        }
    }

    @Test func aDeactivatedOrUnconsentedOwnerStopsTheKey() async throws {
        let setup = try Setup()
        var owner = setup.owner
        owner.isActive = false
        setup.store.setUser(owner)
        await #expect(throws: CredentialRefusal.userDeactivated) {
            try await setup.verifier.principal(for: setup.plaintext.value)
        }
        owner.isActive = true
        owner.privacyNoticeAcceptedAt = nil
        setup.store.setUser(owner)
        await #expect(throws: CredentialRefusal.privacyNoticeNotAccepted) {
            try await setup.verifier.principal(for: setup.plaintext.value)
        }
    }

    @Test func keysMadeUnderAnOlderPepperStillVerifyAfterRotation() async throws {
        let setup = try Setup()
        let newer = try KeyPepper(version: 2, secret: Array(repeating: 7, count: 32))
        let rotated = try KeyPeppers(setup.peppers.all + [newer])
        let verifier = APIKeyVerifier(
            store: setup.store, peppers: rotated, clock: setup.clock, settings: try APIKeySettings())
        #expect(try await verifier.principal(for: setup.plaintext.value) != nil)
    }
}

@Suite("Rate limits and last use")
struct RateLimitTests {
    @Test func windowsAreUTCMinutesAndResetAtTheBoundary() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_790_000_000))  // 20 s into a minute
        let limiter = RateLimiter(store: MemoryRateLimitStore(), clock: clock)
        let first = try await limiter.admit(bucket: "k", limit: 3)
        #expect(first == RateLimitDecision(allowed: true, limit: 3, remaining: 2, resetAfter: 40))
        _ = try await limiter.admit(bucket: "k", limit: 3)
        #expect(try await limiter.admit(bucket: "k", limit: 3).remaining == 0)
        let refused = try await limiter.admit(bucket: "k", limit: 3)
        #expect(!refused.allowed && refused.resetAfter == 40)
        clock.advance(by: 39.5)
        #expect(try await limiter.admit(bucket: "k", limit: 3).resetAfter == 1)
        clock.advance(by: 0.5)
        #expect(
            try await limiter.admit(bucket: "k", limit: 3)
                == RateLimitDecision(allowed: true, limit: 3, remaining: 2, resetAfter: 60))
    }

    @Test func bucketsAreCountedApart() async throws {
        let limiter = RateLimiter(store: MemoryRateLimitStore(), clock: ManualClock())
        _ = try await limiter.admit(bucket: "a", limit: 1)
        #expect(try await limiter.admit(bucket: "b", limit: 1).allowed)
        #expect(try await !limiter.admit(bucket: "a", limit: 1).allowed)
    }

    @Test func aBusyKeyCostsAStoreWritePerLeaseNotPerRequest() async throws {
        let store = MemoryRateLimitStore()
        let limiter = RateLimiter(store: store, clock: ManualClock(Date(timeIntervalSince1970: 1_790_000_000)))
        let first = try await limiter.admit(bucket: "k", limit: 1_000)
        // A tenth of the window leased: 99 held here, 900 left for everyone.
        #expect(first == RateLimitDecision(allowed: true, limit: 1_000, remaining: 999, resetAfter: 40))
        for _ in 1..<200 { #expect(try await limiter.admit(bucket: "k", limit: 1_000).allowed) }
        // 100, then 90, then 81 of what was left.
        #expect(store.leases.withLock { $0 } == 3)
        #expect(try await limiter.admit(bucket: "k", limit: 1_000).remaining == 1_000 - 201)
    }

    @Test func concurrentRequestsWaitForTheOneLeaseOnItsWay() async throws {
        let store = MemoryRateLimitStore()
        let limiter = RateLimiter(store: store, clock: ManualClock(Date(timeIntervalSince1970: 1_790_000_000)))
        let allowed = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 { group.addTask { try await limiter.admit(bucket: "k", limit: 1_000).allowed } }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(allowed == 50)
        #expect(store.leases.withLock { $0 } == 1, "one lease of 100 serves all 50")
    }

    @Test func twoInstancesNeverAdmitMoreThanTheLimitAndAtLeastAllButOneLease() async throws {
        let store = MemoryRateLimitStore()
        let clock = ManualClock(Date(timeIntervalSince1970: 1_790_000_000))
        let a = RateLimiter(store: store, clock: clock)
        let b = RateLimiter(store: store, clock: clock)
        // A takes one request and keeps the rest of its lease (6 of 60); then all the load goes to B.
        #expect(try await a.admit(bucket: "k", limit: 60).allowed)
        var admittedByB = 0
        for _ in 0..<100 where try await b.admit(bucket: "k", limit: 60).allowed { admittedByB += 1 }
        // The stated bound: under by at most what the other instance holds unused.
        #expect(1 + admittedByB == 55)
        // What A holds is still A's to admit, and nothing past the limit is.
        var admittedByA = 1
        for _ in 0..<100 where try await a.admit(bucket: "k", limit: 60).allowed { admittedByA += 1 }
        #expect(admittedByA + admittedByB == 60)

        // Load spread over both, in any order: exactly the limit when both keep asking.
        var admitted = 0
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let limiter = Bool.random(using: &generator) ? a : b
            if try await limiter.admit(bucket: "spread", limit: 60).allowed { admitted += 1 }
        }
        let drained = try await [a, b].asyncReduce(0) { total, limiter in
            var more = 0
            for _ in 0..<10 where try await limiter.admit(bucket: "spread", limit: 60).allowed { more += 1 }
            return total + more
        }
        #expect(admitted + drained == 60)
    }

    @Test func anExhaustedWindowIsRefusedFromMemoryUntilItEndsOrTheLimitChanges() async throws {
        let store = MemoryRateLimitStore()
        let clock = ManualClock(Date(timeIntervalSince1970: 1_790_000_000))
        let limiter = RateLimiter(store: store, clock: clock)
        for _ in 0..<3 { #expect(try await limiter.admit(bucket: "k", limit: 3).allowed) }
        #expect(try await !limiter.admit(bucket: "k", limit: 3).allowed)
        let leases = store.leases.withLock { $0 }
        for _ in 0..<50 { #expect(try await !limiter.admit(bucket: "k", limit: 3).allowed) }
        #expect(store.leases.withLock { $0 } == leases, "refusals cost no store round trip")
        // A raised limit asks the store for what the new one leaves; a lowered one drops what was held.
        #expect(try await limiter.admit(bucket: "k", limit: 4).allowed)
        #expect(try await !limiter.admit(bucket: "k", limit: 2).allowed)
        clock.advance(by: 40)
        #expect(try await limiter.admit(bucket: "k", limit: 3).allowed)
    }

    @Test func lastUseIsWrittenAtMostOnceAMinutePerKey() async throws {
        let clock = ManualClock()
        let store = RecordingKeyStore()
        let recorder = LastUseRecorder(store: store, clock: clock)
        let key = APIKeyID()
        recorder.note(key, at: clock.now())
        try await recorder.flush()
        #expect(store.writes == [[key: clock.now()]])
        clock.advance(by: 30)
        recorder.note(key, at: clock.now())
        try await recorder.flush()
        #expect(store.writes.count == 1)
        clock.advance(by: 30)
        try await recorder.flush()
        #expect(store.writes.count == 2)
        #expect(store.writes.last == [key: clock.now().addingTimeInterval(-30)])
        try await recorder.flush()
        #expect(store.writes.count == 2)
    }

    @Test func shutdownWritesEveryPendingUse() async throws {
        let clock = ManualClock()
        let store = RecordingKeyStore()
        let recorder = LastUseRecorder(store: store, clock: clock)
        let key = APIKeyID()
        recorder.note(key, at: clock.now())
        try await recorder.flush()
        clock.advance(by: 5)
        recorder.note(key, at: clock.now())
        try await recorder.flush(everything: true)
        #expect(store.writes.count == 2)
        #expect(recorder.pendingCount == 0)
    }
}

@Suite("Verifying service keys")
struct ServiceKeyVerificationTests {
    struct Setup {
        let peppers: KeyPeppers
        let plaintext = PlaintextKey.generate(prefix: .standard)
        let store: CountingVerificationStore
        let verifier: APIKeyVerifier
        let client: ClientApplication

        init(scopes: KeyScopes = .ownerRights, clientWorkspace: Workspace? = nil) throws {
            peppers = try Fixture.peppers()
            let workspace = try Fixture.workspace()
            client = try Fixture.client("acme-sync", in: clientWorkspace ?? workspace).0
            let key = APIKey(
                workspaceID: workspace.id, owner: .client(client.id), name: "sync", prefix: "gate",
                lastFour: plaintext.lastFour, digest: peppers.current.digest(plaintext), scopes: scopes,
                rateLimitPerMinute: 600, createdBy: nil, createdAt: Fixture.epoch, updatedAt: Fixture.epoch)
            store = CountingVerificationStore(key: key, user: nil, client: client)
            verifier = APIKeyVerifier(
                store: store, peppers: peppers, clock: ManualClock(), settings: try APIKeySettings())
        }
    }

    @Test func aServiceKeyActsForItsClientWithEveryScopeOfTheWorkspace() async throws {
        let setup = try Setup()
        let principal = try #require(try await setup.verifier.principal(for: setup.plaintext.value))
        #expect(principal.user == nil)
        #expect(principal.client?.id == setup.client.id)
        #expect(principal.scopes == Set(BuiltInScopes.holders.keys))
        #expect(principal.role == .admin)
        #expect(principal.rateLimitPerMinute == 600)
    }

    @Test func aScopedServiceKeyCarriesOnlyItsScopes() async throws {
        let setup = try Setup(scopes: .only([.usersRead, .clientsRead]))
        #expect(try await setup.verifier.principal(for: setup.plaintext.value)?.scopes == [.usersRead, .clientsRead])
    }

    @Test func aDisabledClientStopsItsKeysAndEnablingItRestoresThem() async throws {
        let setup = try Setup()
        var client = setup.client
        client.isDisabled = true
        setup.store.setClient(client)
        await #expect(throws: CredentialRefusal.clientDisabled) {
            try await setup.verifier.principal(for: setup.plaintext.value)
        }
        client.isDisabled = false
        setup.store.setClient(client)
        #expect(try await setup.verifier.principal(for: setup.plaintext.value) != nil)
    }

    @Test func aClientOfAnotherWorkspaceOrAMissingOneIsRefusedLikeAnUnknownKey() async throws {
        let setup = try Setup(clientWorkspace: try Fixture.workspace("globex"))
        await #expect(throws: CredentialRefusal.invalid) {
            try await setup.verifier.principal(for: setup.plaintext.value)
        }
        let (other, _) = try Fixture.client("someone-else", in: try Fixture.workspace())
        setup.store.setClient(other)
        await #expect(throws: CredentialRefusal.invalid) {
            try await setup.verifier.principal(for: setup.plaintext.value)
        }
    }
}

extension Sequence {
    /// `reduce`, with an asynchronous step.
    fileprivate func asyncReduce<Result>(
        _ initial: Result, _ next: (Result, Element) async throws -> Result
    ) async rethrows -> Result {
        var result = initial
        for element in self { result = try await next(result, element) }
        return result
    }
}
