import Foundation

/// A user's TOTP secret as stored: sealed with the installation secret, since codes are computed from it.
package struct StoredSecondFactor: Equatable, Sendable {
    package var userID: UserID
    package var workspaceID: WorkspaceID
    package var sealedSecret: String
    package var createdAt: Date
    /// Nil while enrolment waits for its first code.
    package var confirmedAt: Date?
    /// The time step of the last code accepted: no code of that step or before is accepted again.
    package var lastUsedStep: Int64?

    package init(
        userID: UserID, workspaceID: WorkspaceID, sealedSecret: String, createdAt: Date, confirmedAt: Date? = nil,
        lastUsedStep: Int64? = nil
    ) {
        self.userID = userID
        self.workspaceID = workspaceID
        self.sealedSecret = sealedSecret
        self.createdAt = createdAt
        self.confirmedAt = confirmedAt
        self.lastUsedStep = lastUsedStep
    }
}

/// Reads second factors and uses their codes once; they are written through `AuditStore.apply`.
package protocol SecondFactorStore: Sendable {
    func secondFactor(of user: UserID) async throws -> StoredSecondFactor?
    /// How many of the user's recovery codes are unused.
    func unusedRecoveryCodes(of user: UserID) async throws -> Int
    /// Records that a code of `step` was accepted, when `step` is later than the last one accepted; false,
    /// changing nothing, otherwise (a replay, or a parallel use of the same code).
    func useTOTPStep(_ step: Int64, of user: UserID) async throws -> Bool
    /// Marks the unused recovery code `digest` used; false when the user has no such unused code.
    func useRecoveryCode(_ digest: SecretDigest, of user: UserID, at time: Date) async throws -> Bool
}

extension SecondFactorStore {
    /// Whether the user has a confirmed second factor (one waiting for its first code does not count).
    package func hasSecondFactor(_ user: UserID) async throws -> Bool {
        try await secondFactor(of: user)?.confirmedAt != nil
    }
}

/// Why a second-factor code was refused.
package enum SecondFactorRefusal: Error, Equatable, Sendable {
    case wrongCode
    /// Too many wrong codes; try again after this many seconds.
    case throttled(retryAfter: Int)
}

/// Recovery codes: ten, shown once, each used once in place of a TOTP code; stored as digests.
package enum RecoveryCodes {
    package static let count = 10
    static let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")

    /// Ten fresh codes, `xxxxx-xxxxx` (ten characters from 31, about 50 bits each).
    static func generate() -> [String] {
        (0..<count).map { _ in
            var characters: [Character] = []
            // Bytes past the largest multiple of 31 are dropped, so every character is equally likely.
            while characters.count < 10 {
                for byte in SecretGenerator.randomBytes(16) where Int(byte) < 248 && characters.count < 10 {
                    characters.append(alphabet[Int(byte) % alphabet.count])
                }
            }
            return String(characters[0..<5]) + "-" + String(characters[5...])
        }
    }

    /// The digest a code is kept as, bound to its user.
    static func digest(_ code: String, of user: UserID) -> SecretDigest {
        let normalized = code.lowercased().filter { $0 != "-" && !$0.isWhitespace }
        return SecretDigest(of: "gatehouse-recovery\u{0}\(user)\u{0}\(normalized)")
    }

    /// Whether `text` is shaped like a recovery code rather than a TOTP code.
    static func looksLikeOne(_ text: String) -> Bool {
        text.filter { $0 != "-" && !$0.isWhitespace }.count == 10
    }
}

/// What second-factor enrolment and checks read and write.
package typealias TwoFactorStores = SecondFactorStore & AuditStore & SignInAttemptStore

