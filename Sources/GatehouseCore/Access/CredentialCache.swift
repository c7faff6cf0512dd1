import Foundation
import Synchronization

/// What this instance verified or read recently, so the hot paths need not read the store for it: the principals
/// of bearer credentials, introspection answers, authenticated clients, the clients that authorization requests
/// name, the users that tokens are issued to and each workspace's scope definitions.
///
/// Every entry is tagged with the credential epoch it was read at (see `RateLimitStore.credentialEpoch()`),
/// and is served only while that is the newest epoch this instance has seen. Every API request checks the epoch
/// and the OAuth endpoints check it first thing (`currentEpoch(in:)`): SQLite reads it from the file; PostgreSQL
/// pushes each rise here by `NOTIFY`, and every change waits until each instance has acknowledged it or lost its
/// lease, so a change made anywhere (another instance, the command line) is never served from here to a
/// request that began after the change answered. Refusals are not kept: an unknown, revoked or refused
/// credential always reaches the store. Entries are keyed by a SHA-256 digest of the credential, never the
/// credential itself.
package final class CredentialCache: Sendable {
    private enum Key: Hashable {
        case bearer(SecretDigest)
        case introspected(SecretDigest)
        case client(SecretDigest)
        case registeredClient(ClientID)
        case user(UserID)
        case scopes(WorkspaceID)
    }

    private enum Value {
        case principal(Principal)
        case active(ActiveCredential)
        case client(ClientApplication)
        case user(User)
        case scopes([ScopeDefinition])

        var principal: Principal? { if case .principal(let principal) = self { principal } else { nil } }
        var active: ActiveCredential? { if case .active(let active) = self { active } else { nil } }
        var client: ClientApplication? { if case .client(let client) = self { client } else { nil } }
        var user: User? { if case .user(let user) = self { user } else { nil } }
        var scopes: [ScopeDefinition]? { if case .scopes(let definitions) = self { definitions } else { nil } }
    }

    private struct Entry {
        let value: Value
        let epoch: Int64
        /// When the entry must be read again, whatever the epoch: the credential's own expiry.
        let expiresAt: Date?
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// The newest epoch seen; nil before the first and after `reset()`, when nothing is served.
        var epoch: Int64?
        /// Lookups served from here, and those that had to go to the store, since start.
        var hits = 0
        var misses = 0
    }

    // A lock, not an actor: a hit is a dictionary lookup, far cheaper than hopping to an actor and back.
    private let state = Mutex(State())
    private let capacity: Int

    /// `capacity` bounds memory: past it the cache starts empty again.
    package init(capacity: Int = 100_000) { self.capacity = capacity }

    /// The principal `credential` stood for when it was read at the newest epoch seen, unless it has expired
    /// since; with that epoch.
    package func principal(for credential: SecretDigest, at now: Date) -> (principal: Principal, epoch: Int64)? {
        guard let (value, epoch) = entry(.bearer(credential), at: now), let principal = value.principal else {
            return nil
        }
        return (principal, epoch)
    }

    /// Keeps `principal`, read from the store at `epoch`. A read older than the newest epoch seen is not kept.
    package func remember(_ principal: Principal, for credential: SecretDigest, readAt epoch: Int64) {
        keep(.principal(principal), as: .bearer(credential), readAt: epoch, expiresAt: principal.credentialExpiresAt)
    }

    /// What introspecting `credential` answered at the newest epoch seen, unless it has expired since.
    package func introspection(of credential: SecretDigest, at now: Date) -> ActiveCredential? {
        entry(.introspected(credential), at: now)?.value.active
    }

    /// Keeps an introspection answer read at `epoch`. Only for credentials whose every change raises the epoch.
    package func remember(_ active: ActiveCredential, for credential: SecretDigest, readAt epoch: Int64) {
        keep(.active(active), as: .introspected(credential), readAt: epoch, expiresAt: active.expiresAt)
    }

    /// The client that `credentials` (a digest of its id and secret) authenticated at the newest epoch seen.
    package func client(authenticatedBy credentials: SecretDigest, at now: Date) -> ClientApplication? {
        entry(.client(credentials), at: now)?.value.client
    }

    /// Keeps a client authentication made at `epoch`, until a previous secret's grace period would end.
    package func remember(_ client: ClientApplication, authenticatedBy credentials: SecretDigest, readAt epoch: Int64) {
        keep(.client(client), as: .client(credentials), readAt: epoch, expiresAt: client.secret?.previousExpiresAt)
    }

    /// The client application `id` as read at the newest epoch seen.
    package func client(_ id: ClientID) -> ClientApplication? {
        entry(.registeredClient(id), at: nil)?.value.client
    }

    /// Keeps `client`, read at `epoch`: every change to a client, its deletion included, raises the epoch.
    package func remember(_ client: ClientApplication, readAt epoch: Int64) {
        keep(.client(client), as: .registeredClient(client.id), readAt: epoch, expiresAt: nil)
    }

    /// The user `id` as read at the newest epoch seen.
    package func user(_ id: UserID) -> User? {
        entry(.user(id), at: nil)?.value.user
    }

    /// Keeps `user`, read at `epoch`: every change to a user, its deletion included, raises the epoch.
    package func remember(_ user: User, readAt epoch: Int64) {
        keep(.user(user), as: .user(user.id), readAt: epoch, expiresAt: nil)
    }

    /// `workspace`'s scope definitions as read at the newest epoch seen.
    package func scopeDefinitions(in workspace: WorkspaceID) -> [ScopeDefinition]? {
        entry(.scopes(workspace), at: nil)?.value.scopes
    }

    package func remember(_ definitions: [ScopeDefinition], in workspace: WorkspaceID, readAt epoch: Int64) {
        keep(.scopes(definitions), as: .scopes(workspace), readAt: epoch, expiresAt: nil)
    }

    private func entry(_ key: Key, at now: Date?) -> (value: Value, epoch: Int64)? {
        state.withLock { state in
            guard let entry = state.entries[key], entry.epoch == state.epoch else {
                state.misses += 1
                return nil
            }
            if let expiry = entry.expiresAt, let now, now >= expiry {
                state.entries[key] = nil
                state.misses += 1
                return nil
            }
            state.hits += 1
            return (entry.value, entry.epoch)
        }
    }

    /// Lookups served from the cache, and lookups that found nothing current, since start.
    package var lookups: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }

    private func keep(_ value: Value, as key: Key, readAt epoch: Int64, expiresAt: Date?) {
        state.withLock { state in
            Self.observe(epoch, in: &state)
            guard epoch == state.epoch else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = Entry(value: value, epoch: epoch, expiresAt: expiresAt)
        }
    }

    /// The credential epoch now: the newest seen, while `store` vouches that every change that has answered was
    /// pushed here (`RateLimitStore.pushedEpochIsCurrent`); otherwise read from `store`, and observed.
    package func currentEpoch(in store: any RateLimitStore) async throws -> Int64 {
        if store.pushedEpochIsCurrent, let epoch = state.withLock({ $0.epoch }) { return epoch }
        let epoch = try await store.credentialEpoch()
        observe(epoch)
        return epoch
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

    /// How many entries are kept; for tests and metrics.
    package var count: Int { state.withLock { $0.entries.count } }
}

