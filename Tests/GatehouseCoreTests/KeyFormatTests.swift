import Foundation
import GatehouseCore
import Testing

@Suite("API key format and pepper")
struct KeyFormatTests {
    @Test func aKeyIsPrefixThirtyRandomAndSixChecksumCharacters() throws {
        let key = PlaintextKey.generate(prefix: .standard)
        #expect(key.value.hasPrefix("gate_"))
        #expect(key.value.count == 5 + 30 + 6)
        #expect(key.value.dropFirst(5).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(PlaintextKey(parsing: key.value)?.value == key.value)
        #expect(key.lastFour == String(key.value.suffix(4)))
    }

    @Test func keysAreDistinct() {
        let keys = Set((0..<500).map { _ in PlaintextKey.generate(prefix: .standard).value })
        #expect(keys.count == 500)
    }

    @Test func theChecksumIsCRC32AsZlibComputesIt() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    @Test func everySingleCharacterTypoIsCaught() throws {
        let key = PlaintextKey.generate(prefix: try KeyPrefix("acme"))
        let characters = Array(key.value)
        for index in characters.indices where characters[index] != "_" {
            var typo = characters
            typo[index] = characters[index] == "x" ? "y" : "x"
            #expect(PlaintextKey(parsing: String(typo)) == nil, "a typo at \(index) was accepted")
        }
    }

    @Test(arguments: [
        "", "gate_", "gate_short", "Gate_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "gate-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "gate_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!", "gate_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ])
    func malformedOrMadeUpKeysAreRefused(_ raw: String) {
        #expect(PlaintextKey(parsing: raw) == nil)
    }

    @Test func prefixesAreShortLowercaseWords() throws {
        #expect(try KeyPrefix("acme2").value == "acme2")
        for bad in ["", "a", "Acme", "2fa", "ac_me", String(repeating: "a", count: 17)] {
            #expect(throws: DomainError.self) { try KeyPrefix(bad) }
        }
    }

    @Test func peppersParseFromTextAndTheNewestDigestsNewKeys() throws {
        let secret1 = Data(repeating: 1, count: 32).base64EncodedString()
        let secret2 = Data(repeating: 2, count: 32).base64EncodedString()
        let peppers = try KeyPeppers(text: "# comment\n1 \(secret1)\n\n2 \(secret2)\n")
        #expect(peppers.current.version == 2)
        let key = PlaintextKey.generate(prefix: .standard)
        let digests = peppers.digests(of: key)
        #expect(digests.map(\.pepperVersion) == [2, 1])
        #expect(digests[0].hex != digests[1].hex)
        #expect(digests[0].hex.count == 64)
        #expect(digests[0] == peppers.current.digest(key))
    }

    @Test func aDigestDependsOnThePepperNotJustTheKey() throws {
        let key = PlaintextKey.generate(prefix: .standard)
        let one = try KeyPeppers(text: KeyPeppers.generatedText())
        let two = try KeyPeppers(text: KeyPeppers.generatedText())
        #expect(one.current.digest(key).hex != two.current.digest(key).hex)
        #expect(one.current.digest(key).hex != SecretDigest(of: key.value).hex)
    }

    @Test func weakOrMalformedPeppersAreRefused() {
        let short = Data(repeating: 1, count: 16).base64EncodedString()
        let good = Data(repeating: 1, count: 32).base64EncodedString()
        for text in ["", "1 \(short)", "one \(good)", "0 \(good)", "1 not-base64!", "1 \(good)\n1 \(good)"] {
            #expect(throws: DomainError.self) { try KeyPeppers(text: text) }
        }
    }
}

@Suite("Workspace scopes and callers")
struct RoleRightsTests {
    static func definition(_ name: String, roles: Set<Role>) throws -> ScopeDefinition {
        ScopeDefinition(
            workspaceID: WorkspaceID(), scope: try Scope(name), description: name, roles: roles,
            createdAt: Date(timeIntervalSince1970: 0))
    }

    @Test func aWorkspaceScopeIsHeldByItsRolesAndAlwaysBySuperAdmins() throws {
        let rights = RoleRights(custom: [try Self.definition("okrs:read", roles: [.user])])
        let okrs = try Scope("okrs:read")
        #expect(rights.scopes(of: .user) == BuiltInScopes.personal.union([okrs]))
        #expect(rights.scopes(of: .superAdmin).contains(okrs))
        #expect(!rights.scopes(of: .hrAdmin).contains(okrs))
        #expect(rights.isDefined(okrs) && rights.isDefined(.auditRead))
        #expect(!rights.isDefined(try Scope("kpis:write")))
    }

    @Test func theOperatorMaySeeAndGrantEverythingAPrincipalOnlyItsOwn() {
        let workspace = WorkspaceID()
        let principal = Principal(
            workspaceID: workspace, user: nil, role: .admin, scopes: [.usersRead], credential: .apiKey(APIKeyID()),
            rateLimitPerMinute: 60)
        let caller = Caller(principal, address: "10.0.0.1")
        #expect(caller.canSee(workspace) && !caller.canSee(WorkspaceID()))
        #expect(caller.holds([.usersRead]) && !caller.holds([.usersRead, .auditRead]))
        #expect(throws: DomainError.forbidden("This key does not have audit:read permission")) {
            try caller.require(.auditRead)
        }
        #expect(Caller.commandLine.canSee(WorkspaceID()) && Caller.commandLine.holds([.auditRead]))
        #expect(Caller.commandLine.actor == .commandLine)
        #expect(caller.actor.credential.hasPrefix("api_key:"))
    }
}
