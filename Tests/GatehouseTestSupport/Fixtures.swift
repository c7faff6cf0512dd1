import Foundation
import GatehouseCore
import GatehouseStore
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A storage backend the conformance suites run on, as a test argument: every suite runs on each backend
/// `Backend.all` holds, in one `swift test`, so a developer sees both wherever PostgreSQL is installed.
package enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    /// SQLite always; PostgreSQL when a server is at hand (`TestPostgres`), or when `GATEHOUSE_REQUIRE_POSTGRES=1`
    /// says its absence must fail rather than pass unseen.
    package static let all: [Backend] =
        TestPostgres.url != nil || ProcessInfo.processInfo.environment["GATEHOUSE_REQUIRE_POSTGRES"] == "1"
        ? [.sqlite, .postgres] : [.sqlite]

    package var testDescription: String { rawValue }

    /// A location nobody else uses: a new SQLite file, or a new schema on the test PostgreSQL server.
    package func freshLocation() throws -> DatabaseLocation {
        let unique = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-tests-\(unique)")
            return .sqlite(path: folder.appendingPathComponent("gatehouse.sqlite").path)
        case .postgres:
            guard let url = TestPostgres.url else {
                throw TestPostgres.Missing()
            }
            let separator = url.contains("?") ? "&" : "?"
            return try DatabaseLocation(parsing: "\(url)\(separator)schema=t_\(unique)")
        }
    }

    /// Opens a store without running its background work: for code that runs it itself, as the server does.
    package func openStore(at location: DatabaseLocation? = nil) throws -> any GatehouseStorage {
        try StoreFactory.open(try location ?? freshLocation(), logger: TestBackend.quietLogger)
    }

    /// Opens a store at a fresh location, runs its background work, migrates it and hands it to `body`.
    package func withStore<T: Sendable>(
        at location: DatabaseLocation? = nil, migrate: Bool = true,
        _ body: @Sendable (any GatehouseStorage) async throws -> T
    ) async throws -> T {
        try await openStore(at: location).whileRunning(migrate: migrate, body)
    }
}

