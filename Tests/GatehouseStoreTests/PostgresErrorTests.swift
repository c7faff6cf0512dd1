import Foundation
import GatehouseCore
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import GatehouseStore

/// What PostgreSQL says when it restarts under a running instance is "unavailable" (503), not a failure (500).
@Suite("PostgreSQL errors")
struct PostgresErrorTests {
    @Test func aServerGoingAwayOrNotTakingWorkIsUnavailable() {
        for state in ["57P01", "57P02", "57P03", "53300", "08000", "08003", "08006"] {
            #expect(PostgresStore.isUnavailable(state), "\(state)")
        }
        for state in ["23505", "40P01", "40001", "42P01", "22P02", "XX000"] {
            #expect(!PostgresStore.isUnavailable(state), "\(state)")
        }
        #expect(!PostgresStore.isUnavailable(nil))
    }

    /// The pool opens its connections from one task, on one event loop: they must still be spread over the loops,
    /// or every request that reads the database goes on on that one loop (tasks resume where they were answered).
    @Test func theConnectionsLoopsTakeTurnsEvenWhenAskedFromALoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let spread = SpreadEventLoops(group)
        let asked = try await group.next().submit { (0..<4).map { _ in ObjectIdentifier(spread.any()) } }.get()
        let sticky = try await group.next().submit { (0..<4).map { _ in ObjectIdentifier(group.any()) } }.get()
        #expect(Set(asked).count == 2)
        #expect(Set(sticky).count == 1)
        try await group.shutdownGracefully()
    }

    /// A server that takes connections and never answers: PostgreSQL hung, or cut off behind a firewall that
    /// drops packets. The pool waits for it; a request must not.
    @Test func aDatabaseThatNeverAnswersIsUnavailableWithinTheLeaseTimeout() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let silent = try await ServerBootstrap(group: group)
            .childChannelInitializer { _ in group.any().makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { silent.close(promise: nil) }
        let port = try #require(silent.localAddress?.port)
        let location = try PostgresLocation(url: "postgres://gatehouse@127.0.0.1:\(port)/gatehouse?sslmode=disable")
        let store = PostgresStore(location, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await store.whileRunning(migrate: false) { store in
            for _ in 0..<2 {
                let started = ContinuousClock.now
                let error = await #expect(throws: StoreUnavailable.self) { _ = try await store.credentialEpoch() }
                let waited = ContinuousClock.now - started
                // Given up for the lease timeout: the pool itself would wait for the server for ever. (How long
                // after the timeout the answer comes depends on how busy these two cores are with the rest of the
                // suite; the 2-second figure is checked on the real binary, in e2e-foundation.)
                #expect("\(error.map { "\($0)" } ?? "")".contains("no PostgreSQL connection within"))
                #expect(waited >= PostgresStore.leaseTimeout, "\(waited)")
            }
        }
    }
}
