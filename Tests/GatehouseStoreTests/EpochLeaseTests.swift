import Foundation
import GatehouseCore
import GatehouseTestSupport
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import GatehouseStore

/// PostgreSQL instances trust their pushed credential epoch only under a lease, and a change answers only once
/// every live lease has acknowledged it or run out.
@Suite("PostgreSQL epoch leases")
struct EpochLeaseTests {
    /// Short, so that waiting a whole lease out stays quick.
    static let lease = Duration.milliseconds(800)

    /// One instance: a store on a shared schema, and what its watcher told its observer.
    final class Instance: Sendable {
        let store: PostgresStore
        let told = Mutex<Int64>(0)
        /// Epochs above this are never acknowledged: the observer hangs, as a stalled instance would.
        let stallAbove = Mutex<Int64>(.max)
        private let watcher = Mutex<Task<Void, Never>?>(nil)

        init(_ location: PostgresLocation) {
            store = PostgresStore(location, leaseDuration: EpochLeaseTests.lease, logger: TestBackend.quietLogger)
        }

        func watch() {
            let task = Task { [self] in
                await store.watchCredentialEpoch { signal in
                    guard case .raised(let epoch) = signal else { return }
                    if epoch > self.stallAbove.withLock({ $0 }) { try? await Task.sleep(for: .seconds(60)) }
                    self.told.withLock { $0 = max($0, epoch) }
                }
            }
            watcher.withLock { $0 = task }
        }

        func stopWatching() async {
            let task = watcher.withLock { $0 }
            task?.cancel()
            await task?.value
        }
    }

    /// Two instances on one fresh schema, both running, migrated, and holding their leases.
    static func withTwoInstances(_ body: @Sendable (Instance, Instance) async throws -> Void) async throws {
        guard case .postgres(let location) = try Backend.postgres.freshLocation() else { return }
        let (a, b) = (Instance(location), Instance(location))
        try await a.store.whileRunning { _ in
            try await b.store.whileRunning(migrate: false) { _ in
                a.watch()
                b.watch()
                for _ in 0..<500 where !(a.store.pushedEpochIsCurrent && b.store.pushedEpochIsCurrent) {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(a.store.pushedEpochIsCurrent && b.store.pushedEpochIsCurrent)
                do {
                    try await body(a, b)
                } catch {
                    await a.stopWatching()
                    await b.stopWatching()
                    throw error
                }
                await a.stopWatching()
                await b.stopWatching()
            }
        }
    }

    static func event(_ workspace: Workspace) -> AuditEvent {
        AuditEvent(
            workspaceID: workspace.id, actor: .commandLine, action: "api_key.updated", targetKind: "api_key",
            targetID: "k", address: nil, occurredAt: Fixture.epoch)
    }

    @Test(.enabled(if: Backend.all.contains(.postgres))) func aChangeAnswersOnlyOnceEveryInstanceHasHeardIt()
        async throws
    {
        try await Self.withTwoInstances { a, b in
            let (acme, owner) = try await AccessStoreConformanceTests.seeded(a.store)
            var key = try AccessStoreConformanceTests.key(for: owner)
            try await a.store.apply(.insertKey(key), recording: Self.event(acme))
            for limit in 11...30 {
                key.rateLimitPerMinute = limit
                try await a.store.apply(.updateKey(key), recording: Self.event(acme))
                // At the moment the change answers, both instances have been told of it.
                let epoch = try await a.store.credentialEpoch()
                #expect(b.told.withLock { $0 } == epoch)
                #expect(a.told.withLock { $0 } == epoch)
                // And a change made on B waits for A just the same.
                try await b.store.insert(
                    ScopeDefinition(
                        workspaceID: acme.id, scope: try Scope("s:\(limit)"), description: "s", roles: [.user],
                        createdAt: Fixture.epoch))
                let next = try await b.store.credentialEpoch()
                #expect(next > epoch && a.told.withLock { $0 } == next)
            }
            #expect(a.store.pushedEpochIsCurrent && b.store.pushedEpochIsCurrent)
        }
    }

    @Test(.enabled(if: Backend.all.contains(.postgres)))
    func anInstanceThatDoesNotAcknowledgeIsWaitedForUntilItsLeaseRunsOutAndTrustsNothingAfter() async throws {
        try await Self.withTwoInstances { a, b in
            let (acme, owner) = try await AccessStoreConformanceTests.seeded(a.store)
            var key = try AccessStoreConformanceTests.key(for: owner)
            try await a.store.apply(.insertKey(key), recording: Self.event(acme))
            b.stallAbove.withLock { $0 = 0 }
            key.status = .revoked
            let started = ContinuousClock.now
            try await a.store.apply(.updateKey(key), recording: Self.event(acme))
            let waited = ContinuousClock.now - started
            // B stalled with part of its lease to go: the change waited it out, and never much past a whole lease.
            #expect(waited >= Self.lease / 4, "\(waited)")
            #expect(waited < Self.lease * 4, "\(waited)")
            #expect(!b.store.pushedEpochIsCurrent, "the stalled instance no longer trusts what it holds")
            #expect(b.told.withLock { $0 } < (try await a.store.credentialEpoch()))
            #expect(a.store.pushedEpochIsCurrent)
        }
    }

    @Test(.enabled(if: Backend.all.contains(.postgres)))
    func anInstanceThatStopsListeningTrustsNothingAndGivesItsLeaseUp() async throws {
        try await Self.withTwoInstances { a, b in
            await b.stopWatching()
            #expect(!b.store.pushedEpochIsCurrent)
            let rows = try await a.store.rows(
                "SELECT count(*) AS n FROM instance_leases WHERE instance_id = \(b.store.instanceID)")
            #expect(try rows.first?["n"].decode(Int.self) == 0)
            // A change now waits for A alone.
            let (acme, owner) = try await AccessStoreConformanceTests.seeded(a.store)
            var key = try AccessStoreConformanceTests.key(for: owner)
            try await a.store.apply(.insertKey(key), recording: Self.event(acme))
            key.status = .revoked
            try await a.store.apply(.updateKey(key), recording: Self.event(acme))
            #expect(a.told.withLock { $0 } == (try await a.store.credentialEpoch()))
        }
    }
}
