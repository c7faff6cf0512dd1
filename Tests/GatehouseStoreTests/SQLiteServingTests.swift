import Foundation
import GatehouseCore
import GatehouseStore
import GatehouseTestSupport
import Testing

/// What is particular to serving an SQLite file: one server process, request counts in its memory, and the
/// credential epoch read from the file so the command line's changes still reach the cache.
@Suite("SQLite serving")
struct SQLiteServingTests {
    static func freshPath() -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-tests-\(UUID())")
        return folder.appendingPathComponent("gatehouse.sqlite").path
    }

    @Test func theDatabaseIsReadableByItsOwnerAlone() async throws {
        let path = Self.freshPath()
        let store = try SQLiteStore(path: path, serving: true)
        try await store.migrate()
        func mode(_ path: String) throws -> Int {
            try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        }
        #expect(try mode(URL(fileURLWithPath: path).deletingLastPathComponent().path) == 0o700)
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(FileManager.default.fileExists(atPath: file), "\(file)")
            #expect(try mode(file) & 0o077 == 0, "\(file) is readable by others")
        }
    }

    @Test func aSecondServerOnTheSameFileIsRefusedUntilTheFirstHasGone() throws {
        let path = Self.freshPath()
        var first: SQLiteStore? = try SQLiteStore(path: path, serving: true)
        #expect(first != nil)
        #expect {
            _ = try SQLiteStore(path: path, serving: true)
        } throws: { error in
            "\(error)".contains("another gatehouse server is already serving \(path)")
                && "\(error)".contains("PostgreSQL")
        }
        // Commands open the file beside a running server.
        #expect(throws: Never.self) { _ = try SQLiteStore(path: path) }
        first = nil
        #expect(throws: Never.self) { _ = try SQLiteStore(path: path, serving: true) }
    }

    @Test func thereIsAReaderConnectionForEveryThreadThatRunsTasks() throws {
        let store = try SQLiteStore(path: Self.freshPath(), serving: true)
        // The writer, and readers for every event loop (one a core) with some to spare.
        #expect(store.load.connections - 1 == SQLiteStore.readerCount)
        #expect(SQLiteStore.readerCount > ProcessInfo.processInfo.activeProcessorCount)
    }

    @Test func aServerThatStopsDeletesItsLockAndTheNextOneServes() async throws {
        let path = Self.freshPath()
        let store = try SQLiteStore(path: path, serving: true)
        #expect(FileManager.default.fileExists(atPath: path + "-serve.lock"))
        let running = Task { await store.run() }
        running.cancel()
        await running.value
        #expect(!FileManager.default.fileExists(atPath: path + "-serve.lock"))
        // The store object is still alive, yet it serves no more: another process may.
        #expect(throws: Never.self) { _ = try SQLiteStore(path: path, serving: true) }
        withExtendedLifetime(store) {}
    }

    @Test func theEpochReadForEachRequestSeesAnotherConnectionsChangeAtOnce() async throws {
        let path = Self.freshPath()
        let server = try SQLiteStore(path: path, serving: true)
        _ = try await server.migrate()
        let workspace = try Fixture.workspace()
        let owner = try Fixture.user("owner@acme.test", in: workspace, role: .admin)
        try await server.insert(workspace, firstUser: owner)
        let before = try await server.credentialEpoch()

        // The command line is another connection to the same file.
        let commandLine = try SQLiteStore(path: path)
        var demoted = owner
        demoted.role = .user
        try await commandLine.apply(
            .updateUser(demoted),
            recording: AuditEvent(
                workspaceID: workspace.id, actor: .commandLine, action: "user.updated", targetKind: "user",
                targetID: "\(owner.id)", address: nil, occurredAt: Fixture.epoch))

        #expect(try await server.credentialEpoch() > before)
        #expect(!server.pushedEpochIsCurrent, "nothing pushes the command line's changes: the epoch is read")
    }

    @Test func countsAreKeptInMemoryPerWindowAndEndedWindowsAreForgotten() async throws {
        let store = try SQLiteStore(path: Self.freshPath(), serving: true)
        _ = try await store.migrate()
        let minute = Date(timeIntervalSince1970: 1_790_000_040)
        let next = minute.addingTimeInterval(60)
        func count(_ bucket: String, _ window: Date) async throws -> Int {
            try await store.leaseRequests(bucket: bucket, windowStart: window, limit: 1_000).count
        }
        for expected in [100, 190, 271] { #expect(try await count("a", minute) == expected) }
        #expect(try await count("b", next) == 100)
        #expect(try await count("a", next) == 100)
        // The new minute forgot the ended one: counting in it again starts from nothing.
        #expect(try await count("a", minute) == 100, "a window that has ended")
    }

    /// Writes made together share a transaction; each still stands or fails on its own.
    @Test func concurrentWritesEachGetTheirOwnOutcome() async throws {
        let store = try SQLiteStore(path: Self.freshPath(), serving: true)
        _ = try await store.migrate()
        let workspace = try Fixture.workspace()
        let owner = try Fixture.user("owner@acme.test", in: workspace, role: .admin)
        try await store.insert(workspace, firstUser: owner)
        let event = AuditEvent(
            workspaceID: workspace.id, actor: .commandLine, action: "api_key.created", targetKind: "api_key",
            targetID: "x", address: nil, occurredAt: Fixture.epoch)
        let peppers = try Fixture.peppers()
        let keys = (0..<60).map { _ in PlaintextKey.generate(prefix: .standard) }
        // Every third write repeats an earlier key's digest, which the store must refuse.
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for index in 0..<90 {
                let plaintext = keys[index % 3 == 2 ? index / 3 : index - index / 3]
                let key = APIKey(
                    workspaceID: workspace.id, owner: .user(owner.id), name: "k\(index)", prefix: plaintext.prefix,
                    lastFour: plaintext.lastFour, digest: peppers.current.digest(plaintext), scopes: .ownerRights,
                    rateLimitPerMinute: nil, createdBy: owner.id, createdAt: Fixture.epoch, updatedAt: Fixture.epoch,
                    expiresAt: nil)
                group.addTask {
                    do {
                        try await store.apply(.insertKey(key), recording: event)
                        return (index, true)
                    } catch let error as UniqueViolation {
                        #expect(error == UniqueViolation(.apiKeyDigest))
                        return (index, false)
                    }
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        let stored = try await store.apiKeys(in: workspace.id, status: nil, owner: nil)
        #expect(outcomes.values.filter { $0 }.count == 60)
        #expect(stored.count == 60)
        #expect(Set(stored.map(\.digest)).count == 60)
        let events = try await store.auditEvents(
            in: workspace.id, matching: AuditQuery(action: "api_key.created", limit: 500))
        #expect(events.count == 60, "a refused write leaves no audit event behind")
    }

    /// While a server runs, the WAL is copied into the database file by the checkpointer's thread, not by a
    /// commit: these few writes are far below the size at which a commit would checkpoint.
    @Test func theCheckpointerCopiesTheWALIntoTheFileWhileServing() async throws {
        let path = Self.freshPath()
        let store = try SQLiteStore(path: path, serving: true)
        try await store.whileRunning { store in
            let workspace = try Fixture.workspace()
            try await store.insert(
                workspace, firstUser: try Fixture.user("owner@acme.test", in: workspace, role: .admin))
            let before = try Self.fileSize(path)
            // About 400 KB of new pages: the file can only grow by them through a checkpoint, and a commit
            // would checkpoint only past 16 MB.
            let padding = String(repeating: "x", count: 1000)
            for index in 0..<400 {
                try await store.append(
                    AuditEvent(
                        workspaceID: workspace.id, actor: .commandLine, action: "test.padding", targetKind: "x",
                        targetID: "\(index)", address: nil, details: ["padding": padding], occurredAt: Fixture.epoch))
            }
            var grown = false
            for _ in 0..<200 where !grown {
                try await Task.sleep(for: .milliseconds(50))
                grown = try Self.fileSize(path) > before + 300_000
            }
            #expect(grown, "the database file took the WAL's pages")
        }
    }

    static func fileSize(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
    }
}
