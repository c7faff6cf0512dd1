import Foundation
import GatehouseCore
import GatehouseTestSupport
import Testing

@Suite("Directory rules")
struct DirectoryTests {
    let store = InMemoryDirectoryStore()
    let clock = ManualClock()
    var directory: Directory { Directory(store: store, clock: clock, passwords: Fixture.fastPasswords) }

    private func acme() async throws -> Workspace {
        try await directory.createWorkspace(
            name: DisplayName("Acme"), slug: WorkspaceSlug("acme"), admin: Fixture.newUser("owner@acme.test")
        ).0
    }

    @Test func aNewWorkspaceStartsWithASuperAdmin() async throws {
        let (workspace, owner) = try await directory.createWorkspace(
            name: DisplayName("Acme"), slug: WorkspaceSlug("acme"), admin: Fixture.newUser("owner@acme.test"))
        #expect(owner.role == .superAdmin)
        #expect(owner.workspaceID == workspace.id)
        #expect(workspace.createdAt == clock.now())
        #expect(try await directory.users(in: WorkspaceSlug("acme")).map(\.email.value) == ["owner@acme.test"])
    }

    @Test func aTakenSlugIsAConflict() async throws {
        _ = try await acme()
        await #expect(throws: DomainError.conflict("A workspace with that slug already exists.")) {
            try await directory.createWorkspace(
                name: DisplayName("Other"), slug: WorkspaceSlug("acme"), admin: Fixture.newUser("x@other.test"))
        }
    }

    @Test func usersGetTheirDepartmentAndManagerFromTheSameWorkspace() async throws {
        _ = try await acme()
        let slug = try WorkspaceSlug("acme")
        let sales = try await directory.createDepartment(named: DisplayName("Sales"), in: slug)
        let boss = try await directory.createUser(Fixture.newUser("boss@acme.test", role: .admin), in: slug)
        let ann = try await directory.createUser(
            Fixture.newUser("Ann@Acme.test", department: "Sales", manager: "boss@acme.test"), in: slug)
        #expect(ann.email.value == "ann@acme.test")
        #expect(ann.departmentID == sales.id)
        #expect(ann.managerID == boss.id)
        #expect(ann.isActive)
        #expect(ann.privacyNoticeAcceptedAt == nil)
        #expect(ann.passwordHash == nil)
    }

    @Test func aManagerFromAnotherWorkspaceIsRefused() async throws {
        _ = try await acme()
        _ = try await directory.createWorkspace(
            name: DisplayName("Globex"), slug: WorkspaceSlug("globex"), admin: Fixture.newUser("boss@globex.test"))
        await #expect(throws: DomainError.self) {
            try await directory.createUser(
                Fixture.newUser("ann@acme.test", manager: "boss@globex.test"), in: WorkspaceSlug("acme"))
        }
        #expect(try await store.user(email: EmailAddress("ann@acme.test")) == nil)
    }

    @Test func anUnknownDepartmentIsRefused() async throws {
        _ = try await acme()
        await #expect(
            throws: DomainError.invalidInput(
                field: "department", message: "There is no department 'Nowhere' in this workspace.")
        ) {
            try await directory.createUser(
                Fixture.newUser("ann@acme.test", department: "Nowhere"), in: WorkspaceSlug("acme"))
        }
    }

    @Test func emailsAreUniqueAcrossTheInstallationWhateverTheirCase() async throws {
        _ = try await acme()
        let slug = try WorkspaceSlug("acme")
        _ = try await directory.createUser(Fixture.newUser("ann@acme.test"), in: slug)
        await #expect(throws: DomainError.conflict("A user with that email already exists.")) {
            try await directory.createUser(Fixture.newUser("ANN@acme.test"), in: slug)
        }
    }

    @Test func anUnknownWorkspaceIsNotFound() async throws {
        await #expect(throws: DomainError.notFound("There is no workspace 'nowhere'.")) {
            try await directory.createUser(Fixture.newUser("ann@x.test"), in: WorkspaceSlug("nowhere"))
        }
    }

    @Test func deactivatingAndActivatingAUserIsRecordedWithTheTime() async throws {
        _ = try await acme()
        _ = try await directory.createUser(Fixture.newUser("ann@acme.test"), in: WorkspaceSlug("acme"))
        clock.advance(by: 3600)
        let deactivated = try await directory.setActive(false, email: EmailAddress("ann@acme.test"))
        #expect(!deactivated.isActive)
        #expect(deactivated.updatedAt == clock.now())
        #expect(try await store.user(email: EmailAddress("ann@acme.test"))?.isActive == false)
        let activated = try await directory.setActive(true, email: EmailAddress("ann@acme.test"))
        #expect(activated.isActive)
    }

    @Test func aPasswordIsStoredOnlyAsABcryptHash() async throws {
        _ = try await acme()
        let user = try await directory.createUser(
            Fixture.newUser("ann@acme.test", password: "a long enough password"), in: WorkspaceSlug("acme"))
        let hash = try #require(user.passwordHash)
        #expect(hash.encoded != "a long enough password")
        #expect(await Fixture.fastPasswords.verify("a long enough password", against: hash))
    }

    @Test func departmentNamesAreUniquePerWorkspaceOnly() async throws {
        _ = try await acme()
        _ = try await directory.createWorkspace(
            name: DisplayName("Globex"), slug: WorkspaceSlug("globex"), admin: Fixture.newUser("boss@globex.test"))
        _ = try await directory.createDepartment(named: DisplayName("Sales"), in: WorkspaceSlug("acme"))
        _ = try await directory.createDepartment(named: DisplayName("Sales"), in: WorkspaceSlug("globex"))
        await #expect(throws: DomainError.conflict("A department with that name already exists in this workspace.")) {
            try await directory.createDepartment(named: DisplayName("Sales"), in: WorkspaceSlug("acme"))
        }
    }
}

@Suite("First run")
struct FirstRunTests {
    let store = InMemoryDirectoryStore()
    var firstRun: FirstRun {
        FirstRun(
            directory: Directory(store: store, clock: ManualClock(), passwords: Fixture.fastPasswords), store: store)
    }

    @Test func anEmptyInstallationGetsTheDefaultWorkspaceAndAGeneratedPassword() async throws {
        let outcome = try #require(
            try await firstRun.bootstrapIfNeeded(adminEmail: EmailAddress("admin@localhost"), password: nil))
        #expect(outcome.workspace.slug.value == "default")
        #expect(outcome.admin.role == .superAdmin)
        let password = try #require(outcome.generatedPassword)
        let hash = try #require(outcome.admin.passwordHash)
        #expect(await Fixture.fastPasswords.verify(password.value, against: hash))
    }

    @Test func aGivenPasswordIsUsedAndNotEchoed() async throws {
        let outcome = try #require(
            try await firstRun.bootstrapIfNeeded(
                adminEmail: EmailAddress("root@example.com"), password: Password("operator chose this")))
        #expect(outcome.generatedPassword == nil)
        let hash = try #require(outcome.admin.passwordHash)
        #expect(await Fixture.fastPasswords.verify("operator chose this", against: hash))
    }

    @Test func laterRunsDoNothing() async throws {
        _ = try await firstRun.bootstrapIfNeeded(adminEmail: EmailAddress("admin@localhost"), password: nil)
        #expect(try await firstRun.bootstrapIfNeeded(adminEmail: EmailAddress("admin@localhost"), password: nil) == nil)
        #expect(await store.allWorkspaces().count == 1)
    }
}
