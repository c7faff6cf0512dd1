import Foundation
import GatehouseCore
import GatehouseStore
import Logging

/// The backend the storage and HTTP tests run on: SQLite in a temporary file, or the PostgreSQL server
/// named by `GATEHOUSE_TEST_DATABASE` (scripts/test starts a throwaway one), each test in a fresh schema.
package enum TestBackend {
    /// "sqlite" or "postgres", for test names and messages.
    package static var name: String { postgresURL == nil ? "sqlite" : "postgres" }

    static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["GATEHOUSE_TEST_DATABASE"], !url.isEmpty else { return nil }
        return url
    }

    /// A location nobody else uses: a new SQLite file, or a new PostgreSQL schema.
    package static func freshLocation() throws -> DatabaseLocation {
        let unique = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        if let url = postgresURL {
            let separator = url.contains("?") ? "&" : "?"
            return try DatabaseLocation(parsing: "\(url)\(separator)schema=t_\(unique)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-tests-\(unique)")
        return .sqlite(path: folder.appendingPathComponent("gatehouse.sqlite").path)
    }

    /// Opens a store without running its background work: for code that runs it itself, as the server does.
    package static func openStore(at location: DatabaseLocation? = nil) throws -> any GatehouseStorage {
        try StoreFactory.open(try location ?? freshLocation(), logger: quietLogger)
    }

    /// Opens a store at a fresh location, runs its background work, migrates it and hands it to `body`.
    package static func withStore<T: Sendable>(
        at location: DatabaseLocation? = nil, migrate: Bool = true,
        _ body: @Sendable (any GatehouseStorage) async throws -> T
    ) async throws -> T {
        try await openStore(at: location).whileRunning(migrate: migrate, body)
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
            redirectURIs: try redirectURIs.map(RedirectURI.init),
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
