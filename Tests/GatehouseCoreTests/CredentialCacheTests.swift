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

        func countRequest(bucket: String, windowStart: Date) async throws -> CountedRequest {
            CountedRequest(count: 1, credentialEpoch: epoch.withLock { $0 })
        }
        func credentialEpoch() async throws -> Int64 { epoch.withLock { $0 } }
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
        // Until an instance sees the new epoch it cannot know; the count of the next request brings it.
        setup.cache.observe(try await setup.epochs.credentialEpoch())
        let after = try #require(try await setup.credentials.principal(for: setup.key))
        #expect(after.principal.role == .user && after.epoch == 8)
        #expect(!after.principal.scopes.contains(.usersRead))
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
}
