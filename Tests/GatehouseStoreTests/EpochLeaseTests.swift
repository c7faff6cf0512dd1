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
    /// Long enough that a renewal delayed by the load of the whole suite on two cores still leaves most of it.
    static let longLease = Duration.seconds(3)

    /// One instance: a store on a shared schema, and what its watcher told its observer.
    final class Instance: Sendable {
        let store: PostgresStore
        let told = Mutex<Int64>(0)
        /// Epochs above this are never acknowledged: the observer hangs, as a stalled instance would.
        let stallAbove = Mutex<Int64>(.max)
        private let watcher = Mutex<Task<Void, Never>?>(nil)

        init(_ location: PostgresLocation, lease: Duration) {
            store = PostgresStore(location, leaseDuration: lease, logger: TestBackend.quietLogger)
        }

        /// The promise itself: this instance was told of `epoch`, or it trusts nothing it holds.
        func toldOrDistrusting(_ epoch: Int64) -> Bool {
            told.withLock { $0 } >= epoch || !store.pushedEpochIsCurrent
        }

        /// Whether it was told of `epoch` and still trusts its cache: the usual case, when nothing is slow.
        func toldAndTrusting(_ epoch: Int64) -> Bool {
            told.withLock { $0 } >= epoch && store.pushedEpochIsCurrent
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
    static func withTwoInstances(
        lease: Duration = Self.lease, _ body: @Sendable (Instance, Instance) async throws -> Void
    ) async throws {
        guard case .postgres(let location) = try Backend.postgres.freshLocation() else { return }
        let (a, b) = (Instance(location, lease: lease), Instance(location, lease: lease))
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
            var toldWhileTrusting = 0
            for limit in 11...30 {
                key.rateLimitPerMinute = limit
                try await a.store.apply(.updateKey(key), recording: Self.event(acme))
                // At the moment the change answers, each instance has been told of it, or trusts nothing it holds
                // (its lease ran out first: under the load of the whole suite a renewal can be late).
                let epoch = try await a.store.credentialEpoch()
                #expect(b.toldOrDistrusting(epoch) && a.toldOrDistrusting(epoch))
                if b.toldAndTrusting(epoch) { toldWhileTrusting += 1 }
                // And a change made on B waits for A just the same.
                try await b.store.insert(
                    ScopeDefinition(
                        workspaceID: acme.id, scope: try Scope("s:\(limit)"), description: "s", roles: [.user],
                        createdAt: Fixture.epoch))
                let next = try await b.store.credentialEpoch()
                #expect(next > epoch && a.toldOrDistrusting(next) && b.toldOrDistrusting(next))
                if a.toldAndTrusting(next) { toldWhileTrusting += 1 }
            }
            // Usually it is the acknowledgement, not the lease running out, that lets the change answer.
            #expect(toldWhileTrusting > 0)
        }
    }

    @Test(.enabled(if: Backend.all.contains(.postgres)))
    func anInstanceThatDoesNotAcknowledgeIsWaitedForUntilItsLeaseRunsOutAndTrustsNothingAfter() async throws {
        try await Self.withTwoInstances(lease: Self.longLease) { a, b in
            let (acme, owner) = try await AccessStoreConformanceTests.seeded(a.store)
            var key = try AccessStoreConformanceTests.key(for: owner)
            try await a.store.apply(.insertKey(key), recording: Self.event(acme))
            b.stallAbove.withLock { $0 = 0 }
            key.status = .revoked
            let started = ContinuousClock.now
            try await a.store.apply(.updateKey(key), recording: Self.event(acme))
            let waited = ContinuousClock.now - started
            // B stalled with most of its lease to go (it renews every quarter of it): the change waited it out, and
            // never much past a whole lease.
            #expect(waited >= Self.longLease / 3, "\(waited)")
            #expect(waited < Self.longLease * 2, "\(waited)")
            #expect(!b.store.pushedEpochIsCurrent, "the stalled instance no longer trusts what it holds")
            #expect(b.told.withLock { $0 } < (try await a.store.credentialEpoch()))
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
            #expect(a.toldOrDistrusting(try await a.store.credentialEpoch()))
        }
    }
}
