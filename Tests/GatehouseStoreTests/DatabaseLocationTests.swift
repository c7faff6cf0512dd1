import GatehouseCore
import GatehouseStore
import Testing

@Suite("Database locations")
struct DatabaseLocationTests {
    @Test func aPathMeansSQLite() throws {
        #expect(try DatabaseLocation(parsing: "data/g.sqlite") == .sqlite(path: "data/g.sqlite"))
    }

    @Test func aPostgresURLIsParsedWithItsOptions() throws {
        let location = try DatabaseLocation(
            parsing: "postgres://gate%40house:s3cret@db.internal:6543/auth?sslmode=require&schema=tenant_a")
        guard case .postgres(let postgres) = location else {
            Issue.record("not parsed as PostgreSQL")
            return
        }
        #expect(postgres.host == "db.internal")
        #expect(postgres.port == 6543)
        #expect(postgres.username == "gate@house")
        #expect(postgres.password == "s3cret")
        #expect(postgres.database == "auth")
        #expect(postgres.tls == .require)
        #expect(postgres.schema == "tenant_a")
        #expect(!location.description.contains("s3cret"))
    }

    @Test func postgresDefaultsArePort5432AndTLSWhenOffered() throws {
        guard case .postgres(let postgres) = try DatabaseLocation(parsing: "postgresql://gatehouse@localhost") else {
            Issue.record("not parsed as PostgreSQL")
            return
        }
        #expect(postgres.port == 5432)
        #expect(postgres.database == "gatehouse")
        #expect(postgres.tls == .prefer)
        #expect(postgres.schema == nil)
    }

    @Test(arguments: [
        "mysql://root@localhost/db", "postgres://localhost/db", "postgres://user@/db",
        "postgres://u@h/db?sslmode=sometimes", "postgres://u@h/db?schema=Robert');DROP", "",
    ])
    func unusableLocationsAreRefusedWithAReason(_ raw: String) {
        #expect(throws: DomainError.self) { try DatabaseLocation(parsing: raw) }
    }

    @Test func aRefusedURLNeverEchoesItsPassword() {
        do {
            _ = try DatabaseLocation(parsing: "mysql://root:hunter2@localhost/db")
            Issue.record("mysql was accepted")
        } catch {
            #expect(!error.message.contains("hunter2"))
        }
    }

    @Test func anUnwritableSQLitePathIsAClearError() {
        #expect(throws: StoreUnavailable.self) { try SQLiteStore(path: "/proc/gatehouse/gatehouse.sqlite") }
    }
}
