import Foundation
import Synchronization

/// The principals this instance verified recently, so the hot path need not read the store for them.
///
/// Every entry is tagged with the credential epoch it was read at (see `RateLimitStore.credentialEpoch()`),
/// and is served only while that is the newest epoch this instance has seen. The epoch comes back with every
/// counted request, and on PostgreSQL also by `NOTIFY` the moment it rises, so a change made anywhere (another
/// instance, the command line) is never served from here after the next request has counted. Refusals are not
/// kept: an unknown, revoked or refused credential always reaches the store.
package final class CredentialCache: Sendable {
    struct Entry {
        let principal: Principal
        let epoch: Int64
    }

    private struct State {
        var entries: [SecretDigest: Entry] = [:]
        /// The newest epoch seen; nil before the first and after `reset()`, when nothing is served.
        var epoch: Int64?
    }

    // A lock, not an actor: a hit is a dictionary lookup, far cheaper than hopping to an actor and back.
    private let state = Mutex(State())
    private let capacity: Int

    /// `capacity` bounds memory: past it the cache starts empty again.
    package init(capacity: Int = 100_000) { self.capacity = capacity }

    /// The principal `credential` stood for when it was read at the newest epoch seen, unless it has expired
    /// since; with that epoch.
    package func principal(for credential: SecretDigest, at now: Date) -> (principal: Principal, epoch: Int64)? {
        state.withLock { state in
            guard let entry = state.entries[credential], entry.epoch == state.epoch else { return nil }
            if let expiry = entry.principal.credentialExpiresAt, now >= expiry {
                state.entries[credential] = nil
                return nil
            }
            return (entry.principal, entry.epoch)
        }
    }

    /// Keeps `principal`, read from the store at `epoch`. A read older than the newest epoch seen is not kept.
    package func remember(_ principal: Principal, for credential: SecretDigest, readAt epoch: Int64) {
        state.withLock { state in
            Self.observe(epoch, in: &state)
            guard epoch == state.epoch else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[credential] = Entry(principal: principal, epoch: epoch)
        }
    }

    /// Records an epoch seen in the store; a newer one than before drops everything read earlier.
    package func observe(_ seen: Int64) {
        state.withLock { Self.observe(seen, in: &$0) }
    }

    private static func observe(_ seen: Int64, in state: inout State) {
        if let epoch = state.epoch, seen <= epoch { return }
        state.entries.removeAll(keepingCapacity: true)
        state.epoch = seen
    }

    /// Forgets everything, until an epoch is seen again: for when notifications may have been missed.
    package func reset() {
        state.withLock { state in
            state.entries.removeAll()
            state.epoch = nil
        }
    }

    /// How many principals are kept; for tests and metrics.
    package var count: Int { state.withLock { $0.entries.count } }
}

/// Verifies bearer credentials through the cache: a hit costs no store read; a miss reads the epoch, then asks
/// each verifier in turn (API keys, access tokens) and keeps what they accept.
package struct CachedCredentials: Sendable {
    let verifiers: [any CredentialVerifier]
    package let cache: CredentialCache
    let store: any RateLimitStore
    let clock: any WallClock
    let lastUse: LastUseRecorder?

    package init(
        verifiers: [any CredentialVerifier], cache: CredentialCache, store: any RateLimitStore, clock: any WallClock,
        lastUse: LastUseRecorder?
    ) {
        self.verifiers = verifiers
        self.cache = cache
        self.store = store
        self.clock = clock
        self.lastUse = lastUse
    }

    /// The principal `bearer` stands for and the epoch it is known at; nil when no verifier knows this kind of
    /// credential. Throws `CredentialRefusal` when it is refused.
    package func principal(for bearer: String) async throws -> (principal: Principal, epoch: Int64)? {
        let digest = SecretDigest(of: bearer)
        let now = clock.now()
        if let hit = cache.principal(for: digest, at: now) {
            if case .apiKey(let id) = hit.principal.credential { lastUse?.note(id, at: now) }
            return hit
        }
        return try await read(bearer, digest: digest)
    }

    /// Reads `bearer` from the store whatever the cache holds, and keeps the answer.
    package func fresh(for bearer: String) async throws -> (principal: Principal, epoch: Int64)? {
        try await read(bearer, digest: SecretDigest(of: bearer))
    }

    private func read(_ bearer: String, digest: SecretDigest) async throws -> (principal: Principal, epoch: Int64)? {
        // The epoch first: a change committed after this read shows as a newer epoch at the request's count.
        let epoch = try await store.credentialEpoch()
        for verifier in verifiers {
            if let principal = try await verifier.principal(for: bearer) {
                cache.remember(principal, for: digest, readAt: epoch)
                return (principal, epoch)
            }
        }
        return nil
    }
}
