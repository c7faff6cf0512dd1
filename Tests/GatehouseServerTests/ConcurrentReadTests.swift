import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseStore
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Reads run on the event loop that serves the request (SQLite's take microseconds). Many more concurrent
/// readers than the store has connections must not hold up the other connections a loop serves.
@Suite("Concurrent reads")
struct ConcurrentReadTests {
    @Test func moreConcurrentReadersThanThePoolHoldsDoNotStallOtherConnections() async throws {
        try await withAPI(framework: .live) { api async throws in
            let (workspace, owner) = try await api.workspace()
            for index in 0..<20 { _ = try await api.user("reader\(index)@acme.test", in: workspace) }
            let (_, key) = try await api.key(for: owner, rateLimit: 100_000)
            // Four times as many readers as SQLite has connections, each listing the users (a read every time).
            let readers = 4 * SQLiteStore.readerCount
            let deadline = ContinuousClock.now + .seconds(4)
            async let reads: [HTTPResponse.Status] = withThrowingTaskGroup(of: [HTTPResponse.Status].self) { group in
                for _ in 0..<readers {
                    group.addTask {
                        var statuses: [HTTPResponse.Status] = []
                        while ContinuousClock.now < deadline {
                            statuses.append(try await api.call(.get, "/api/v1/users", key: key).status)
                        }
                        return statuses
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            // Meanwhile another connection is answered promptly, time after time.
            var slowest: Duration = .zero
            var answered = 0
            while ContinuousClock.now < deadline {
                let started = ContinuousClock.now
                #expect(try await api.call(.get, "/healthz", key: nil).status == .ok)
                slowest = max(slowest, ContinuousClock.now - started)
                answered += 1
                try await Task.sleep(for: .milliseconds(20))
            }
            let statuses = try await reads
            #expect(statuses.count > readers)
            #expect(statuses.allSatisfy { $0 == .ok })
            // A loop held by a read waiting for a connection would hold /healthz until the reads end, four
            // seconds; the figure itself depends on the rest of the suite sharing these two cores.
            #expect(answered >= 3)
            #expect(slowest < .seconds(2), "the slowest /healthz took \(slowest)")
        }
    }
}
