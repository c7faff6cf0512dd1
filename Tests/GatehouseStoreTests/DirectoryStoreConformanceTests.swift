import Foundation
import GatehouseCore
import GatehouseStore
import GatehouseTestSupport
import Testing

/// The contract every storage backend keeps. Runs on SQLite, and on PostgreSQL when scripts/test sets
/// GATEHOUSE_TEST_DATABASE.
@Suite("Directory store conformance")
struct DirectoryStoreConformanceTests {
    @Test func aWorkspaceAndItsFirstUserAreStoredTogether() async throws {
        try await TestBackend.withStore { store in
            let acme = try Fixture.workspace("acme")
            let owner = try Fixture.user("owner@acme.test", in: acme, role: .superAdmin)
            try await store.insert(acme, firstUser: owner)
            #expect(try await store.workspace(id: acme.id) == acme)
            #expect(try await store.workspace(slug: WorkspaceSlug("acme")) == acme)
            #expect(try await store.allWorkspaces() == [acme])
            #expect(try await store.user(id: owner.id) == owner)
        }
    }

    @Test func aTakenSlugRollsBackTheWholeWorkspace() async throws {
        try await TestBackend.withStore { store in
            let acme = try Fixture.workspace("acme")
            try await store.insert(acme, firstUser: try Fixture.user("owner@acme.test", in: acme))
            let copy = try Fixture.workspace("acme")
            let stranger = try Fixture.user("stranger@copy.test", in: copy)
            await #expect(throws: UniqueViolation(.workspaceSlug)) { try await store.insert(copy, firstUser: stranger) }
            #expect(try await store.user(email: EmailAddress("stranger@copy.test")) == nil)
            #expect(try await store.allWorkspaces().count == 1)
        }
    }

