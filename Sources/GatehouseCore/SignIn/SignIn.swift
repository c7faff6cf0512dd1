import Foundation

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
package typealias SignInStore = DirectoryStore & SessionStore & RateLimitStore & AuditStore

/// Signs people in to Gatehouse's own pages with email and password, and keeps their browser sessions.
package struct SignIn: Sendable {
    let store: any SignInStore
    let passwords: any PasswordHasher
    let clock: any WallClock
    let settings: OAuthSettings
    let throttle: SignInThrottle
    /// Checked against when the email is unknown, so that answer takes as long as a wrong password.
    let decoy: PasswordHash

    package init(
        store: any SignInStore, passwords: any PasswordHasher, clock: any WallClock, settings: OAuthSettings,
        throttle: SignInThrottle, decoy: PasswordHash
    ) {
        self.store = store
        self.passwords = passwords
        self.clock = clock
        self.settings = settings
        self.throttle = throttle
        self.decoy = decoy
    }

    /// A password hash nobody knows the password of, made once at start-up with the real hasher's cost.
    package static func makeDecoy(_ passwords: any PasswordHasher) async -> PasswordHash {
        await passwords.hash(Password.generate())
    }

    /// Checks the email and password and opens a session; returns it with the cookie value, shown only to the
    /// browser. Throws `SignInRefusal`.
    package func signIn(email: String, password: String, address: String?) async throws -> (WebSession, OpaqueToken) {
        if let wait = try await throttle.retryAfter(email: email, address: address) {
            throw SignInRefusal.throttled(retryAfter: wait)
        }
        var user: User?
        if let address = try? EmailAddress(email) { user = try await store.user(email: address) }
        guard let user, let hash = user.passwordHash else {
            _ = await passwords.verify(password, against: decoy)
            try await throttle.recordFailure(email: email, address: address)
            throw SignInRefusal.wrongCredentials
        }
        guard await passwords.verify(password, against: hash) else {
            try await throttle.recordFailure(email: email, address: address)
            try await record("user.sign_in_failed", user, address: address)
            throw SignInRefusal.wrongCredentials
        }
        guard user.isActive else { throw SignInRefusal.deactivated }
        let now = clock.now()
        let cookie = OpaqueToken.generate()
        let session = WebSession(
            digest: cookie.digest, userID: user.id, workspaceID: user.workspaceID, authTime: now,
            expiresAt: now.addingTimeInterval(settings.sessionLifetime))
        try await store.insert(session)
        try await record("user.signed_in", user, address: address)
        return (session, cookie)
    }

    /// The signed-in user of a session cookie, or nil when the cookie is unknown or expired or the user can no
    /// longer sign in.
    package func signedIn(cookie: String) async throws -> SignedInUser? {
        guard let session = try await store.session(digest: OpaqueToken(cookie).digest),
            clock.now() < session.expiresAt,
            let user = try await store.user(id: session.userID), user.isActive, user.workspaceID == session.workspaceID
        else { return nil }
        return SignedInUser(user: user, authTime: session.authTime)
    }

    /// Ends the session of `cookie`.
    package func signOut(cookie: String) async throws {
        try await store.deleteSession(digest: OpaqueToken(cookie).digest)
    }

    /// Records that the signed-in user accepted the privacy notice, as the user themselves.
    package func acceptPrivacyNotice(_ signedIn: SignedInUser, address: String?) async throws -> User {
        let caller = Caller(Self.principal(signedIn.user), address: address)
        return try await UserAdministration(store: store, clock: clock, passwords: passwords)
            .acceptPrivacyNotice(signedIn.user.id, by: caller)
    }

    /// The principal of a browser session on Gatehouse's own pages.
    package static func principal(_ user: User) -> Principal {
        Principal(
            workspaceID: user.workspaceID, user: user, role: user.role, scopes: BuiltInScopes.scopes(of: user.role),
            credential: .webSession, rateLimitPerMinute: 0)
    }

    private func record(_ action: String, _ user: User, address: String?) async throws {
        try await store.append(
            AuditEvent(
                workspaceID: user.workspaceID, actor: AuditActor(user: user.id, credential: "web_session"),
                action: action, targetKind: "user", targetID: "\(user.id)", address: address,
                occurredAt: clock.now()))
    }
}