/// A person's second factor: TOTP (RFC 6238) enrolled on `/account` and confirmed with a first code, with ten
/// recovery codes; checked at sign-in after the password. A code is accepted once, and wrong codes are throttled
/// per account.
package struct TwoFactor: Sendable {
    let store: any TwoFactorStores
    let clock: any WallClock
    let secret: SigningKeySecret
    let throttle: SignInThrottle

    package init(store: any TwoFactorStores, clock: any WallClock, secret: SigningKeySecret) {
        self.store = store
        self.clock = clock
        self.secret = secret
        self.throttle = SignInThrottle(
            store: store, clock: clock, perAccount: 10, perAddress: 50, purpose: "second_factor")
    }

    /// Whether the user has a confirmed second factor, and how many recovery codes are left.
    package struct Status: Equatable, Sendable {
        package let isEnrolled: Bool
        package let recoveryCodesLeft: Int
    }

    package func status(of user: User) async throws -> Status {
        let enrolled = try await store.hasSecondFactor(user.id)
        return Status(
            isEnrolled: enrolled, recoveryCodesLeft: enrolled ? try await store.unusedRecoveryCodes(of: user.id) : 0)
    }

    /// The secret waiting for its first code, made now unless one is waiting already. Throws `conflict` when
    /// the user has a confirmed second factor: it must be removed first.
    package func enrolment(for user: User) async throws -> TOTP {
        if let stored = try await store.secondFactor(of: user.id) {
            guard stored.confirmedAt == nil else {
                throw DomainError.conflict("Two-factor sign-in is on already; turn it off first to set it up again.")
            }
            return try open(stored)
        }
        let totp = TOTP.generate()
        let stored = StoredSecondFactor(
            userID: user.id, workspaceID: user.workspaceID, sealedSecret: try seal(totp, of: user.id),
            createdAt: clock.now())
        try await store.apply(.startTwoFactor(user, stored), recording: event("user.two_factor_started", user, nil))
        return totp
    }

    /// Confirms the waiting enrolment with a first code; returns the recovery codes, shown this once.
    package func confirm(for user: User, code: String, address: String?) async throws -> [String] {
        guard var stored = try await store.secondFactor(of: user.id), stored.confirmedAt == nil else {
            throw DomainError.conflict("There is no two-factor set-up waiting for a code; start again.")
        }
        let attempt = try await admit(user, address)
        guard let step = try open(stored).match(code, at: clock.now(), after: stored.lastUsedStep) else {
            try await record("user.two_factor_failed", user, address)
            throw SecondFactorRefusal.wrongCode
        }
        try await throttle.forgive(attempt)
        stored.confirmedAt = clock.now()
        stored.lastUsedStep = step
        let codes = RecoveryCodes.generate()
        try await store.apply(
            .confirmTwoFactor(user, stored, recoveryCodes: codes.map { RecoveryCodes.digest($0, of: user.id) }),
            recording: event("user.two_factor_enabled", user, address))
        return codes
    }

    /// Checks a TOTP code, or a recovery code, of the user's confirmed second factor; each is accepted once.
    /// Throws `SecondFactorRefusal`.
    package func verify(for user: User, code: String, address: String?) async throws {
        guard let stored = try await store.secondFactor(of: user.id), stored.confirmedAt != nil else {
            throw SecondFactorRefusal.wrongCode
        }
        let attempt = try await admit(user, address)
        if RecoveryCodes.looksLikeOne(code) {
            guard
                try await store.useRecoveryCode(
                    RecoveryCodes.digest(code, of: user.id), of: user.id, at: clock.now())
            else {
                try await record("user.two_factor_failed", user, address)
                throw SecondFactorRefusal.wrongCode
            }
            try await record("user.recovery_code_used", user, address)
        } else {
            guard let step = try open(stored).match(code, at: clock.now(), after: stored.lastUsedStep),
                try await store.useTOTPStep(step, of: user.id)
            else {
                try await record("user.two_factor_failed", user, address)
                throw SecondFactorRefusal.wrongCode
            }
        }
        try await throttle.forgive(attempt)
    }

    /// Ten new recovery codes in place of the old ones, after a current code; shown this once.
    package func regenerateRecoveryCodes(for user: User, code: String, address: String?) async throws -> [String] {
        try await verify(for: user, code: code, address: address)
        let codes = RecoveryCodes.generate()
        try await store.apply(
            .replaceRecoveryCodes(user, codes.map { RecoveryCodes.digest($0, of: user.id) }),
            recording: event("user.recovery_codes_regenerated", user, address))
        return codes
    }

    /// Turns the user's own second factor off, after a current code (or a recovery code).
    package func remove(for user: User, code: String, address: String?) async throws {
        try await verify(for: user, code: code, address: address)
        try await store.apply(.removeTwoFactor(user), recording: event("user.two_factor_disabled", user, address))
    }

    // MARK: Helpers

    private func admit(_ user: User, _ address: String?) async throws -> SignInThrottle.Attempt {
        do {
            return try await throttle.admit(email: user.email.value, address: address)
        } catch SignInRefusal.throttled(let wait) {
            throw SecondFactorRefusal.throttled(retryAfter: wait)
        }
    }

    private func seal(_ totp: TOTP, of user: UserID) throws -> String {
        try secret.seal(totp.secret, context: "totp\u{0}\(user)")
    }

    private func open(_ stored: StoredSecondFactor) throws -> TOTP {
        TOTP(secret: try secret.open(sealed: stored.sealedSecret, context: "totp\u{0}\(stored.userID)"))
    }

    private func record(_ action: String, _ user: User, _ address: String?) async throws {
        try await store.append(event(action, user, address))
    }

    /// An event of the user's own, in their browser.
    private func event(_ action: String, _ user: User, _ address: String?) -> AuditEvent {
        .about(user, action, by: .webSession(of: user), address: address, at: clock.now())
    }
}
