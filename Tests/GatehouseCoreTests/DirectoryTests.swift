import Foundation
import GatehouseCore
import GatehouseTestSupport
import Testing

@Suite("Directory rules")
struct DirectoryTests {
    let store = InMemoryDirectoryStore()
    let clock = ManualClock()
    var directory: Directory { Directory(store: store, clock: clock, passwords: Fixture.fastPasswords) }
    var users: UserAdministration {
        UserAdministration(store: store, clock: clock, passwords: Fixture.fastPasswords)
    }

    private func acme() async throws -> Workspace {
        try await workspace("acme", admin: "owner@acme.test")
    }

    private func workspace(_ slug: String, admin: String) async throws -> Workspace {
        try await directory.createWorkspace(
            name: DisplayName(slug.capitalized), slug: WorkspaceSlug(slug), admin: Fixture.newUser(admin),
            by: .commandLine
        ).0
    }

    @Test func aNewWorkspaceStartsWithASuperAdmin() async throws {
        let (workspace, owner) = try await directory.createWorkspace(
            name: DisplayName("Acme"), slug: WorkspaceSlug("acme"), admin: Fixture.newUser("owner@acme.test"),
            by: .commandLine)
        #expect(owner.role == .superAdmin)
        #expect(owner.workspaceID == workspace.id)
        #expect(workspace.createdAt == clock.now())
        #expect(try await directory.users(in: WorkspaceSlug("acme")).map(\.email.value) == ["owner@acme.test"])
        let event = try #require(await store.auditEvents(in: workspace.id, matching: AuditQuery()).first)
        #expect(event.action == "workspace.created")
        #expect(event.actor == .commandLine)
        #expect(event.details["super_admin"] == "owner@acme.test")
    }