/// The PostgreSQL server of the tests: the one `GATEHOUSE_TEST_DATABASE` names (scripts/test starts one), or else a
/// throwaway cluster this test process starts itself when PostgreSQL's binaries are installed, with
/// scripts/lib/postgres.sh, and stops when it exits. Each test works in a schema of its own.
package enum TestPostgres {
    package struct Missing: Error, CustomStringConvertible {
        package var description: String {
            "GATEHOUSE_REQUIRE_POSTGRES=1, but no PostgreSQL server could be started (apt-get install postgresql)."
        }
    }

    /// The server's URL, or nil without one. Started at most once per process, on first use.
    package static let url: String? = {
        if let url = ProcessInfo.processInfo.environment["GATEHOUSE_TEST_DATABASE"], !url.isEmpty { return url }
        return startThrowawayCluster()
    }()

    private static let library = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/lib/postgres.sh").standardized.path

    private static func startThrowawayCluster() -> String? {
        guard
            let output = run(
                ". '\(library)' && postgres_available && start_throwaway_postgres >&2 && "
                    + #"printf '%s\n%s\n' "$GATEHOUSE_PG_URL" "$PG_TMP""#)
        else { return nil }
        let lines = output.split(separator: "\n").map(String.init)
        guard lines.count == 2 else { return nil }
        clusterFolder = strdup(lines[1])
        atexit {
            guard let folder = TestPostgres.clusterFolder else { return }
            _ = TestPostgres.run(
                ". '\(TestPostgres.library)' && PG_TMP='\(String(cString: folder))' stop_throwaway_postgres")
        }
        return lines[0]
    }

    /// The throwaway cluster's folder, for the exit handler (a C string: nothing else can reach it there).
    nonisolated(unsafe) private static var clusterFolder: UnsafeMutablePointer<CChar>?

    /// Runs `script` with bash; its standard output when it succeeds. The output goes through a file, not a
    /// pipe, which a server the script starts would hold open; and `system` waits with `waitpid`, where
    /// Foundation's `Process` waited on a run loop that never heard of the exit from inside a test.
    private static func run(_ script: String) -> String? {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-bash-\(UUID())")
        defer { try? FileManager.default.removeItem(at: file) }
        let quoted =
            "'" + "{ \(script); } > '\(file.path)' 2>/dev/null".replacingOccurrences(of: "'", with: #"'\''"#) + "'"
        guard system("/bin/bash -c \(quoted)") == 0, let data = try? Data(contentsOf: file) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The backend the HTTP suites run on: SQLite, or PostgreSQL when `GATEHOUSE_TEST_BACKEND=postgres` (scripts/test
/// runs them once on each). The storage conformance suites take `Backend` as a test argument instead.
package enum TestBackend {
    package static let backend: Backend =
        ProcessInfo.processInfo.environment["GATEHOUSE_TEST_BACKEND"] == "postgres" ? .postgres : .sqlite

    package static func freshLocation() throws -> DatabaseLocation { try backend.freshLocation() }

    package static func openStore(at location: DatabaseLocation? = nil) throws -> any GatehouseStorage {
        try backend.openStore(at: location)
    }

    package static func withStore<T: Sendable>(
        at location: DatabaseLocation? = nil, migrate: Bool = true,
        _ body: @Sendable (any GatehouseStorage) async throws -> T
    ) async throws -> T {
        try await backend.withStore(at: location, migrate: migrate, body)
    }

    /// A logger that only reports errors, so test output stays readable.
    package static var quietLogger: Logger {
        var logger = Logger(label: "gatehouse.tests")
        logger.logLevel = .error
        return logger
    }
}

/// Small builders for domain values, so tests state only what matters to them.
package enum Fixture {
    package static let epoch = Date(timeIntervalSince1970: 1_790_000_000)

    package static func workspace(_ slug: String = "acme", at date: Date = epoch) throws -> Workspace {
        Workspace(name: slug.capitalized, slug: try WorkspaceSlug(slug), createdAt: date)
    }

    package static func user(
        _ email: String, in workspace: Workspace, role: Role = .user, at date: Date = epoch
    ) throws -> User {
        User(
            workspaceID: workspace.id, email: try EmailAddress(email), name: "Test User", role: role, createdAt: date,
            updatedAt: date)
    }

    package static func newUser(
        _ email: String, role: Role = .user, department: String? = nil, manager: String? = nil,
        password: String? = nil
    ) throws -> NewUser {
        NewUser(
            email: try EmailAddress(email), name: try DisplayName("Test User"), role: role, departmentName: department,
            managerEmail: try manager.map { try EmailAddress($0) }, password: try password.map { try Password($0) })
    }

    /// A client application record (not stored), with a secret when confidential; returns the secret too.
    package static func client(
        _ id: String, in workspace: Workspace, type: ClientType = .confidential, redirectURIs: [String] = [],
        scopes: Set<Scope> = [.profile], at date: Date = epoch
    ) throws -> (ClientApplication, ClientSecret?) {
        let secret = type == .confidential ? ClientSecret.generate() : nil
        let client = ClientApplication(
            id: try ClientID(id), workspaceID: workspace.id, name: "Client \(id)", type: type,
            redirectURIs: try redirectURIs.map { try RedirectURI($0) },
            grantTypes: type == .confidential
                ? [.authorizationCode, .refreshToken, .clientCredentials]
                : [
                    .authorizationCode, .refreshToken,
                ], scopes: scopes, secret: secret.map { ClientSecretDigests(current: $0.digest) }, createdBy: nil,
            createdAt: date, updatedAt: date)
        return (client, secret)
    }

    /// A fresh random pepper, as a first run would generate.
    package static func peppers() throws -> KeyPeppers {
        try KeyPeppers(text: KeyPeppers.generatedText())
    }

    /// A fresh signing-key secret, as a first run would generate.
    package static func signingKeySecret() throws -> SigningKeySecret {
        try SigningKeySecret(text: SigningKeySecret.generatedText())
    }

    /// bcrypt at its minimum cost, so tests stay fast while exercising the real algorithm.
    package static let fastPasswords = BcryptPasswordHasher(cost: 4)
}

/// SplitMix64: the seeded generator of every test that draws random samples, so a failure repeats from its seed.
package struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