    @Test func aTakenEmailRollsBackTheWholeWorkspace() async throws {
        try await TestBackend.withStore { store in
            let acme = try Fixture.workspace("acme")
            try await store.insert(acme, firstUser: try Fixture.user("owner@acme.test", in: acme))
            let globex = try Fixture.workspace("globex")
            await #expect(throws: UniqueViolation(.userEmail)) {
                try await store.insert(globex, firstUser: try Fixture.user("owner@acme.test", in: globex))
            }
            #expect(try await store.workspace(slug: WorkspaceSlug("globex")) == nil)
        }
    }

    @Test func usersAreFoundByIdAndEmailAndListedByEmail() async throws {
        try await TestBackend.withStore { store in
            let acme = try Fixture.workspace("acme")
            try await store.insert(acme, firstUser: try Fixture.user("zed@acme.test", in: acme))
            let ann = try Fixture.user("ann@acme.test", in: acme)
            try await store.insert(ann)
            #expect(try await store.user(id: ann.id) == ann)
            #expect(try await store.user(email: EmailAddress("ann@acme.test")) == ann)
            #expect(try await store.users(in: acme.id).map(\.email.value) == ["ann@acme.test", "zed@acme.test"])
            #expect(try await store.user(email: EmailAddress("nobody@acme.test")) == nil)
        }
    }

    @Test func usersOfOneWorkspaceAreNotListedInAnother() async throws {
        try await TestBackend.withStore { store in
            let acme = try Fixture.workspace("acme")
            let globex = try Fixture.workspace("globex")
            try await store.insert(acme, firstUser: try Fixture.user("ann@acme.test", in: acme))
            try await store.insert(globex, firstUser: try Fixture.user("bob@globex.test", in: globex))
            #expect(try await store.users(in: globex.id).map(\.email.value) == ["bob@globex.test"])
        }
    }

    @Test func aSecondUserWithTheSameEmailIsAViolation() async throws {
        try await TestBackend.withStore { store in
            let acme = try Fixture.workspace("acme")
            try await store.insert(acme, firstUser: try Fixture.user("ann@acme.test", in: acme))
            await #expect(throws: UniqueViolation(.userEmail)) {
                try await store.insert(try Fixture.user("ann@acme.test", in: acme))
            }
        }
    }

    @Test func anUpdateKeepsEveryField() async throws {
        try await TestBackend.withStore { store in
            let acme = try Fixture.workspace("acme")
            let boss = try Fixture.user("boss@acme.test", in: acme, role: .admin)
            try await store.insert(acme, firstUser: boss)
            let sales = Department(workspaceID: acme.id, name: "Sales", createdAt: Fixture.epoch)
            try await store.insert(sales)
            var ann = try Fixture.user("ann@acme.test", in: acme)
            try await store.insert(ann)
            ann.name = "Ann Lee"
            ann.employeeID = "E-42"
            ann.title = "Engineer"
            ann.departmentID = sales.id
            ann.managerID = boss.id
            ann.role = .hrAdmin
            ann.isActive = false
            ann.privacyNoticeAcceptedAt = Fixture.epoch.addingTimeInterval(10)
            ann.passwordHash = PasswordHash(encoded: "$2b$04$abcdefghijklmnopqrstuuCV2b8KnqBkw4q3W6yJd5JZzQoR1WvCe")
            ann.updatedAt = Fixture.epoch.addingTimeInterval(20)
            try await store.update(ann)
            #expect(try await store.user(id: ann.id) == ann)
        }
    }

    @Test func updatingAMissingUserSaysSo() async throws {
        try await TestBackend.withStore { store in
            let acme = try Fixture.workspace("acme")
            try await store.insert(acme, firstUser: try Fixture.user("ann@acme.test", in: acme))
            await #expect(throws: RecordNotFound.self) {
                try await store.update(try Fixture.user("ghost@acme.test", in: acme))
            }
        }
    }

    @Test func aManagerFromAnotherWorkspaceIsRefusedByTheStoreToo() async throws {
        try await TestBackend.withStore { store in
            let acme = try Fixture.workspace("acme")
            let globex = try Fixture.workspace("globex")
            try await store.insert(acme, firstUser: try Fixture.user("ann@acme.test", in: acme))
            let outsider = try Fixture.user("bob@globex.test", in: globex)
            try await store.insert(globex, firstUser: outsider)
            var carl = try Fixture.user("carl@acme.test", in: acme)
            carl.managerID = outsider.id
            await #expect(throws: (any Error).self) { try await store.insert(carl) }
            #expect(try await store.user(email: EmailAddress("carl@acme.test")) == nil)
        }
    }

    @Test func departmentsAreUniqueByNameWithinAWorkspace() async throws {
        try await TestBackend.withStore { store in
            let acme = try Fixture.workspace("acme")
            let globex = try Fixture.workspace("globex")
            try await store.insert(acme, firstUser: try Fixture.user("ann@acme.test", in: acme))
            try await store.insert(globex, firstUser: try Fixture.user("bob@globex.test", in: globex))
            let sales = Department(workspaceID: acme.id, name: "Sales", createdAt: Fixture.epoch)
            let ops = Department(workspaceID: acme.id, name: "Operations", createdAt: Fixture.epoch)
            try await store.insert(sales)
            try await store.insert(ops)
            try await store.insert(Department(workspaceID: globex.id, name: "Sales", createdAt: Fixture.epoch))
            await #expect(throws: UniqueViolation(.departmentName)) {
                try await store.insert(Department(workspaceID: acme.id, name: "Sales", createdAt: Fixture.epoch))
            }
            #expect(try await store.department(id: sales.id) == sales)
            #expect(try await store.department(named: "Sales", in: acme.id) == sales)
            #expect(try await store.departments(in: acme.id) == [ops, sales])
        }
    }
}

@Suite("Migrations")
struct MigrationTests {
    @Test func migratingTwiceAppliesNothingTheSecondTime() async throws {
        try await TestBackend.withStore(migrate: false) { store async throws in
            #expect(try await store.migrate() == [1, 2, 3, 4, 5, 6, 7, 8, 9])
            #expect(try await store.migrate() == [])
        }
    }

    @Test func instancesMigratingAtOnceApplyEachVersionOnce() async throws {
        let location = try TestBackend.freshLocation()
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await TestBackend.withStore(at: location, migrate: false) { try await $0.migrate() }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(applied.sorted() == [1, 2, 3, 4, 5, 6, 7, 8, 9])
        try await TestBackend.withStore(at: location, migrate: false) { store async throws in
            #expect(try await store.allWorkspaces().isEmpty)
        }
    }

    @Test func theStoreSurvivesReopening() async throws {
        let location = try TestBackend.freshLocation()
        let acme = try Fixture.workspace("acme")
        try await TestBackend.withStore(at: location) { store async throws in
            try await store.insert(acme, firstUser: try Fixture.user("ann@acme.test", in: acme))
        }
        try await TestBackend.withStore(at: location) { store async throws in
            #expect(try await store.allWorkspaces() == [acme])
        }
    }
}
