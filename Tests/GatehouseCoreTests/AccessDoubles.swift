import Foundation
import GatehouseCore
import Synchronization

/// Counts windows in memory, atomically, like the stores do.
final class MemoryRateLimitStore: RateLimitStore {
    private let counts = Mutex<[String: Int]>([:])
    private let epoch = Mutex<Int64>(0)

    /// What a change to a credential does in a real store.
    func raiseEpoch() { epoch.withLock { $0 += 1 } }

    /// How many leases were asked for: the store round trips a real store would make.
    let leases = Mutex(0)

    func leaseRequests(bucket: String, windowStart: Date, limit: Int) async throws -> RequestLease {
        leases.withLock { $0 += 1 }
        return counts.withLock { counts in
            let key = "\(bucket)@\(windowStart.timeIntervalSince1970)"
            let granted = RateLimiter.leaseSize(left: limit - counts[key, default: 0])
            counts[key, default: 0] += granted
            return RequestLease(granted: granted, count: counts[key] ?? 0)
        }
    }

    func credentialEpoch() async throws -> Int64 { epoch.withLock { $0 } }

    var pushedEpochIsCurrent: Bool { false }
}

/// Serves one key and its owner (a user or a client), and counts every read, to prove which checks need none.
final class CountingVerificationStore: KeyVerificationStore {
    private let state: Mutex<(key: APIKey?, user: User?, client: ClientApplication?, reads: Int)>

    init(key: APIKey?, user: User?, client: ClientApplication? = nil) { state = Mutex((key, user, client, 0)) }

    var reads: Int { state.withLock { $0.reads } }

    func setUser(_ user: User) { state.withLock { $0.user = user } }

    func setClient(_ client: ClientApplication) { state.withLock { $0.client = client } }

    func client(id: ClientID) async throws -> ClientApplication? {
        state.withLock { state in
            state.reads += 1
            return state.client?.id == id ? state.client : nil
        }
    }

    func apiKey(digest: KeyDigest) async throws -> APIKey? {
        state.withLock { state in
            state.reads += 1
            return state.key?.digest == digest ? state.key : nil
        }
    }

    func user(id: UserID) async throws -> User? {
        state.withLock { state in
            state.reads += 1
            return state.user?.id == id ? state.user : nil
        }
    }

    func scopeDefinitions(in workspace: WorkspaceID) async throws -> [ScopeDefinition] {
        state.withLock { $0.reads += 1 }
        return []
    }
}

/// Records the batches of last-use writes.
final class RecordingKeyStore: APIKeyStore {
    private let batches = Mutex<[[APIKeyID: Date]]>([])
    var writes: [[APIKeyID: Date]] { batches.withLock { $0 } }

    func insert(_ key: APIKey) async throws {}
    func update(_ key: APIKey) async throws {}
    func apiKey(id: APIKeyID) async throws -> APIKey? { nil }
    func apiKey(digest: KeyDigest) async throws -> APIKey? { nil }
    func apiKeys(in workspace: WorkspaceID, status: KeyStatus?, owner: KeyOwner?) async throws -> [APIKey] { [] }
    func recordLastUse(_ uses: [APIKeyID: Date]) async throws { batches.withLock { $0.append(uses) } }
}
