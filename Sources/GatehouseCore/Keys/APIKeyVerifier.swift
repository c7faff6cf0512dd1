import Foundation

/// Verifies a presented API key: the one function the Bearer authenticator and, later, token introspection
/// call.
///
/// A key whose shape or checksum is wrong is refused before any store read. A genuine key acts with its
/// owner's rights at this moment: the owner's current role bounds its scopes, and a deactivated owner or one
/// who has not accepted the privacy notice stops it.
package struct APIKeyVerifier: CredentialVerifier {
    let store: any KeyVerificationStore
    let peppers: KeyPeppers
    let clock: any WallClock
    let settings: APIKeySettings
    let lastUse: LastUseRecorder?

    package init(
        store: any KeyVerificationStore, peppers: KeyPeppers, clock: any WallClock, settings: APIKeySettings,
        lastUse: LastUseRecorder? = nil
    ) {
        self.store = store
        self.peppers = peppers
        self.clock = clock
        self.settings = settings
        self.lastUse = lastUse
    }

    package func principal(for bearer: String) async throws -> Principal? {
        guard looksLikeKey(bearer) else { return nil }
        guard let key = PlaintextKey(parsing: bearer) else { throw CredentialRefusal.invalid }
        return try await verify(key)
    }

    /// The principal for `key`, or a `CredentialRefusal`.
    package func verify(_ key: PlaintextKey) async throws -> Principal {
        let now = clock.now()
        guard let record = try await storedKey(key), record.status == .active, !record.isExpired(at: now) else {
            throw CredentialRefusal.invalid
        }
        guard case .user(let ownerID) = record.owner, let owner = try await store.user(id: ownerID),
            owner.workspaceID == record.workspaceID
        else { throw CredentialRefusal.invalid }
        guard owner.isActive else { throw CredentialRefusal.userDeactivated }
        guard owner.privacyNoticeAcceptedAt != nil else { throw CredentialRefusal.privacyNoticeNotAccepted }
        let rights = RoleRights(custom: try await store.scopeDefinitions(in: record.workspaceID))
        let held = rights.scopes(of: owner.role)
        let scopes: Set<Scope> =
            switch record.scopes {
            case .ownerRights: held
            case .only(let chosen): chosen.intersection(held)
            }
        await lastUse?.note(record.id, at: now)
        return Principal(
            workspaceID: record.workspaceID, user: owner, role: owner.role, scopes: scopes,
            credential: .apiKey(record.id),
            rateLimitPerMinute: record.rateLimitPerMinute ?? settings.defaultRateLimitPerMinute)
    }

    /// Tries the current pepper first, then older ones, so keys made before a rotation still verify.
    private func storedKey(_ key: PlaintextKey) async throws -> APIKey? {
        for digest in peppers.digests(of: key) {
            if let record = try await store.apiKey(digest: digest) { return record }
        }
        return nil
    }

    /// Anything of the form `<prefix>_<rest>` with a plausible prefix is ours to judge (and to refuse if
    /// its checksum is wrong); other bearer strings are left to other verifiers.
    private func looksLikeKey(_ bearer: String) -> Bool {
        guard let separator = bearer.firstIndex(of: "_") else { return false }
        return (try? KeyPrefix(String(bearer[..<separator]))) != nil
    }
}
