import Foundation

/// What a one-time password link is for, and how long it lives.
package enum PasswordLinkPurpose: String, CaseIterable, Sendable {
    /// For someone added without a password, to choose their first one.
    case invitation
    /// For someone who lost their password, to choose a new one.
    case reset

    /// Seven days for an invitation, which waits for a person to read their mail; half an hour for a reset,
    /// asked for by someone at their screen.
    package var lifetime: TimeInterval {
        switch self {
        case .invitation: 7 * 86_400
        case .reset: 30 * 60
        }
    }
}

/// A one-time link to set a password. Only the digest of its token is kept; a user has at most one of each
/// purpose, and setting a password uses up every link they have.
package struct PasswordLink: Equatable, Sendable {
    package var digest: SecretDigest
    package var userID: UserID
    package var workspaceID: WorkspaceID
    package var purpose: PasswordLinkPurpose
    package var createdAt: Date
    package var expiresAt: Date

    package init(
        digest: SecretDigest, userID: UserID, workspaceID: WorkspaceID, purpose: PasswordLinkPurpose,
        createdAt: Date, expiresAt: Date
    ) {
        self.digest = digest
        self.userID = userID
        self.workspaceID = workspaceID
        self.purpose = purpose
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// A link just made, with its token (256 bits), which is shown or sent this once.
package struct IssuedPasswordLink: Sendable {
    package let link: PasswordLink
    package let token: OpaqueToken
    package let user: User

    /// A new link of `purpose` for `user`, made at `now`.
    init(_ purpose: PasswordLinkPurpose, for user: User, at now: Date) {
        let token = OpaqueToken.generate()
        self.token = token
        self.user = user
        self.link = PasswordLink(
            digest: token.digest, userID: user.id, workspaceID: user.workspaceID, purpose: purpose, createdAt: now,
            expiresAt: now.addingTimeInterval(purpose.lifetime))
    }
}

/// Reads password links; they are written through `AuditStore.apply`, always with their audit event.
package protocol PasswordLinkStore: Sendable {
    func passwordLink(digest: SecretDigest) async throws -> PasswordLink?
    /// The workspace's links, expired ones included until they are deleted.
    func passwordLinks(in workspace: WorkspaceID) async throws -> [PasswordLink]
}

/// Why a password link cannot be used.
package enum PasswordLinkRefusal: Error, Equatable, Sendable {
    /// Unknown, used, cancelled, replaced by a newer one, or its account is deactivated.
    case unknown
    /// Past its time.
    case expired
}

/// What the password link pages and the forgotten-password form read and write.
package typealias PasswordLinkStores = DirectoryStore & AuditStore & PasswordLinkStore & SignInAttemptStore

/// The person's side of password links: choosing a password with one, and asking for one by email when the
/// password is forgotten. (Admins make and cancel links through `UserAdministration`.)
package struct PasswordLinks: Sendable {
    let store: any PasswordLinkStores
    let clock: any WallClock
    let passwords: any PasswordHasher
    /// Reset emails per account and per address: few, since each one is a message in someone's inbox.
    let throttle: SignInThrottle

    package init(store: any PasswordLinkStores, clock: any WallClock, passwords: any PasswordHasher) {
        self.store = store
        self.clock = clock
        self.passwords = passwords
        self.throttle = SignInThrottle(
            store: store, clock: clock, perAccount: 3, perAddress: 20, purpose: "password_reset")
    }

    /// The link of `token` and whose it is, when it can still be used; throws `PasswordLinkRefusal`.
    package func open(_ token: String) async throws -> (PasswordLink, User) {
        guard !token.isEmpty, token.utf8.count <= 64,
            let link = try await store.passwordLink(digest: OpaqueToken(token).digest),
            let user = try await store.user(id: link.userID), user.isActive, user.workspaceID == link.workspaceID
        else { throw PasswordLinkRefusal.unknown }
        guard clock.now() < link.expiresAt else { throw PasswordLinkRefusal.expired }
        return (link, user)
    }

    /// Sets the password of the link's user, under the password rules, and uses the link up with every other
    /// link of theirs; every session of theirs ends, all in one transaction with its audit event. A link used
    /// twice at once is set by one request only: the other finds it gone (`PasswordLinkRefusal.unknown`).
    package func setPassword(with token: String, to new: String, address: String?) async throws -> User {
        let (link, user) = try await open(token)
        let password = try Password(new)
        try password.check(for: user.email, name: user.name)
        var changed = user
        changed.passwordHash = await passwords.hash(password)
        changed.updatedAt = clock.now()
        let action = link.purpose == .invitation ? "user.invitation_accepted" : "user.password_reset"
        let event = AuditEvent.about(
            user, action, by: AuditActor(user: user.id, credential: "password_link"), address: address,
            at: clock.now())
        do {
            try await store.apply(.setPasswordWithLink(changed, link), recording: event)
        } catch is RecordNotFound {
            throw PasswordLinkRefusal.unknown
        }
        return changed
    }

    /// A reset link for the account of `email`, to be emailed, or nil when there is no such active account, or it
    /// has asked too often: the caller answers the same either way, and does this off the request, so the
    /// answer's time tells nothing either. Counted per account and per address, known or not.
    package func requestReset(email: String, address: String?) async throws -> IssuedPasswordLink? {
        do {
            _ = try await throttle.admit(email: email, address: address)
        } catch SignInRefusal.throttled {
            return nil
        }
        guard let parsed = try? EmailAddress(email), let user = try await store.user(email: parsed), user.isActive
        else { return nil }
        let issued = IssuedPasswordLink(.reset, for: user, at: clock.now())
        let event = AuditEvent.about(
            user, "user.password_reset_requested", by: AuditActor(user: nil, credential: "forgotten_password"),
            address: address, at: clock.now())
        try await store.apply(.issuePasswordLink(user, issued.link), recording: event)
        return issued
    }
}
