import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("First run of the server")
struct ServerFirstRunTests {
    let settings: FirstRunSettings

    init() throws {
        settings = FirstRunSettings(adminEmail: try EmailAddress("admin@localhost"), adminPassword: nil)
    }

    @Test func theFirstStartCreatesTheAdminAndShowsThePasswordOnce() async throws {
        let location = try TestBackend.freshLocation()
        let console = Console()
        // Two starts of the server, one after the other, on the same database.
        try await withApplication(on: TestBackend.openStore(at: location), firstRun: settings, console: console) { _ in
        }
        try await withApplication(on: TestBackend.openStore(at: location), firstRun: settings, console: console) { _ in
        }
        try await TestBackend.withStore(at: location) { store async throws in
            #expect(console.messages.count == 1)
            let message = try #require(console.messages.first)
            let password = try #require(
                message.split(separator: "\n").first { $0.contains("password:") }?
                    .split(separator: " ").last.map(String.init))
            let admin = try #require(try await store.user(email: EmailAddress("admin@localhost")))
            #expect(admin.role == .superAdmin)
            #expect(await Fixture.fastPasswords.verify(password, against: try #require(admin.passwordHash)))
            #expect(try await store.allWorkspaces().map(\.slug.value) == ["default"])
        }
    }

    @Test func aPasswordFromTheEnvironmentIsNeverPrinted() async throws {
        let console = Console()
        let chosen = FirstRunSettings(
            adminEmail: try EmailAddress("root@example.com"), adminPassword: try Password("operator-chosen-secret"))
        try await withApplication(firstRun: chosen, console: console) { _ in }
        #expect(console.messages.count == 1)
        #expect(console.messages.allSatisfy { !$0.contains("operator-chosen-secret") })
        #expect(console.messages.first?.contains("root@example.com") == true)
    }

    @Test func instancesStartingTogetherCreateOneAdmin() async throws {
        let location = try TestBackend.freshLocation()
        let console = Console()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try await withApplication(
                        on: TestBackend.openStore(at: location), firstRun: settings, console: console
                    ) { _ in }
                }
            }
            try await group.waitForAll()
        }
        #expect(console.messages.count == 1)
        try await TestBackend.withStore(at: location) { store async throws in
            let workspace = try #require(try await store.allWorkspaces().first)
            #expect(try await store.users(in: workspace.id).count == 1)
        }
    }

    @Test func theServerAnswersOverARealSocket() async throws {
        try await withApplication(firstRun: settings, framework: .live) { client async throws in
            try await client.execute(uri: "/healthz", method: .get) { response async throws in
                #expect(response.status == .ok)
            }
        }
    }
}

@Suite("Server configuration")
struct ServerConfigurationTests {
    @Test func theIssuerDefaultsToTheListeningAddress() throws {
        #expect(try ServerConfiguration(host: "127.0.0.1", port: 9000).issuer.absoluteString == "http://127.0.0.1:9000")
        #expect(try ServerConfiguration(host: "0.0.0.0", port: 80).issuer.absoluteString == "http://localhost:80")
    }

    @Test func anIssuerLosesItsTrailingSlash() throws {
        #expect(
            try ServerConfiguration.parseIssuer("https://auth.example.com/").absoluteString
                == "https://auth.example.com")
    }

    @Test(arguments: ["ftp://auth.example.com", "auth.example.com", "https://auth.example.com/?a=b", "https://x/#f"])
    func issuersMustBePlainHTTPURLs(_ raw: String) {
        #expect(throws: DomainError.self) { try ServerConfiguration.parseIssuer(raw) }
    }

    @Test func portsOutsideTheRangeAreRefused() {
        #expect(throws: DomainError.self) { try ServerConfiguration(port: 70000) }
    }
}
