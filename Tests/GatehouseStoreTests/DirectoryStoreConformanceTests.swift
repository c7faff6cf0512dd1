import Foundation
import GatehouseCore
import GatehouseStore
import GatehouseTestSupport
import Testing

/// The contract every storage backend keeps. Each test runs on every backend of `Backend.all`: SQLite, and
/// PostgreSQL wherever it is installed.
@Suite("Directory store conformance")
struct DirectoryStoreConformanceTests {
    @Test(arguments: Backend.all) func aWorkspaceAndItsFirstUserAreStoredTogether(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let acme = try Fixture.workspace("acme")
            let owner = try Fixture.user("owner@acme.test", in: acme, role: .superAdmin)
            try await store.insert(acme, firstUser: owner)
            #expect(try await store.workspace(id: acme.id) == acme)
            #expect(try await store.workspace(slug: WorkspaceSlug("acme")) == acme)
            #expect(try await store.allWorkspaces() == [acme])
            #expect(try await store.user(id: owner.id) == owner)
        }
    }

    @Test(arguments: Backend.all) func aWorkspacesTwoFactorRequirementIsStoredWithItsEvent(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store in
            var acme = try Fixture.workspace("acme")
            try await store.insert(acme, firstUser: try Fixture.user("owner@acme.test", in: acme, role: .superAdmin))
            #expect(try await store.workspace(id: acme.id)?.requiresAdminTwoFactor == false)
            acme.requiresAdminTwoFactor = true
            let event = AuditEvent(
                workspaceID: acme.id, actor: .commandLine, action: "workspace.admin_two_factor_changed",
                targetKind: "workspace", targetID: "\(acme.id)", address: nil, occurredAt: Fixture.epoch)
            try await store.apply(.updateWorkspace(acme), recording: event)
            #expect(try await store.workspace(id: acme.id) == acme)
            let missing = try Fixture.workspace("nowhere")
            await #expect(throws: RecordNotFound.self) {
                try await store.apply(.updateWorkspace(missing), recording: event)
            }
        }
    }

    @Test(arguments: Backend.all) func aTakenSlugRollsBackTheWholeWorkspace(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let acme = try Fixture.workspace("acme")
            try await store.insert(acme, firstUser: try Fixture.user("owner@acme.test", in: acme))
            let copy = try Fixture.workspace("acme")
            let stranger = try Fixture.user("stranger@copy.test", in: copy)
            await #expect(throws: UniqueViolation(.workspaceSlug)) { try await store.insert(copy, firstUser: stranger) }
            #expect(try await store.user(email: EmailAddress("stranger@copy.test")) == nil)
            #expect(try await store.allWorkspaces().count == 1)
        }
    }

    @Test(arguments: Backend.all) func aTakenEmailRollsBackTheWholeWorkspace(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let acme = try Fixture.workspace("acme")
            try await store.insert(acme, firstUser: try Fixture.user("owner@acme.test", in: acme))
            let globex = try Fixture.workspace("globex")
            await #expect(throws: UniqueViolation(.userEmail)) {
                try await store.insert(globex, firstUser: try Fixture.user("owner@acme.test", in: globex))
            }
            #expect(try await store.workspace(slug: WorkspaceSlug("globex")) == nil)
        }
    }

    @Test(arguments: Backend.all) func usersAreFoundByIdAndEmailAndListedByEmail(_ backend: Backend) async throws {
        try await backend.withStore { store in
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

    @Test(arguments: Backend.all) func usersOfOneWorkspaceAreNotListedInAnother(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let acme = try Fixture.workspace("acme")
            let globex = try Fixture.workspace("globex")
            try await store.insert(acme, firstUser: try Fixture.user("ann@acme.test", in: acme))
            try await store.insert(globex, firstUser: try Fixture.user("bob@globex.test", in: globex))
            #expect(try await store.users(in: globex.id).map(\.email.value) == ["bob@globex.test"])
        }
    }

    @Test(arguments: Backend.all) func aSecondUserWithTheSameEmailIsAViolation(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let acme = try Fixture.workspace("acme")
            try await store.insert(acme, firstUser: try Fixture.user("ann@acme.test", in: acme))
            await #expect(throws: UniqueViolation(.userEmail)) {
                try await store.insert(try Fixture.user("ann@acme.test", in: acme))
            }
        }
    }

    @Test(arguments: Backend.all) func anUpdateKeepsEveryField(_ backend: Backend) async throws {
        try await backend.withStore { store in
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

    @Test(arguments: Backend.all) func updatingAMissingUserSaysSo(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let acme = try Fixture.workspace("acme")
            try await store.insert(acme, firstUser: try Fixture.user("ann@acme.test", in: acme))
            await #expect(throws: RecordNotFound.self) {
                try await store.update(try Fixture.user("ghost@acme.test", in: acme))
            }
        }
    }

    @Test(arguments: Backend.all) func aManagerFromAnotherWorkspaceIsRefusedByTheStoreToo(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store in
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

    @Test(arguments: Backend.all) func departmentsAreUniqueByNameWithinAWorkspace(_ backend: Backend) async throws {
        try await backend.withStore { store in
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
    @Test(arguments: Backend.all) func migratingTwiceAppliesNothingTheSecondTime(_ backend: Backend) async throws {
        try await backend.withStore(migrate: false) { store async throws in
            #expect(
                try await store.migrate() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20])
            #expect(try await store.migrate() == [])
        }
    }

    @Test(arguments: Backend.all) func instancesMigratingAtOnceApplyEachVersionOnce(_ backend: Backend) async throws {
        let location = try backend.freshLocation()
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await backend.withStore(at: location, migrate: false) { try await $0.migrate() }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(applied.sorted() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20])
        try await backend.withStore(at: location, migrate: false) { store async throws in
            #expect(try await store.allWorkspaces().isEmpty)
        }
    }

    @Test(arguments: Backend.all) func theStoreSurvivesReopening(_ backend: Backend) async throws {
        let location = try backend.freshLocation()
        let acme = try Fixture.workspace("acme")
        try await backend.withStore(at: location) { store async throws in
            try await store.insert(acme, firstUser: try Fixture.user("ann@acme.test", in: acme))
        }
        try await backend.withStore(at: location) { store async throws in
            #expect(try await store.allWorkspaces() == [acme])
        }
    }
}
