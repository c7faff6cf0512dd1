import Foundation
import GatehouseCore
import Testing

@Suite("Parsed values")
struct ValueTests {
    @Test func aNameIsBoundedByBytesAsWellAsCharacters() throws {
        // One letter with 400,000 combining accents is one character.
        let accented = "a" + String(repeating: "\u{0301}", count: 400_000)
        #expect(accented.count == 1)
        #expect {
            try DisplayName(accented)
        } throws: { error in
            (error as? DomainError)?.message == "The name must be at most 200 characters (and 800 bytes) long."
        }
        #expect(try DisplayName(String(repeating: "é", count: 200)).value.count == 200)
        #expect(throws: DomainError.self) { try DisplayName(String(repeating: "é", count: 201)) }
    }

    @Test func emailIsTrimmedAndLowerCased() throws {
        #expect(try EmailAddress("  Ann.Lee@Example.COM ").value == "ann.lee@example.com")
    }

    @Test(arguments: ["", "ann", "ann@", "@example.com", "a b@example.com", "ann@@example.com", "ann@.example.com"])
    func emailRejectsWhatIsNotAnAddress(_ raw: String) {
        #expect(throws: DomainError.self) { try EmailAddress(raw) }
    }

    @Test(arguments: ["acme", "acme-corp", "a1", "team-42"])
    func slugAcceptsLowercaseLettersDigitsAndInnerHyphens(_ raw: String) throws {
        #expect(try WorkspaceSlug(raw).value == raw)
    }

    @Test(arguments: ["a", "Acme", "-acme", "acme-", "acme corp", "acme_corp", String(repeating: "a", count: 64)])
    func slugRejectsEverythingElse(_ raw: String) {
        #expect(throws: DomainError.self) { try WorkspaceSlug(raw) }
    }

    @Test func displayNameIsTrimmedAndMustHaveText() throws {
        #expect(try DisplayName("  Ann Lee ").value == "Ann Lee")
        #expect(throws: DomainError.invalidInput(field: "name", message: "The name must not be empty.")) {
            try DisplayName("   ")
        }
        #expect(throws: DomainError.self) { try DisplayName("bell\u{7}") }
    }

    @Test func roleParsingListsTheValidRolesOnError() throws {
        #expect(try Role(parsing: "hr_admin") == .hrAdmin)
        do {
            _ = try Role(parsing: "owner")
            Issue.record("owner was accepted as a role")
        } catch {
            #expect(error.message == "'owner' is not a role; use one of super_admin, admin, hr_admin, user.")
        }
    }

    @Test func scopeTokensFollowTheSharedSyntax() throws {
        #expect(try Scope("okrs:read").name == "okrs:read")
        #expect(throws: DomainError.self) { try Scope("OKRs read") }
        #expect(throws: DomainError.self) { try Scope("") }
    }
}

@Suite("Roles and built-in scopes")
struct BuiltInScopeTests {
    @Test func plainUsersHoldOnlyThePersonalScopes() {
        #expect(BuiltInScopes.scopes(of: .user) == [.openid, .profile, .email])
        #expect(BuiltInScopes.personal.isDisjoint(with: BuiltInScopes.administrative))
    }

    @Test func superAdminsHoldEveryBuiltInScope() {
        #expect(BuiltInScopes.scopes(of: .superAdmin) == Set(BuiltInScopes.holders.keys))
    }

    @Test func hrAdminsManageUsersButNotClientsOrKeys() {
        let scopes = BuiltInScopes.scopes(of: .hrAdmin)
        #expect(scopes.isSuperset(of: [.profile, .usersRead, .usersWrite, .departmentsRead]))
        #expect(scopes.isDisjoint(with: [.clientsRead, .clientsWrite, .apiKeysRead, .apiKeysWrite, .auditRead]))
    }

    @Test func adminsReadUsersButOnlySuperAdminsReadTheAuditLog() {
        let scopes = BuiltInScopes.scopes(of: .admin)
        #expect(scopes.contains(.usersRead) && !scopes.contains(.usersWrite))
        #expect(!scopes.contains(.auditRead))
    }
}

@Suite("Clock")
struct ClockTests {
    @Test func manualClockMovesOnlyWhenAdvanced() {
        let clock = ManualClock(Date(timeIntervalSince1970: 100))
        #expect(clock.now() == Date(timeIntervalSince1970: 100))
        clock.advance(by: 60)
        #expect(clock.now() == Date(timeIntervalSince1970: 160))
    }
}
