import Foundation
import GatehouseCore
import GatehouseTestSupport
import Synchronization
import Testing

/// The credential cache: hits cost no store read, and nothing is served once the credential epoch has moved.
@Suite("Credential cache")
struct CredentialCacheTests {
    /// A rate-limit store whose credential epoch the test moves, as another instance's change would.
    final class EpochStore: RateLimitStore {
        let epoch = Mutex<Int64>(7)
        /// Whether the store vouches for the epochs pushed to the cache, as PostgreSQL does under a live lease.
        let pushing = Mutex(false)
        /// How often the epoch was read.
        let reads = Mutex(0)

        func leaseRequests(bucket: String, windowStart: Date, limit: Int) async throws -> RequestLease {
            RequestLease(granted: 1, count: 1)
        }
        func credentialEpoch() async throws -> Int64 {
            reads.withLock { $0 += 1 }
            return epoch.withLock { $0 }
        }
        var pushedEpochIsCurrent: Bool { pushing.withLock { $0 } }
        func raise() { epoch.withLock { $0 += 1 } }
    }

    struct Setup {
        let keys: KeyVerificationTests.Setup
        let epochs = EpochStore()
        let cache = CredentialCache()
        let credentials: CachedCredentials

        init(expiresAt: Date? = nil) throws {
            keys = try KeyVerificationTests.Setup(expiresAt: expiresAt)
            credentials = CachedCredentials(
                verifiers: [keys.verifier], cache: cache, store: epochs, clock: keys.clock, lastUse: nil)
        }

        var key: String { keys.plaintext.value }
    }

    @Test func aSecondUseIsServedWithoutAStoreRead() async throws {
        let setup = try Setup()
        let first = try #require(try await setup.credentials.principal(for: setup.key))
        let reads = setup.keys.store.reads
        #expect(reads > 0 && first.epoch == 7)
        let second = try #require(try await setup.credentials.principal(for: setup.key))
        #expect(setup.keys.store.reads == reads)
        #expect(second.principal.user?.id == setup.keys.owner.id && second.epoch == 7)
    }

    @Test func aNewerEpochDropsWhatWasReadBeforeIt() async throws {
        let setup = try Setup()
        _ = try await setup.credentials.principal(for: setup.key)
        var demoted = setup.keys.owner
        demoted.role = .user
        setup.keys.store.setUser(demoted)
        setup.epochs.raise()
        // Until an instance sees the new epoch it cannot know; the next request's epoch check brings it.
        setup.cache.observe(try await setup.epochs.credentialEpoch())
        let after = try #require(try await setup.credentials.principal(for: setup.key))
        #expect(after.principal.role == .user && after.epoch == 8)
        #expect(!after.principal.scopes.contains(.usersRead))
    }

    @Test func theEpochIsReadUnlessTheStoreVouchesForWhatWasPushed() async throws {
        let setup = try Setup()
        #expect(try await setup.cache.currentEpoch(in: setup.epochs) == 7)
        #expect(try await setup.cache.currentEpoch(in: setup.epochs) == 7)
        #expect(setup.epochs.reads.withLock { $0 } == 2, "without the store's word, every request reads")
        setup.epochs.pushing.withLock { $0 = true }
        _ = try await setup.credentials.principal(for: setup.key)
        let reads = setup.epochs.reads.withLock { $0 }
        #expect(try await setup.cache.currentEpoch(in: setup.epochs) == 7)
        #expect(try await setup.credentials.principal(for: setup.key) != nil)
        #expect(setup.epochs.reads.withLock { $0 } == reads, "under the store's word, a hit reads nothing")
        // A pushed rise is the epoch from then on, and what was read before it is gone.
        setup.epochs.raise()
        setup.cache.observe(8)
        #expect(try await setup.cache.currentEpoch(in: setup.epochs) == 8)
        #expect(setup.cache.count == 0)
        // After a reset (a listener that came back), nothing is known: the epoch is read again.
        setup.cache.reset()
        #expect(try await setup.cache.currentEpoch(in: setup.epochs) == 8)
        #expect(setup.epochs.reads.withLock { $0 } == reads + 1)
    }

    @Test func aReadOlderThanTheNewestEpochSeenIsNotKept() async throws {
        let cache = CredentialCache()
        let setup = try Setup()
        let principal = try #require(try await setup.keys.verifier.principal(for: setup.key))
        cache.observe(9)
        cache.remember(principal, for: SecretDigest(of: setup.key), readAt: 8)
        #expect(cache.principal(for: SecretDigest(of: setup.key), at: Fixture.epoch) == nil)
        cache.remember(principal, for: SecretDigest(of: setup.key), readAt: 9)
        #expect(cache.principal(for: SecretDigest(of: setup.key), at: Fixture.epoch)?.epoch == 9)
        cache.reset()
        #expect(cache.count == 0)
        #expect(cache.principal(for: SecretDigest(of: setup.key), at: Fixture.epoch) == nil)
    }

    @Test func anExpiredKeyIsNeverServedFromTheCache() async throws {
        let setup = try Setup(expiresAt: ManualClock().now().addingTimeInterval(60))
        _ = try await setup.credentials.principal(for: setup.key)
        setup.keys.clock.advance(by: 61)
        await #expect(throws: CredentialRefusal.invalid) { try await setup.credentials.principal(for: setup.key) }
    }

    @Test func refusalsAreNotKept() async throws {
        let setup = try Setup()
        var deactivated = setup.keys.owner
        deactivated.isActive = false
        setup.keys.store.setUser(deactivated)
        await #expect(throws: CredentialRefusal.userDeactivated) {
            try await setup.credentials.principal(for: setup.key)
        }
        #expect(setup.cache.count == 0)
    }

    @Test func usersAndClientsAreServedOnlyAtTheEpochTheyWereReadAt() throws {
        let cache = CredentialCache()
        let workspace = try Fixture.workspace()
        let user = try Fixture.user("ann@acme.test", in: workspace, role: .user)
        let (client, _) = try Fixture.client("acme-spa", in: workspace, type: .public, scopes: [])
        cache.observe(7)
        cache.remember(user, readAt: 7)
        cache.remember(client, readAt: 7)
        #expect(cache.user(user.id) == user)
        #expect(cache.client(client.id) == client)
        // A client kept by its id is not an authentication: no credential finds it.
        #expect(cache.client(authenticatedBy: SecretDigest(of: "acme-spa"), at: Fixture.epoch) == nil)
        cache.observe(8)
        #expect(cache.user(user.id) == nil)
        #expect(cache.client(client.id) == nil)
        // A read from before the newest epoch seen is not kept.
        cache.remember(user, readAt: 7)
        cache.remember(client, readAt: 7)
        #expect(cache.user(user.id) == nil)
        #expect(cache.client(client.id) == nil)
        cache.remember(user, readAt: 8)
        cache.remember(client, readAt: 8)
        #expect(cache.user(user.id) == user)
        #expect(cache.client(client.id) == client)
    }
}
