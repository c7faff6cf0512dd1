import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseStore
import GatehouseTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization

/// The repository's Templates/ folder, wherever the tests run from.
let templatesDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Templates").path

/// One signing-key secret for every application the tests build, as the instances of one installation share
/// one.
let sharedSigningKeySecret: SigningKeySecret = {
    do { return try Fixture.signingKeySecret() } catch { preconditionFailure("\(error)") }
}()

/// What the operator would have seen on the console.
final class Console: Sendable {
    private let lines = Mutex<[String]>([])
    var messages: [String] { lines.withLock { $0 } }
    func write(_ message: String) { lines.withLock { $0.append(message) } }
}

/// Builds the real application, as `gatehouse serve` does, and runs `test` against it. The application runs
/// the store's background work itself, so `store` must not be running already.
func withApplication(
    on store: any GatehouseStorage, firstRun: FirstRunSettings? = nil, console: Console = Console(),
    framework: TestingSetup = .router, logger: Logger = TestBackend.quietLogger,
    _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let configuration = try ServerConfiguration(port: 0, templatesDirectory: templatesDirectory)
    let dependencies = ApplicationDependencies(
        store: store, clock: ManualClock(), passwords: Fixture.fastPasswords, firstRun: firstRun,
        peppers: try Fixture.peppers(),
        signingKeySecret: sharedSigningKeySecret, announce: { console.write($0) })
    let app = try await buildApplication(configuration, dependencies, logger: logger)
    try await app.test(framework) { client in try await test(client) }
}

/// Runs `test` against the real application on a fresh store of the backend under test.
func withApplication(
    firstRun: FirstRunSettings? = nil, console: Console = Console(), framework: TestingSetup = .router,
    logger: Logger = TestBackend.quietLogger,
    _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    try await withApplication(
        on: try TestBackend.openStore(), firstRun: firstRun, console: console, framework: framework, logger: logger,
        test)
}

/// The JSON error body every Gatehouse endpoint returns.
struct ErrorBody: Decodable, Equatable {
    let error: String
    let message: String
}

extension TestResponse {
    func decoded<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(body.readableBytesView))
    }

    var text: String { String(decoding: body.readableBytesView, as: UTF8.self) }
}

/// A mail server stand-in for the HTTP suites: it keeps what the application hands over to be sent, in order.
/// (The SMTP client itself is tested against a real server, aiosmtpd, in scripts/e2e-mail.)
final class Mailbox: MailSending, Sendable {
    private let stream: AsyncStream<OutgoingMail>
    private let continuation: AsyncStream<OutgoingMail>.Continuation
    private let taken = Mutex<[OutgoingMail]>([])

    init() { (stream, continuation) = AsyncStream.makeStream() }

    func send(_ mail: OutgoingMail) {
        taken.withLock { $0.append(mail) }
        continuation.yield(mail)
    }

    /// Every message handed over so far.
    var all: [OutgoingMail] { taken.withLock { $0 } }

    /// The next message handed over (some are handed over after the answer), or a failure after 10 seconds.
    func next() async throws -> OutgoingMail {
        let stream = stream
        return try await withThrowingTaskGroup(of: OutgoingMail?.self) { group in
            group.addTask {
                var iterator = stream.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                return nil
            }
            defer { group.cancelAll() }
            guard let mail = try await group.next() ?? nil else { throw NoMail() }
            return mail
        }
    }

    struct NoMail: Error {}
}
