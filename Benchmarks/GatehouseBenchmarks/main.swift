// The hot functions of a request, timed one by one: what a key check, a cache hit and an access-token check
// cost on their own, without HTTP or a store. A benchmark, not a test: it prints figures and asserts nothing.
// Run it in release mode: `swift run -c release GatehouseBenchmarks`.
import Crypto
import CryptoExtras
import Foundation
import GatehouseCore
import JWTKit

/// Runs `body` repeatedly for about half a second and returns the mean time of one run, in nanoseconds.
func nanoseconds(_ body: () async throws -> Void) async rethrows -> Double {
    let clock = ContinuousClock()
    for _ in 0..<100 { try await body() }  // warm up
    var runs = 0
    let started = clock.now
    while clock.now - started < .milliseconds(500) {
        for _ in 0..<100 { try await body() }
        runs += 100
    }
    let elapsed = clock.now - started
    return Double(elapsed.components.seconds) * 1e9 / Double(runs)
        + Double(elapsed.components.attoseconds) / 1e9 / Double(runs)
}

func report(_ name: String, _ nanoseconds: Double) {
    let name = name.padding(toLength: 52, withPad: " ", startingAt: 0)
    print("\(name) \(String(format: "%10.0f", nanoseconds)) ns")
}

/// Claims of the size and shape of Gatehouse's access tokens.
struct BenchClaims: JWTPayload {
    var iss = "https://gatehouse.example"
    var sub = "\(UUID())"
    var aud = "https://gatehouse.example"
    var client_id = "bench-web"
    var scope = "clients:read profile"
    var exp = Int64(Date().timeIntervalSince1970) + 900
    var iat = Int64(Date().timeIntervalSince1970)
    var jti = UUID().uuidString
    var workspace_id = "\(UUID())"

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
/// The benchmarks, in a nonisolated function so the timed calls run where they are made: timing them from
/// top-level code would add an executor hop to the main actor and back to every call.
enum HotFunctions {
    static func run() async throws {
        let peppers = try KeyPeppers(text: KeyPeppers.generatedText())
        let plaintext = PlaintextKey.generate(prefix: .standard)
        let workspace = WorkspaceID()
        let user = User(
            workspaceID: workspace, email: try EmailAddress("bench@example.com"), name: "Bench", role: .admin,
            createdAt: Date(), updatedAt: Date())
        let principal = Principal(
            workspaceID: workspace, user: user, role: .admin, scopes: BuiltInScopes.scopes(of: .admin),
            credential: .apiKey(APIKeyID()), rateLimitPerMinute: 60)
        let cache = CredentialCache()
        cache.remember(principal, for: SecretDigest(of: plaintext.value), readAt: 1)

        // Gatehouse signs with its own writer and verifies with JWTKit, as the server does.
        let key = P256.Signing.PrivateKey()
        let signer = JWSSigner(key: .es256(key), kid: "bench")
        let rsaSigner = JWSSigner(key: .rs256(try _RSA.Signing.PrivateKey(keySize: .bits2048)), kid: "bench-rsa")
        let verifier = JWTKeyCollection()
        await verifier.add(ecdsa: try ES256PrivateKey(backing: key), kid: "bench")
        let bench = BenchClaims()
        let claims = AccessTokenClaims(
            iss: bench.iss, sub: bench.sub, aud: bench.aud, clientID: bench.client_id, scope: bench.scope,
            exp: bench.exp, iat: bench.iat, jti: bench.jti, workspaceID: bench.workspace_id, authTime: nil)
        let token = try signer.sign(claims, type: "at+jwt")

        print("Gatehouse hot functions, mean time of one call")
        report(
            "parse an API key and check its checksum", await nanoseconds { _ = PlaintextKey(parsing: plaintext.value) })
        report(
            "digest an API key under the pepper (HMAC-SHA256)",
            await nanoseconds { _ = peppers.current.digest(plaintext) })
        report(
            "digest a bearer credential for the cache (SHA-256)",
            await nanoseconds { _ = SecretDigest(of: plaintext.value) })
        report(
            "find a principal in the credential cache",
            await nanoseconds {
                _ = cache.principal(for: SecretDigest(of: plaintext.value), at: Date())
            })
        report("sign an access token (ES256)", try await nanoseconds { _ = try signer.sign(claims, type: "at+jwt") })
        report(
            "sign the same claims with RS256 (RSA-2048)",
            try await nanoseconds { _ = try rsaSigner.sign(claims, type: "JWT") })
        report(
            "verify an access token (ES256, JWTKit)",
            try await nanoseconds {
                _ = try await verifier.verify(token, as: BenchClaims.self)
            })
        report("(an empty call: the harness's own cost)", await nanoseconds {})
    }
}

/// A user as `/api/v1/users` writes it, twice: with camelCase coding keys that the writer converts to
/// snake_case (as the representations are written now), and with snake_case raw values that need no strategy.
struct UserByStrategy: Encodable {
    var id = "\(UUID())"
    var email = "ada.lovelace@example.com"
    var name = "Ada Lovelace"
    var employeeId: String? = "E-1815"
    var title: String? = nil
    var departmentId: String? = "\(UUID())"
    var managerId: String? = nil
    var role = "admin"
    var active = true
    var privacyNoticeAcceptedAt: Date? = Date()
    var createdAt = Date()
    var updatedAt = Date()