/// The credential cache at the store's current epoch, for the OAuth endpoints, which count no request and so
/// read the epoch themselves, first thing: whatever they then take from the cache was current when the request
/// began.
package struct EpochCache: Sendable {
    package let cache: CredentialCache
    let store: any RateLimitStore

    package init(cache: CredentialCache, store: any RateLimitStore) {
        self.cache = cache
        self.store = store
    }

    /// The store's epoch now (`CredentialCache.currentEpoch(in:)`); the cache drops what is older.
    package func currentEpoch() async throws -> Int64 {
        try await cache.currentEpoch(in: store)
    }

    /// `workspace`'s scope definitions as they are now: every change to them raises the epoch.
    package func scopeDefinitions(
        in workspace: WorkspaceID, from scopes: any ScopeStore
    ) async throws -> [ScopeDefinition] {
        let epoch = try await currentEpoch()
        if let kept = cache.scopeDefinitions(in: workspace) { return kept }
        let definitions = try await scopes.scopeDefinitions(in: workspace)
        cache.remember(definitions, in: workspace, readAt: epoch)
        return definitions
    }

    /// The client application `id` as it is now: every change to a client raises the epoch. One not found is not
    /// kept.
    package func client(_ id: ClientID, from clients: any ClientStore) async throws -> ClientApplication? {
        try await readThrough(cache.client(id), read: { try await clients.client(id: id) }, keep: cache.remember)
    }

    /// The user `id` as they are now: every change to a user raises the epoch. Someone not found is not kept.
    package func user(_ id: UserID, from users: any UserStore) async throws -> User? {
        try await readThrough(cache.user(id), read: { try await users.user(id: id) }, keep: cache.remember)
    }

    /// `workspace`'s scope definitions through `cache` when there is one, else from `scopes`: for the services that
    /// run with and without the credential cache.
    package static func scopeDefinitions(
        in workspace: WorkspaceID, through cache: EpochCache?, from scopes: any ScopeStore
    ) async throws -> [ScopeDefinition] {
        if let cache { return try await cache.scopeDefinitions(in: workspace, from: scopes) }
        return try await scopes.scopeDefinitions(in: workspace)
    }

    /// The client application `id` through `cache` when there is one, else from `clients`.
    package static func client(_ id: ClientID, through cache: EpochCache?, from clients: any ClientStore)
        async throws -> ClientApplication?
    {
        if let cache { return try await cache.client(id, from: clients) }
        return try await clients.client(id: id)
    }

    /// The user `id` through `cache` when there is one, else from `users`.
    package static func user(_ id: UserID, through cache: EpochCache?, from users: any UserStore) async throws -> User?
    {
        if let cache { return try await cache.user(id, from: users) }
        return try await users.user(id: id)
    }

    /// What `kept` finds at the epoch now, or else what `read` finds in the store, kept at that epoch (the epoch is
    /// read first, so a change made during the read is never kept as current). Nothing found is not kept.
    private func readThrough<Value>(
        _ kept: @autoclosure () -> Value?, read: () async throws -> Value?, keep: (Value, Int64) -> Void
    ) async throws -> Value? {
        let epoch = try await currentEpoch()
        if let value = kept() { return value }
        guard let value = try await read() else { return nil }
        keep(value, epoch)
        return value
    }
}

/// Verifies bearer credentials through the cache: a hit costs no store read; a miss reads the epoch, then asks
/// each verifier in turn (API keys, access tokens) and keeps what they accept.
package struct CachedCredentials: Sendable {
    let verifiers: [any CredentialVerifier]
    package let cache: CredentialCache
    package let store: any RateLimitStore
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
        // The epoch first: a change committed after this read shows as a newer epoch when the request checks it.
        let epoch = try await cache.currentEpoch(in: store)
        for verifier in verifiers {
            if let principal = try await verifier.principal(for: bearer) {
                cache.remember(principal, for: digest, readAt: epoch)
                return (principal, epoch)
            }
        }
        return nil
    }
}
