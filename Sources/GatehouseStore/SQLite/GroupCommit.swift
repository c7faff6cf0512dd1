import GRDB
import Synchronization

/// Runs the store's writes in shared transactions: the writes that arrive while one transaction commits go
/// together in the next, each in a savepoint of its own (a write alone needs none: the transaction is its own).
///
/// SQLite commits one transaction at a time, and each commit appends every page it touched to the WAL. Under
/// load most of a write's cost is its commit, so sharing one between the writes that were waiting anyway
/// multiplies what the file can take. Nothing else changes for a caller: its write runs alone in its savepoint,
/// after the writes queued before it, and it resumes only once the transaction holding it is committed. A
/// write that throws rolls back its savepoint and gets its error; the others go on. When the transaction itself
/// fails, every write in it gets the error. With one write waiting, it is simply a transaction of its own.
final class GroupCommit: Sendable {
    private struct Queue {
        var waiting: [any GroupedWrite] = []
        var committing = false
    }

    private let pool: DatabasePool
    private let translate: @Sendable (any Error) -> any Error
    private let queue = Mutex(Queue())

    /// `translate` turns a write's database error into the error its caller gets.
    init(pool: DatabasePool, translate: @escaping @Sendable (any Error) -> any Error) {
        self.pool = pool
        self.translate = translate
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let write = Write(body: body, continuation: continuation, translate: translate)
            let start = queue.withLock { queue in
                queue.waiting.append(write)
                guard !queue.committing else { return false }
                queue.committing = true
                return true
            }
            if start { commitWaiting() }
        }
    }

    /// Commits what is waiting, and goes on while writes keep arriving: one hop to the writer's queue for a run
    /// of transactions, not one for each.
    private func commitWaiting() {
        pool.asyncWriteWithoutTransaction { db in
            repeat {
                let writes = self.queue.withLock { queue in
                    defer { queue.waiting.removeAll(keepingCapacity: true) }
                    return queue.waiting
                }
                self.commit(writes, in: db)
            } while self.queue.withLock { queue in
                if queue.waiting.isEmpty { queue.committing = false }
                return queue.committing
            }
        }
    }

    /// One transaction for `writes`, through statements prepared once (GRDB's `inTransaction` and `inSavepoint`
    /// parse theirs each time). A write alone runs in the transaction itself: its error rolls the transaction
    /// back and is its outcome.
    private func commit(_ writes: [any GroupedWrite], in db: Database) {
        do {
            try db.cachedExecute(sql: "BEGIN IMMEDIATE")
            if writes.count == 1 {
                try writes[0].runAlone(in: db)
            } else {
                for write in writes { try write.run(in: db) }
            }
            try db.cachedExecute(sql: "COMMIT")
            for write in writes { write.committed() }
        } catch {
            if db.isInsideTransaction { try? db.cachedExecute(sql: "ROLLBACK") }
            let translated = translate(error)
            for write in writes { write.failed(translated) }
        }
    }
}

/// One caller's write, waiting for its transaction.
private protocol GroupedWrite: Sendable {
    /// Runs the write in a savepoint. Throws only when the whole transaction is lost.
    func run(in db: Database) throws
    /// Runs the write as the transaction's only one: any error it meets ends the transaction.
    func runAlone(in db: Database) throws
    /// The transaction committed: the caller gets what its write gave, value or error.
    func committed()
    /// The transaction failed: the caller gets `error`.
    func failed(_ error: any Error)
}

/// Touched only on the writer's queue until its transaction ends, then resumed once.
private final class Write<T: Sendable>: GroupedWrite, @unchecked Sendable {
    let body: @Sendable (Database) throws -> T
    let continuation: CheckedContinuation<T, any Error>
    let translate: @Sendable (any Error) -> any Error
    var outcome: Result<T, any Error>?

    init(
        body: @escaping @Sendable (Database) throws -> T, continuation: CheckedContinuation<T, any Error>,
        translate: @escaping @Sendable (any Error) -> any Error
    ) {
        self.body = body
        self.continuation = continuation
        self.translate = translate
    }

    func run(in db: Database) throws {
        try db.cachedExecute(sql: "SAVEPOINT write")
        do {
            let value = try body(db)
            try db.cachedExecute(sql: "RELEASE write")
            outcome = .success(value)
        } catch {
            // Some failures (I/O, a full disk) end the whole transaction; then no write in it stands.
            guard db.isInsideTransaction else { throw error }
            try db.cachedExecute(sql: "ROLLBACK TO write")
            try db.cachedExecute(sql: "RELEASE write")
            outcome = .failure(translate(error))
        }
    }

    func runAlone(in db: Database) throws {
        outcome = .success(try body(db))
    }

    func committed() {
        continuation.resume(with: outcome ?? .failure(StoreUnavailableInBatch()))
    }

    func failed(_ error: any Error) {
        continuation.resume(throwing: error)
    }
}

/// A write that ran without an outcome, which cannot happen; reported rather than trapped.
private struct StoreUnavailableInBatch: Error, CustomStringConvertible {
    var description: String { "a grouped SQLite write finished without an outcome" }
}