    enum CodingKeys: CodingKey {
        case id, email, name, employeeId, title, departmentId, managerId, role, active, privacyNoticeAcceptedAt
        case createdAt, updatedAt
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(email, forKey: .email)
        try container.encode(name, forKey: .name)
        try container.encode(employeeId, forKey: .employeeId)
        try container.encode(title, forKey: .title)
        try container.encode(departmentId, forKey: .departmentId)
        try container.encode(managerId, forKey: .managerId)
        try container.encode(role, forKey: .role)
        try container.encode(active, forKey: .active)
        try container.encode(privacyNoticeAcceptedAt, forKey: .privacyNoticeAcceptedAt)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}

struct UserBySnakeKeys: Encodable {
    var user = UserByStrategy()

    enum CodingKeys: String, CodingKey {
        case id, email, name, title, role, active
        case employeeId = "employee_id", departmentId = "department_id", managerId = "manager_id"
        case privacyNoticeAcceptedAt = "privacy_notice_accepted_at"
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(user.id, forKey: .id)
        try container.encode(user.email, forKey: .email)
        try container.encode(user.name, forKey: .name)
        try container.encode(user.employeeId, forKey: .employeeId)
        try container.encode(user.title, forKey: .title)
        try container.encode(user.departmentId, forKey: .departmentId)
        try container.encode(user.managerId, forKey: .managerId)
        try container.encode(user.role, forKey: .role)
        try container.encode(user.active, forKey: .active)
        try container.encode(user.privacyNoticeAcceptedAt, forKey: .privacyNoticeAcceptedAt)
        try container.encode(user.createdAt, forKey: .createdAt)
        try container.encode(user.updatedAt, forKey: .updatedAt)
    }
}

/// What decides whether Gatehouse keeps a JSON writer of its own (issue 20): the same bodies written by
/// Foundation's `JSONEncoder`, with the key strategy and with snake_case coding keys, and by `JSONWriter`.
enum JSONWriters {
    static func run() async throws {
        let byStrategy = JSONEncoder()
        byStrategy.keyEncodingStrategy = .convertToSnakeCase
        byStrategy.dateEncodingStrategy = .iso8601
        byStrategy.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let byKeys = JSONEncoder()
        byKeys.dateEncodingStrategy = .iso8601
        byKeys.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let custom = JSONWriter()
        let user = UserByStrategy()
        let snakeUser = UserBySnakeKeys(user: user)
        let listing = ["users": Array(repeating: user, count: 20)]
        let snakeListing = ["users": Array(repeating: snakeUser, count: 20)]
        let claims = AccessTokenClaims(
            iss: "https://gatehouse.example", sub: "\(UUID())", aud: "https://gatehouse.example",
            clientID: "bench-web", scope: "clients:read profile", exp: 1_800_000_900, iat: 1_800_000_000,
            jti: UUID().uuidString, workspaceID: "\(UUID())", authTime: nil)

        print("\nJSON bodies, mean time of one encoding")
        report("user: Foundation, convertToSnakeCase", try await nanoseconds { _ = try byStrategy.encode(user) })
        report("user: Foundation, snake_case CodingKeys", try await nanoseconds { _ = try byKeys.encode(snakeUser) })
        report("user: JSONWriter", try await nanoseconds { _ = try custom.encode(user) })
        report("20 users: Foundation, convertToSnakeCase", try await nanoseconds { _ = try byStrategy.encode(listing) })
        report(
            "20 users: Foundation, snake_case CodingKeys",
            try await nanoseconds {
                _ = try byKeys.encode(snakeListing)
            })
        report("20 users: JSONWriter", try await nanoseconds { _ = try custom.encode(listing) })
        report("access-token claims: Foundation", try await nanoseconds { _ = try byKeys.encode(claims) })
        report("access-token claims: JSONWriter", try await nanoseconds { _ = try custom.encode(claims) })
    }
}

try await HotFunctions.run()
try await JSONWriters.run()
