import Testing

@testable import GatehouseStore

/// What PostgreSQL says when it restarts under a running instance is "unavailable" (503), not a failure (500).
@Suite("PostgreSQL errors")
struct PostgresErrorTests {
    @Test func aServerGoingAwayOrNotTakingWorkIsUnavailable() {
        for state in ["57P01", "57P02", "57P03", "53300", "08000", "08003", "08006"] {
            #expect(PostgresStore.isUnavailable(state), "\(state)")
        }
        for state in ["23505", "40P01", "40001", "42P01", "22P02", "XX000"] {
            #expect(!PostgresStore.isUnavailable(state), "\(state)")
        }
        #expect(!PostgresStore.isUnavailable(nil))
    }
}
