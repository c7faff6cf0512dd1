import Foundation

/// Why a password change was refused.
package enum PasswordChangeRefusal: Error, Equatable, Sendable {
    /// The current password given is not the user's.
    case wrongPassword
    /// Too many wrong current passwords; try again after this many seconds.
    case throttled(retryAfter: Int)
}

/// Why a sign-in was refused. Unknown email and wrong password are one case, so the page cannot be used to
/// find out which accounts exist.
package enum SignInRefusal: Error, Equatable, Sendable {
    case wrongCredentials
    /// The password was right but the account is deactivated.
    case deactivated
    /// Too many failures; try again after this many seconds.
    case throttled(retryAfter: Int)
}

/// What sign-in reads and writes.
package typealias SignInStore = DirectoryStore & SessionStore & SignInAttemptStore & AuditStore & ScopeStore
    & PasswordLinkStore & SecondFactorStore & KnownDeviceStore

/// Signs people in to Gatehouse's own pages with email and password, and keeps their browser sessions.
package struct SignIn: Sendable {
    let store: any SignInStore
    let passwords: any PasswordHasher
    let clock: any WallClock
    let settings: OAuthSettings
    let throttle: SignInThrottle
    /// Checked against when the email is unknown, so that answer takes as long as a wrong password.
    let decoy: DecoyHash
    /// The second step, for those who turned two-factor sign-in on.
    package let twoFactor: TwoFactor

    package init(
        store: any SignInStore, passwords: any PasswordHasher, clock: any WallClock, settings: OAuthSettings,
        throttle: SignInThrottle, decoy: DecoyHash, twoFactor: TwoFactor
    ) {
        self.store = store
        self.passwords = passwords
        self.clock = clock
        self.settings = settings
        self.throttle = throttle
        self.decoy = decoy
        self.twoFactor = twoFactor
    }

    /// How long a browser has, after the right password, to give its second factor.
    static let secondFactorTime: TimeInterval = 300

    /// Checks the email and password and opens a session; returns it with the cookie value, shown only to the
    /// browser. `userAgent` and `address` are kept so the person can tell their sessions apart. For someone with
    /// two-factor sign-in the session awaits the second factor (`completeSecondFactor`) for five minutes and
    /// signs nobody in until then. Throws `SignInRefusal`.
    package func signIn(email: String, password: String, address: String?, userAgent: String? = nil) async throws
        -> (WebSession, OpaqueToken)
    {
        // Counted before it is judged, so parallel guesses cannot outrun the count (see `SignInThrottle`).
        let attempt = try await throttle.admit(email: email, address: address)
        var user: User?
        if let address = try? EmailAddress(email) { user = try await store.user(email: address) }
        guard let user, let hash = user.passwordHash else {
            _ = await passwords.verify(password, against: await decoy.hash)
            throw SignInRefusal.wrongCredentials
        }
        guard await passwords.verify(password, against: hash) else {
            try await record("user.sign_in_failed", user, address: address)
            throw SignInRefusal.wrongCredentials
        }
        // The right password is no guess: it does not use up the allowance, whatever follows.
        try await throttle.forgive(attempt)
        guard user.isActive else { throw SignInRefusal.deactivated }
        try await rehashIfNeeded(user, password: password, hash: hash, address: address)
        let awaitsCode = try await store.hasSecondFactor(user.id)
        let (session, cookie) = try await open(
            for: user, amr: ["pwd"], awaitsSecondFactor: awaitsCode, userAgent: userAgent, address: address)
        try await record(awaitsCode ? "user.password_accepted" : "user.signed_in", user, address: address)
        return (session, cookie)
    }

    /// A new session of `user`, stored; its cookie value is shown only to the browser.
    private func open(
        for user: User, amr: [String], awaitsSecondFactor: Bool, userAgent: String?, address: String?
    ) async throws -> (WebSession, OpaqueToken) {
        let now = clock.now()
        let cookie = OpaqueToken.generate()
        let session = WebSession(
            digest: cookie.digest, userID: user.id, workspaceID: user.workspaceID, authTime: now,
            expiresAt: now.addingTimeInterval(awaitsSecondFactor ? Self.secondFactorTime : settings.sessionLifetime),
            userAgent: userAgent.map { String($0.prefix(256)) }.flatMap { $0.isEmpty ? nil : $0 }, address: address,
            amr: amr, awaitsSecondFactor: awaitsSecondFactor)
        try await store.insert(session)
        return (session, cookie)
    }

    /// After a sign-in of `session`'s user: whether the browser (its device cookie, `device`) is new for them.
    /// Returns the cookie the browser is to keep (a new one when it had none), and the user when they should
    /// be told of a sign-in from a browser they never used before (not their very first).
    package func recognize(device: String?, of session: WebSession) async throws
        -> (cookie: OpaqueToken, tell: User?)
    {
        let token = device.flatMap { $0.utf8.count == 43 ? OpaqueToken($0) : nil } ?? OpaqueToken.generate()
        guard try await store.rememberDevice(token.digest, of: session.userID, at: clock.now()) == .new else {
            return (token, nil)
        }
        return (token, try await store.user(id: session.userID))
    }

    /// The user whose password this browser gave and whose second factor is awaited, or nil.
    package func awaitingSecondFactor(cookie: String) async throws -> User? {
        guard let session = try await store.session(digest: OpaqueToken(cookie).digest), session.awaitsSecondFactor,
            clock.now() < session.expiresAt, let user = try await store.user(id: session.userID), user.isActive
        else { return nil }
        return user
    }

    /// Checks the second factor (a TOTP code or a recovery code) of the session awaiting it, and replaces that
    /// session with a signed-in one (a new cookie; `amr` `pwd otp`). Nil when no session awaits a code (it
    /// expired, or there is none); throws `SecondFactorRefusal`.
    package func completeSecondFactor(cookie: String, code: String, address: String?, userAgent: String?)
        async throws -> (WebSession, OpaqueToken)?
    {
        guard let user = try await awaitingSecondFactor(cookie: cookie) else { return nil }
        try await twoFactor.verify(for: user, code: code, address: address)
        try await store.deleteSession(digest: OpaqueToken(cookie).digest)
        let opened = try await open(
            for: user, amr: ["pwd", "otp"], awaitsSecondFactor: false, userAgent: userAgent, address: address)
        try await record("user.signed_in", user, address: address)
        return opened
    }

    /// Hashes a known-good password again when its hash was made with less work than the hasher does now (the
    /// cost setting rose) or under an older scheme, so stored hashes keep up without anyone choosing a new
    /// password.
    private func rehashIfNeeded(_ user: User, password: String, hash: PasswordHash, address: String?) async throws {
        guard passwords.needsRehash(hash) else { return }
        var rehashed = user
        rehashed.passwordHash = await passwords.hash(Password(known: password))
        try await store.apply(.updateUser(rehashed), recording: event("user.password_rehashed", user, address: address))
    }

    /// The signed-in user of a session cookie, or nil when the cookie is unknown, the session has ended (its
    /// absolute lifetime, or idle for longer than the idle timeout) or the user can no longer sign in. Using the
    /// session restarts its idle timeout; the write is made at most once a minute.
    package func signedIn(cookie: String) async throws -> SignedInUser? {
        let now = clock.now()
        guard let session = try await store.session(digest: OpaqueToken(cookie).digest), !session.awaitsSecondFactor,
            now < session.expiresAt,
            now < session.lastSeenAt.addingTimeInterval(settings.sessionIdleTimeout),
            let user = try await store.user(id: session.userID), user.isActive, user.workspaceID == session.workspaceID
        else { return nil }
        if now.timeIntervalSince(session.lastSeenAt) >= Self.touchInterval {
            try await store.touchSession(digest: session.digest, at: now)
        }
        // A session that used a second factor needs no read: removing one ends every session of its user.
        let hasTwoFactor = session.amr.contains("otp") ? true : try await store.hasSecondFactor(user.id)
        var required = false
        if !hasTwoFactor, Workspace.administratorRoles.contains(user.role) {
            required = try await store.workspace(id: user.workspaceID)?.requiresTwoFactor(of: user) ?? false
        }
        return SignedInUser(
            user: user, authTime: session.authTime, amr: session.amr, hasTwoFactor: hasTwoFactor,
            mustSetUpTwoFactor: required)
    }

    /// How stale a session's last use may be before it is written again.
    static let touchInterval: TimeInterval = 60

    /// Ends the session of `cookie`; returns whose it was, or nil when there was no such session.
    @discardableResult
    package func signOut(cookie: String) async throws -> UserID? {
        let digest = OpaqueToken(cookie).digest
        guard let session = try await store.session(digest: digest) else { return nil }
        try await store.deleteSession(digest: digest)
        return session.userID
    }

    /// Changes the signed-in user's own password: the current one first, so a browser left signed in is not
    /// enough to take the account over. Wrong guesses count against the same limits as sign-in. Every other
    /// session of the user ends; the one with `cookie` (the browser that changed it) goes on. Throws
    /// `PasswordChangeRefusal`, or `DomainError.invalidInput` for a new password that breaks the rules.
    package func changePassword(
        of user: User, current: String, new: String, keeping cookie: String?, address: String?
    ) async throws {
        let attempt: SignInThrottle.Attempt
        do {
            attempt = try await throttle.admit(email: user.email.value, address: address)
        } catch SignInRefusal.throttled(let wait) {
            throw PasswordChangeRefusal.throttled(retryAfter: wait)
        }
        guard let hash = user.passwordHash, await passwords.verify(current, against: hash) else {
            try await record("user.password_change_failed", user, address: address)
            throw PasswordChangeRefusal.wrongPassword
        }
        try await throttle.forgive(attempt)
        let password = try Password(new)
        try password.check(for: user.email, name: user.name)
        var changed = user
        changed.passwordHash = await passwords.hash(password)
        changed.updatedAt = clock.now()
        try await store.apply(
            .changePassword(changed, keepingSession: cookie.map { OpaqueToken($0).digest }),
            recording: event("user.password_changed", user, address: address))
    }

    /// The user's sessions that are still alive, the most recently used first.
    package func sessions(of user: User) async throws -> [WebSession] {
        let now = clock.now()
        return try await store.sessions(of: user.id).filter { session in
            !session.awaitsSecondFactor && now < session.expiresAt
                && now < session.lastSeenAt.addingTimeInterval(settings.sessionIdleTimeout)
        }
    }

    /// Ends the user's own session named `handle` (`WebSession.handle`); false when they have no such session.
    package func endSession(_ handle: String, of user: User, address: String?) async throws -> Bool {
        guard let session = try await store.sessions(of: user.id).first(where: { $0.handle == handle }) else {
            return false
        }
        try await store.deleteSession(digest: session.digest)
        try await record("user.session_ended", user, address: address)
        return true
    }

    /// Ends every session of the user's but the one with `cookie`, the browser asking, in one transaction with
    /// its audit event.
    package func endOtherSessions(of user: User, keeping cookie: String?, address: String?) async throws {
        try await store.apply(
            .endSessions(user, keepingSession: cookie.map { OpaqueToken($0).digest }),
            recording: event("user.other_sessions_ended", user, address: address))
    }

    /// Records that the signed-in user accepted the privacy notice, as the user themselves.
    package func acceptPrivacyNotice(_ signedIn: SignedInUser, address: String?) async throws -> User {
        try await UserAdministration(store: store, clock: clock, passwords: passwords)
            .acceptPrivacyNotice(signedIn.user.id, by: try await caller(signedIn, address: address))
    }

    /// Whom a signed-in browser acts as on Gatehouse's own pages: the user, with every scope their role holds
    /// in their workspace now (built-in and the workspace's own). The pages ask the same domain services as the
    /// JSON API with it, so both are bound by one permission model.
    package func caller(_ signedIn: SignedInUser, address: String?) async throws -> Caller {
        let user = signedIn.user
        let rights = RoleRights(custom: try await store.scopeDefinitions(in: user.workspaceID))
        let principal = Principal(
            workspaceID: user.workspaceID, user: user, role: user.role, scopes: rights.scopes(of: user.role),
            credential: .webSession, rateLimitPerMinute: 0)
        return Caller(principal, address: address)
    }

    private func record(_ action: String, _ user: User, address: String?) async throws {
        try await store.append(event(action, user, address: address))
    }

    /// An event of the user's own, in their browser.
    private func event(_ action: String, _ user: User, address: String?) -> AuditEvent {
        .about(user, action, by: .webSession(of: user), address: address, at: clock.now())
    }
}

/// A password hash nobody knows the password of, made with the real hasher's cost. It is made in the background
/// from start-up, so a bcrypt hash is not what the first `/healthz` waits for; a sign-in that needs it before it
/// is ready waits for it.
package final class DecoyHash: Sendable {
    private let making: Task<PasswordHash, Never>

    package init(_ passwords: any PasswordHasher) {
        making = Task { await passwords.hash(Password.generate()) }
    }

    var hash: PasswordHash {
        get async { await making.value }
    }
}