    @Test func aTakenSlugIsAConflict() async throws {
        _ = try await acme()
        await #expect(throws: DomainError.conflict("A workspace with that slug already exists.")) {
            try await workspace("acme", admin: "x@other.test")
        }
    }

    @Test func usersGetTheirDepartmentAndManagerFromTheSameWorkspace() async throws {
        let acme = try await acme()
        let sales = try await directory.createDepartment(named: DisplayName("Sales"), in: WorkspaceSlug("acme"))
        let boss = try await users.create(
            Fixture.newUser("boss@acme.test", role: .admin), in: acme.id, by: .commandLine
        ).user
        let ann = try await users.create(
            Fixture.newUser("Ann@Acme.test", department: "Sales", manager: "boss@acme.test"), in: acme.id,
            by: .commandLine
        ).user
        #expect(ann.email.value == "ann@acme.test")
        #expect(ann.departmentID == sales.id)
        #expect(ann.managerID == boss.id)
        #expect(ann.isActive)
        #expect(ann.privacyNoticeAcceptedAt == nil)
        #expect(ann.passwordHash == nil)
    }

    @Test func aManagerFromAnotherWorkspaceIsRefused() async throws {
        let acme = try await acme()
        _ = try await workspace("globex", admin: "boss@globex.test")
        await #expect(throws: DomainError.self) {
            try await users.create(
                Fixture.newUser("ann@acme.test", manager: "boss@globex.test"), in: acme.id, by: .commandLine
            ).user
        }
        #expect(try await store.user(email: EmailAddress("ann@acme.test")) == nil)
    }

    @Test func anUnknownDepartmentIsRefused() async throws {
        let acme = try await acme()
        await #expect(
            throws: DomainError.invalidInput(
                field: "department", message: "There is no department 'Nowhere' in this workspace.")
        ) {
            try await users.create(
                Fixture.newUser("ann@acme.test", department: "Nowhere"), in: acme.id, by: .commandLine
            ).user
        }
    }

    @Test func emailsAreUniqueAcrossTheInstallationWhateverTheirCase() async throws {
        let acme = try await acme()
        _ = try await users.create(Fixture.newUser("ann@acme.test"), in: acme.id, by: .commandLine).user
        await #expect(throws: DomainError.conflict("A user with that email already exists.")) {
            try await users.create(Fixture.newUser("ANN@acme.test"), in: acme.id, by: .commandLine).user
        }
        #expect(await store.auditEvents(in: acme.id, matching: AuditQuery(action: "user.created")).count == 1)
    }

    @Test func anUnknownWorkspaceIsNotFound() async throws {
        await #expect(throws: DomainError.notFound("There is no workspace 'nowhere'.")) {
            try await directory.workspace(WorkspaceSlug("nowhere"))
        }
    }

    /// A caller acting as `role`, holding `scopes`.
    private func caller(_ role: Role, _ scopes: Set<Scope>, in workspace: Workspace) throws -> Caller {
        let user = try Fixture.user("\(role.rawValue)-caller@acme.test", in: workspace, role: role)
        return Caller(
            Principal(
                workspaceID: workspace.id, user: user, role: role, scopes: scopes, credential: .webSession,
                rateLimitPerMinute: 0), address: nil)
    }

    @Test func onlyTheOperatorSetsAnotherPersonsPassword() async throws {
        let acme = try await acme()
        let owner = try #require(await store.user(email: try EmailAddress("owner@acme.test")))
        let admin = try caller(.superAdmin, BuiltInScopes.scopes(of: .superAdmin), in: acme)
        await #expect(throws: DomainError.self) {
            try await users.setPassword(owner.id, to: try Password("chosen by an admin"), by: admin)
        }
        let set = try await users.setPassword(owner.id, to: try Password("chosen by the operator"), by: .commandLine)
        let hash = try #require(set.passwordHash)
        #expect(await Fixture.fastPasswords.verify("chosen by the operator", against: hash))
        #expect(await store.auditEvents(in: acme.id, matching: AuditQuery(action: "user.password_set")).count == 1)
    }

    @Test func aRoleIsGivenOnlyByWhoHoldsEveryRightOfIt() async throws {
        let acme = try await acme()
        let hr = try caller(.hrAdmin, BuiltInScopes.scopes(of: .hrAdmin), in: acme)
        // An HR admin holds what a plain user and another HR admin hold, not what an admin holds.
        _ = try await users.create(Fixture.newUser("ann@acme.test"), in: acme.id, by: hr).user
        _ = try await users.create(Fixture.newUser("hr2@acme.test", role: .hrAdmin), in: acme.id, by: hr).user
        await #expect(throws: DomainError.self) {
            _ = try await users.create(Fixture.newUser("boss@acme.test", role: .admin), in: acme.id, by: hr).user
        }
        // A credential narrowed to users:write holds none of a plain user's personal rights.
        let narrowed = try caller(.hrAdmin, [.usersWrite], in: acme)
        await #expect {
            _ = try await users.create(Fixture.newUser("bob@acme.test"), in: acme.id, by: narrowed).user
        } throws: { error in
            (error as? DomainError)?.message.contains("email, openid, profile") == true
        }
        #expect(try await store.user(email: EmailAddress("bob@acme.test")) == nil)
    }

    @Test func aBoundedRoleIsTheLesserOfTheTwo() {
        #expect(Role.superAdmin.bounded(by: .admin) == .admin)
        #expect(Role.admin.bounded(by: .superAdmin) == .admin)
        #expect(Role.hrAdmin.bounded(by: .hrAdmin) == .hrAdmin)
        #expect(Role.hrAdmin.bounded(by: .admin) == .user)
        #expect(Role.user.bounded(by: .superAdmin) == .user)
    }

    @Test func deactivatingAndActivatingAUserIsRecordedWithTheTime() async throws {
        let acme = try await acme()
        let ann = try await users.create(Fixture.newUser("ann@acme.test"), in: acme.id, by: .commandLine).user
        clock.advance(by: 3600)
        let deactivated = try await users.update(ann.id, UserChange(isActive: false), by: .commandLine)
        #expect(!deactivated.isActive)
        #expect(deactivated.updatedAt == clock.now())
        #expect(try await store.user(email: EmailAddress("ann@acme.test"))?.isActive == false)
        let activated = try await users.update(ann.id, UserChange(isActive: true), by: .commandLine)
        #expect(activated.isActive)
        let changes = await store.auditEvents(in: acme.id, matching: AuditQuery(action: "user.updated"))
        #expect(changes.map { $0.details["active"] } == ["true", "false"])
    }

    @Test func aPasswordIsStoredOnlyAsABcryptHash() async throws {
        let acme = try await acme()
        let user = try await users.create(
            Fixture.newUser("ann@acme.test", password: "a long enough password"), in: acme.id, by: .commandLine
        ).user
        let hash = try #require(user.passwordHash)
        #expect(hash.encoded != "a long enough password")
        #expect(await Fixture.fastPasswords.verify("a long enough password", against: hash))
    }

    @Test func departmentNamesAreUniquePerWorkspaceOnly() async throws {
        _ = try await acme()
        _ = try await workspace("globex", admin: "boss@globex.test")
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

    @Test func theFirstRunIsInTheAuditTrail() async throws {
        let outcome = try #require(
            try await firstRun.bootstrapIfNeeded(adminEmail: EmailAddress("admin@localhost"), password: nil))
        let events = await store.auditEvents(in: outcome.workspace.id, matching: AuditQuery())
        #expect(events.map(\.action) == ["workspace.created"])
        #expect(events.first?.actor.credential == "first_run")
        #expect(events.first?.targetID == "\(outcome.workspace.id)")
    }

    @Test func laterRunsDoNothing() async throws {
        _ = try await firstRun.bootstrapIfNeeded(adminEmail: EmailAddress("admin@localhost"), password: nil)
        #expect(try await firstRun.bootstrapIfNeeded(adminEmail: EmailAddress("admin@localhost"), password: nil) == nil)
        #expect(await store.allWorkspaces().count == 1)
    }
}
