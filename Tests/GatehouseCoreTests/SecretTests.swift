import Foundation
import GatehouseCore
import GatehouseTestSupport
import HummingbirdBcrypt
import Testing

@Suite("Secrets")
struct SecretTests {
    @Test func base62SecretsHaveTheAskedLengthAndAlphabet() {
        let secret = SecretGenerator.base62(length: 30)
        #expect(secret.count == 30)
        #expect(secret.allSatisfy { SecretGenerator.base62Alphabet.contains($0) })
    }

    @Test func secretsDoNotRepeat() {
        let secrets = Set((0..<1000).map { _ in SecretGenerator.base62(length: 30) })
        #expect(secrets.count == 1000)
    }

    @Test func base64URLSecretsUseOnlyURLSafeCharacters() {
        let secret = SecretGenerator.base64URL(byteCount: 32)
        #expect(secret.count == 43)
        #expect(!secret.contains(where: { "+/=".contains($0) }))
    }

    @Test func aHashOfLessWorkThanTheHashersNeedsHashingAgain() async throws {
        let password = try Password("a long enough password")
        let cheap = await BcryptPasswordHasher(cost: 4).hash(password)
        #expect(BcryptPasswordHasher(cost: 5).needsRehash(cheap))
        #expect(!BcryptPasswordHasher(cost: 4).needsRehash(cheap))
        let dear = await BcryptPasswordHasher(cost: 5).hash(password)
        #expect(!BcryptPasswordHasher(cost: 4).needsRehash(dear), "a lower setting never weakens a stored hash")
        #expect(!BcryptPasswordHasher(cost: 12).needsRehash(PasswordHash(encoded: "not a bcrypt hash")))
    }

    @Test func digestMatchesOnlyTheSameSecret() {
        let digest = SecretDigest(of: "gate_abc")
        #expect(digest.hex.count == 64)
        #expect(digest.matches("gate_abc"))
        #expect(!digest.matches("gate_abd"))
        #expect(SecretDigest(storedHex: digest.hex) == digest)
    }

    @Test func constantTimeEqualityComparesWholeValues() {
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
    }
}

@Suite("Passwords")
struct PasswordTests {
    @Test func passwordsShorterThanTwelveCharactersAreRefused() {
        #expect(throws: DomainError.self) { try Password("short-pass1") }
        #expect(throws: Never.self) { try Password("twelve-chars") }
    }

    @Test func longPasswordsAreAcceptedUpTo256CharactersAndHashedWhole() async throws {
        let stem = "my long passphrase, written out in full and then some more words to pass 72 bytes: "
        #expect(stem.utf8.count > 72)
        let long = try Password(stem + "the end")
        let hasher = Fixture.fastPasswords
        let hash = await hasher.hash(long)
        #expect(await hasher.verify(stem + "the end", against: hash))
        #expect(await !hasher.verify(stem + "the end!", against: hash), "bytes past 72 count too")
        #expect(throws: Never.self) { try Password(String(repeating: "é", count: 40) + " ok and more") }
        #expect(throws: DomainError.self) { try Password(stem + String(repeating: "z x", count: 70)) }
    }

    @Test func commonRepetitiveAndSequentialPasswordsAreRefused() {
        for weak in [
            "password1234", "Password1234", "qwertyuiopasdf", "1234567890123", "aaaaaaaaaaaaaa", "abababababab",
            "zyxwvutsrqponm", "1q2w3e4r5t6y",
        ] {
            #expect(throws: DomainError.self, "\(weak)") { try Password(weak) }
        }
        #expect(throws: Never.self) { try Password("purple tractor in the hallway") }
    }

    @Test func aPasswordMadeOfItsOwnersEmailOrNameIsRefused() throws {
        let email = try EmailAddress("marguerite@acme.test")
        #expect(throws: DomainError.self) { try Password("marguerite-2026!").check(for: email, name: "Marguerite Yu") }
        #expect(throws: DomainError.self) {
            try Password("Marguerite Yu rocks").check(for: email, name: "Marguerite Yu")
        }
        #expect(throws: Never.self) {
            try Password("purple tractor in the hallway").check(for: email, name: "Marguerite Yu")
        }
    }

    @Test func aHashOfTheOlderSchemeStillVerifiesAndIsMarkedForRehashing() async throws {
        let old = PasswordHash(encoded: Bcrypt.hash("an older password", cost: 4))
        let hasher = Fixture.fastPasswords
        #expect(await hasher.verify("an older password", against: old))
        #expect(await !hasher.verify("an older password!", against: old))
        #expect(hasher.needsRehash(old))
        #expect(!hasher.needsRehash(await hasher.hash(try Password("an older password"))))
    }

    @Test func generatedPasswordsAreLongAndDistinct() {
        let first = Password.generate().value
        #expect(first.count == 24)
        #expect(first != Password.generate().value)
    }

    @Test func bcryptVerifiesTheRightPasswordOnly() async throws {
        let hasher = Fixture.fastPasswords
        let hash = await hasher.hash(try Password("correct horse battery"))
        #expect(hash.encoded.hasPrefix("$sha256-bcrypt$2b$"))
        #expect(!hash.encoded.contains("correct horse"))
        #expect(await hasher.verify("correct horse battery", against: hash))
        #expect(await !hasher.verify("correct horse battery!", against: hash))
    }
}

