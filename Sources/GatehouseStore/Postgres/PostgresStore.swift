import Foundation
import GatehouseCore
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Synchronization
import _ConnectionPoolModule

/// The scale-out backend: several stateless Gatehouse instances share one PostgreSQL database.
package final class PostgresStore: GatehouseStorage {
    /// Serialises migrations across every instance that starts at the same moment.
    static let migrationLockKey: Int64 = 0x6761_7465_686f_7573  // "gatehous"

    let location: PostgresLocation
    let client: PostgresClient
    let logger: Logger
    let maximumConnections: Int
    /// Queries and transactions holding or waiting for a pooled connection.
    private let inFlight = Atomic<Int>(0)
    /// The queries still waiting for a pooled connection, which one timer gives up on after `leaseTimeout`.
    private let leaseWaits = LeaseWaits(timeout: PostgresStore.leaseTimeout)
    /// This process's row in `instance_leases`, and how long each renewal of it lasts (see `+Leases`).
    let instanceID = UUID()
    let leaseDuration: Duration
    let lease = Mutex(EpochLease())
    /// The newest epoch a change made through this store raised and then waited for: tests check that every
    /// change that raises the epoch waits.
    package let lastAwaitedEpoch = Atomic<Int64>(0)

    /// Prepares a connection pool; nothing connects until `run()` is running and a query is made.
    package init(
        _ location: PostgresLocation, maximumConnections: Int = 20, leaseDuration: Duration = .seconds(2),
        logger: Logger
    ) {
        self.location = location
        self.logger = logger
        self.maximumConnections = maximumConnections
        self.leaseDuration = leaseDuration
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: Self.clientTLS(location.tls))
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = Self.startupParameters(location)
        self.client = PostgresClient(
            configuration: configuration, eventLoopGroup: SpreadEventLoops(PostgresClient.defaultEventLoopGroup),
            backgroundLogger: logger)
    }

    package func run() async {
        await client.run()
    }

    /// Runs pending migrations on one dedicated connection holding a session advisory lock, so that
    /// instances starting together apply each version exactly once. Fails fast with a readable reason when
    /// the server cannot be reached.
    package func migrate() async throws -> [Int] {
        let connection = try await connectDirectly()
        do {
            try await connection.query("SELECT pg_advisory_lock(\(Self.migrationLockKey))", logger: logger)
            let applied = try await applyPendingMigrations(on: connection)
            try await connection.query("SELECT pg_advisory_unlock(\(Self.migrationLockKey))", logger: logger)
            try await connection.close()
            return applied
        } catch {
            try? await connection.close()
            throw error
        }
    }

    package func checkReachable() async throws {
        do {
            // Read the rows to the end: that is what hands the connection back to the pool.
            try await withDeadline(.seconds(2)) { _ = try await self.rows("SELECT 1") }
        } catch {
            throw StoreUnavailable("PostgreSQL did not answer: \(Self.describe(error))")
        }
    }

    // MARK: Queries

    package var load: StoreLoad {
        StoreLoad(backend: "postgres", inFlight: inFlight.load(ordering: .relaxed), connections: maximumConnections)
    }

    /// Runs `query` on a pooled connection and returns its rows, with uniqueness failures translated.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await rows { connection in
            try await connection.query(query, logger: self.logger).map { $0.makeRandomAccess() }
        }
    }

    /// Runs a prepared statement (`Prepared`) on a pooled connection and returns its rows, with uniqueness
    /// failures translated; the connection prepares it the first time it runs it.
    func rows<Text>(_ statement: Prepared<Text>) async throws -> [PostgresRandomAccessRow] {
        try await rows { connection in try await connection.execute(statement, logger: self.logger) }
    }

    private func rows<Rows: AsyncSequence & SendableMetatype>(
        _ run: @escaping @Sendable (PostgresConnection) async throws -> Rows
    ) async throws -> [PostgresRandomAccessRow]
    where Rows.Element == PostgresRandomAccessRow, Rows.AsyncIterator: SendableMetatype {
        inFlight.add(1, ordering: .relaxed)
        defer { inFlight.subtract(1, ordering: .relaxed) }
        return try await translatingErrors {
            try await withLeasedConnection { connection in
                var result: [PostgresRandomAccessRow] = []
                for try await row in try await run(connection) { result.append(row) }
                return result
            }
        }
    }

    /// Runs `body` in one transaction on one connection. A transaction PostgreSQL ends as a deadlock or a
    /// serialization failure is run again, up to three times in all: changes that alter credentials all raise the
    /// one credential-epoch row, so two of them touching the same rows in another order can deadlock.
    ///
    /// A transaction that raised the credential epoch returns only once every live instance has acknowledged the
    /// epoch it reached, or has lost its lease (`awaitAcknowledgements(of:committedAt:)`).
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T)
        async throws -> T
    {
        inFlight.add(1, ordering: .relaxed)
        defer { inFlight.subtract(1, ordering: .relaxed) }
        var attempt = 1
        while true {
            do {
                let (value, raised) = try await translatingErrors {
                    try await withLeasedConnection { connection in
                        do {
                            return try await connection.withTransaction(logger: self.logger) { connection in
                                let value = try await body(connection)
                                return (value, try await Self.raisedEpoch(on: connection, logger: self.logger))
                            }
                        } catch let error as PostgresTransactionError {
                            throw error.closureError ?? error.commitError ?? error.beginError ?? error
                        }
                    }
                }
                if let raised { await awaitAcknowledgements(of: raised, committedAt: .now) }
                return value
            } catch let error as PSQLError
                where attempt < 3 && Self.retryable.contains(error.serverInfo?[.sqlState] ?? "")
            {
                attempt += 1
            }
        }
    }

    /// Runs one statement that may change what a credential can do, as a transaction of its own, so that it
    /// waits like every other such change (`transaction(_:)`).
    func changing(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await transaction { connection in
            var result: [PostgresRandomAccessRow] = []
            for try await row in try await connection.query(query, logger: self.logger) {
                result.append(row.makeRandomAccess())
            }
            return result
        }
    }

    /// How long a query may wait for a connection from the pool before the request is answered 503: when
    /// PostgreSQL is down or cut off, the pool keeps trying to connect and a request would wait for it.
    static let leaseTimeout: Duration = .milliseconds(1500)

    /// Runs `work` on a pooled connection, or throws `StoreUnavailable` when none is handed out within
    /// `leaseTimeout`. Once it has its connection, `work` runs as long as it takes: a statement is never cut off
    /// halfway, and a statement whose wait was given up never runs, so a write is never left in doubt.
    ///
    /// The lease is asked for in a task of its own, which the caller stops waiting for when the wait is given up:
    /// cancelling it would not return before the pool ends the connection attempt it may be in the middle of,
    /// which takes seconds to fail against a server that accepts connections and never answers. One timer
    /// (`LeaseWaits.watch`) looks at every wait, rather than one timer a query.
    private func withLeasedConnection<T: Sendable>(_ work: @escaping @Sendable (PostgresConnection) async throws -> T)
        async throws -> T
    {
        let client = client
        let wait = LeaseWait()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let answer = AnswerOnce(continuation)
                let waits = leaseWaits
                waits.add(wait)
                let attempt = Task {
                    let result: Result<T, any Error>
                    do {
                        result = .success(
                            try await client.withConnection { connection in
                                guard wait.claim() else { throw CancellationError() }
                                return try await work(connection)
                            })
                    } catch {
                        result = .failure(error)
                    }
                    waits.remove(wait)
                    answer.resume(with: result)
                }
                wait.onGiveUp {
                    attempt.cancel()
                    answer.resume(
                        with: .failure(StoreUnavailable("no PostgreSQL connection within \(Self.leaseTimeout)")))
                }
            }
        } onCancel: {
            wait.cancel()
        }
    }

    /// `deadlock_detected` and `serialization_failure`: the transaction did nothing and may simply run again.
    private static let retryable: Set<String> = ["40P01", "40001"]

    /// Class 08 (connection exception), `admin_shutdown`, `crash_shutdown`, `cannot_connect_now` (starting up)
    /// and `too_many_connections`: PostgreSQL went away or is not taking work, which a restart of it causes.
    static func isUnavailable(_ sqlState: String?) -> Bool {
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(sqlState)
    }

    private func translatingErrors<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            switch error.serverInfo?[.constraintName] {
            case "workspaces_slug_key": throw UniqueViolation(.workspaceSlug)
            case "users_email_key": throw UniqueViolation(.userEmail)
            case "departments_name_key": throw UniqueViolation(.departmentName)
            case "scope_definitions_pkey": throw UniqueViolation(.scopeName)
            case "api_keys_secret_digest_key": throw UniqueViolation(.apiKeyDigest)
            case "clients_pkey": throw UniqueViolation(.clientID)
            case "resource_servers_identifier_key": throw UniqueViolation(.resourceIdentifier)
            default: throw error
            }
        } catch let error as PSQLError where error.serverInfo == nil {
            // No answer from the server at all (connection refused, reset or closed): unavailable, so 503.
            throw StoreUnavailable("PostgreSQL did not answer: \(Self.describe(error))")
        } catch let error as PSQLError where Self.isUnavailable(error.serverInfo?[.sqlState]) {
            // The server is shutting down, restarting or out of connections: the work was not done, so 503.
            throw StoreUnavailable("PostgreSQL is unavailable: \(Self.describe(error))")
        } catch let error as ConnectionPoolError {
            throw StoreUnavailable("no connection to PostgreSQL could be made: \(error)")
        }
    }

    // MARK: Connections

    private func applyPendingMigrations(on connection: PostgresConnection) async throws -> [Int] {
        if let schema = location.schema {
            try await connection.query(
                PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: logger)
        }
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS gatehouse_migrations (
                version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)
            """, logger: logger)
        var done: Set<Int> = []
        for try await version in try await connection.query("SELECT version FROM gatehouse_migrations", logger: logger)
            .decode(Int.self)
        {
            done.insert(version)
        }
        var applied: [Int] = []
        for migration in PostgresMigrations.all where !done.contains(migration.version) {
            try await connection.withTransaction(logger: logger) { connection in
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO gatehouse_migrations (version, name, applied_at) VALUES (\(migration.version), \(migration.name), now())",
                    logger: logger)
            }
            applied.append(migration.version)
        }
        return applied
    }

    private func connectDirectly() async throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: try Self.connectionTLS(location.tls))
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = Self.startupParameters(location)
        do {
            return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch {
            throw StoreUnavailable(
                "cannot connect to PostgreSQL at \(location.host):\(location.port)/\(location.database): "
                    + Self.describe(error))
        }
    }

    private static func startupParameters(_ location: PostgresLocation) -> [(String, String)] {
        var parameters = [("application_name", "gatehouse")]
        if let schema = location.schema { parameters.append(("search_path", schema)) }
        return parameters
    }

    private static func clientTLS(_ mode: PostgresLocation.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    private static func connectionTLS(_ mode: PostgresLocation.TLSMode) throws -> PostgresConnection.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    /// A one-line reason fit for an operator: the server's own message, or the network failure.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return String(describing: underlying) }
            return String(describing: error.code)
        }
        return String(describing: error)
    }
}

/// An event-loop group whose `any()` takes turns, as `next()` does, where NIO's own stays on the loop it is called
/// from. The pool opens its connections from one task, so with NIO's every connection would share that task's loop;
/// and since Swift's tasks run on the event loops (`gatehouse serve`) and resume on the loop that answered them,
/// every request that read the database would go on on that one loop, leaving the others idle.
final class SpreadEventLoops: EventLoopGroup {
    let base: any EventLoopGroup

    init(_ base: any EventLoopGroup) { self.base = base }

    func next() -> any EventLoop { base.next() }
    func any() -> any EventLoop { base.next() }
    func makeIterator() -> EventLoopIterator { base.makeIterator() }
    func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable ((any Error)?) -> Void) {
        base.shutdownGracefully(queue: queue, callback)
    }
}

/// The deadline passed before the work finished.
struct DeadlineExceeded: Error {}

/// Runs `work`, throwing `DeadlineExceeded` if it takes longer than `limit`.
func withDeadline<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw DeadlineExceeded()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw DeadlineExceeded() }
        return first
    }
}

/// One query's wait for a pooled connection: it ends once, either claimed by the connection that came or given up.
final class LeaseWait: Sendable {
    private enum Phase {
        case waiting
        case claimed
        case givenUp
    }

    private struct State {
        var phase = Phase.waiting
        var giveUp: (@Sendable () -> Void)?
    }

    let started = ContinuousClock.now
    private let state = Mutex(State())

    /// What giving up does: stop the attempt and answer the caller. Done at once if the wait was given up already.
    func onGiveUp(_ action: @escaping @Sendable () -> Void) {
        let givenUp = state.withLock { state in
            if state.phase == .waiting { state.giveUp = action }
            return state.phase == .givenUp
        }
        if givenUp { action() }
    }

    /// True for the connection that came in time; false once the wait was given up.
    func claim() -> Bool {
        state.withLock { state in
            guard state.phase == .waiting else { return false }
            state.phase = .claimed
            state.giveUp = nil
            return true
        }
    }

    /// Gives the wait up unless its connection came first.
    func cancel() {
        let giveUp: (@Sendable () -> Void)? = state.withLock { state in
            guard state.phase == .waiting else { return nil }
            state.phase = .givenUp
            defer { state.giveUp = nil }
            return state.giveUp
        }
        giveUp?()
    }
}

/// The waits for a pooled connection in flight, and the one timer that gives up those older than the timeout.
/// The timer runs while there are waits, started by the first and ending with the last, so it holds whether or
/// not the store's `run()` still runs (a flush at shutdown, say).
final class LeaseWaits: Sendable {
    private struct State {
        var waits: [ObjectIdentifier: LeaseWait] = [:]
        var watching = false
    }

    private let timeout: Duration
    private let state = Mutex(State())

    init(timeout: Duration) { self.timeout = timeout }

    func add(_ wait: LeaseWait) {
        let start = state.withLock { state in
            state.waits[ObjectIdentifier(wait)] = wait
            defer { state.watching = true }
            return !state.watching
        }
        if start { Task { await self.watch() } }
    }

    func remove(_ wait: LeaseWait) { state.withLock { _ = $0.waits.removeValue(forKey: ObjectIdentifier(wait)) } }

    /// Every tenth of a second, gives up the waits older than the timeout, until none is left.
    private func watch() async {
        while true {
            try? await Task.sleep(for: .milliseconds(100))
            let cutoff = ContinuousClock.now - timeout
            let (expired, done) = state.withLock { state in
                let expired = state.waits.values.filter { $0.started <= cutoff }
                for wait in expired { state.waits[ObjectIdentifier(wait)] = nil }
                if state.waits.isEmpty { state.watching = false }
                return (expired, state.waits.isEmpty)
            }
            for wait in expired { wait.cancel() }
            if done { return }
        }
    }
}

/// Resumes a continuation with the first answer given, and ignores the rest.
private final class AnswerOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = Mutex(continuation) }

    func resume(with result: Result<T, any Error>) {
        continuation.withLock { continuation in
            continuation?.resume(with: result)
            continuation = nil
        }
    }
}