@Suite("Identifiers and random bytes")
struct IdentifierTests {
    @Test func newIdentifiersAreVersion7AndOrderedByTime() {
        let earlier = UUID.timeOrdered(at: Date(timeIntervalSince1970: 1_790_000_000))
        let later = UUID.timeOrdered(at: Date(timeIntervalSince1970: 1_790_000_000.002))
        let text = earlier.uuidString.lowercased()
        #expect(text.hasPrefix("01a0c450-6c00"), "48 bits of milliseconds first: \(text)")
        #expect(Array(text)[14] == "7", "version 7")
        #expect("89ab".contains(Array(text)[19]), "RFC 9562 variant")
        #expect(earlier.uuidString.lowercased() < later.uuidString.lowercased())
        #expect(UUID.timeOrdered() != UUID.timeOrdered())
        #expect(UserID().description.count == 36)
    }

    @Test func identifiersParseAsFoundationParsesThem() {
        for _ in 0..<200 {
            let uuid = UUID()
            #expect(UUID(text: uuid.uuidString) == uuid)
            #expect(UUID(text: uuid.uuidString.lowercased()) == uuid)
            #expect(uuid.lowercasedText == uuid.uuidString.lowercased())
        }
        #expect(
            UUID(text: "00000000-0000-0000-0000-000000000000")
                == UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        for malformed in [
            "", "01a0c450-6c00-7000-8000-00000000000", "01a0c450-6c00-7000-8000-0000000000000",
            "01a0c4506c00-7000-8000-0000-00000000", "01a0c450-6c00-7000-8000-00000000000g",
            "01a0c450_6c00-7000-8000-000000000000", "01a0c450-6c00-7000-8000-00000000000é",
        ] {
            #expect(UUID(text: malformed) == nil, "\(malformed)")
            #expect(UUID(uuidString: malformed) == nil, "Foundation agrees: \(malformed)")
        }
    }

    @Test func randomBytesComeInTheLengthAskedAndDiffer() {
        for count in [0, 1, 7, 8, 9, 16, 33] {
            #expect(SecretGenerator.randomBytes(count).count == count)
        }
        #expect(SecretGenerator.randomBytes(32) != SecretGenerator.randomBytes(32))
        // Every byte position is filled, not only the first of each eight.
        let many = (0..<64).map { _ in SecretGenerator.randomBytes(16) }
        for position in 0..<16 { #expect(Set(many.map { $0[position] }).count > 1, "position \(position)") }
    }
}

@Suite("TOTP")
struct TOTPTests {
    /// RFC 6238 Appendix B's SHA-1 secret and times, with the last six digits of its eight-digit codes.
    static let rfc = TOTP(secret: Array("12345678901234567890".utf8))

    @Test func theCodesOfRFC6238AppendixB() {
        let vectors: [(TimeInterval, String)] = [
            (59, "287082"), (1_111_111_109, "081804"), (1_111_111_111, "050471"), (1_234_567_890, "005924"),
            (2_000_000_000, "279037"), (20_000_000_000, "353130"),
        ]
        for (time, code) in vectors {
            #expect(Self.rfc.code(step: TOTP.step(at: Date(timeIntervalSince1970: time))) == code, "\(time)")
        }
    }

    @Test func aCodeMatchesOneStepEitherSideAndOnlyAfterTheLastUsedStep() {
        let now = Date(timeIntervalSince1970: 1_111_111_111)
        let step = TOTP.step(at: now)
        #expect(Self.rfc.match(Self.rfc.code(step: step), at: now, after: nil) == step)
        #expect(Self.rfc.match(Self.rfc.code(step: step - 1), at: now, after: nil) == step - 1)
        #expect(Self.rfc.match(Self.rfc.code(step: step + 1), at: now, after: nil) == step + 1)
        #expect(Self.rfc.match(Self.rfc.code(step: step - 2), at: now, after: nil) == nil, "too old")
        #expect(Self.rfc.match(Self.rfc.code(step: step), at: now, after: step) == nil, "no replay")
        #expect(Self.rfc.match("12345", at: now, after: nil) == nil)
        #expect(Self.rfc.match("abcdef", at: now, after: nil) == nil)
        #expect(
            Self.rfc.match(
                " " + Self.rfc.code(step: step).prefix(3) + " " + Self.rfc.code(step: step).suffix(3), at: now,
                after: nil) == step)
    }

    @Test func theSecretIsBase32AsAppsReadIt() {
        #expect(Base32.encode(Array("12345678901234567890".utf8)) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        #expect(Self.rfc.typedSecret == "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ")
        let uri = Self.rfc.uri(issuer: "Gatehouse", account: "ann@acme.test")
        #expect(
            uri == "otpauth://totp/Gatehouse:ann%40acme.test?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                + "&issuer=Gatehouse&algorithm=SHA1&digits=6&period=30")
        #expect(TOTP.generate().secret.count == 20)
    }
}
