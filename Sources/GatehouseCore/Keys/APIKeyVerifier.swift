import Foundation

/// Verifies a presented API key: the one function the Bearer authenticator and token introspection call.
///
/// A key whose shape or checksum is wrong is refused before any store read. A genuine key acts with its
/// owner's rights at this moment. A user key: the owner's current role bounds its scopes, and a deactivated
/// owner or one who has not accepted the privacy notice stops it; a key made for its owner by someone else is
/// bounded by its maker's current role as well, and stops when the maker is deactivated. A service key: every
/// scope of the workspace bounds it, and a disabled (or deleted) client stops it.
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
        try await check(key).principal
    }

    /// The stored key and the principal it stands for now, or a `CredentialRefusal`. A check that is not the
    /// key's use (introspection, asked by someone else) passes `countingUse: false`, so `last_used_at` stays.
    package func check(_ key: PlaintextKey, countingUse: Bool = true) async throws -> (
        record: APIKey, principal: Principal
    ) {
        let now = clock.now()
        guard let record = try await storedKey(key), record.status == .active, !record.isExpired(at: now) else {
            throw CredentialRefusal.invalid
        }
        let rights = RoleRights(custom: try await store.scopeDefinitions(in: record.workspaceID))
        let limit = record.rateLimitPerMinute ?? settings.defaultRateLimitPerMinute
        var principal: Principal
        switch record.owner {
        case .user(let ownerID):
            guard let owner = try await store.user(id: ownerID), owner.workspaceID == record.workspaceID else {
                throw CredentialRefusal.invalid
            }
            guard owner.isActive else { throw CredentialRefusal.userDeactivated }
            guard owner.privacyNoticeAcceptedAt != nil else { throw CredentialRefusal.privacyNoticeNotAccepted }
            principal = Principal(
                workspaceID: record.workspaceID, user: owner, role: owner.role, scopes: rights.scopes(of: owner.role),
                credential: .apiKey(record.id), rateLimitPerMinute: limit)
            if let makerID = record.createdBy, makerID != ownerID {
                try await bound(&principal, byMaker: makerID, rights: rights)
            }
        case .client(let clientID):
            guard let client = try await store.client(id: clientID), client.workspaceID == record.workspaceID else {
                throw CredentialRefusal.invalid
            }
            guard !client.isDisabled else { throw CredentialRefusal.clientDisabled }
            principal = Principal(
                workspaceID: record.workspaceID, user: nil, client: client, role: .admin,
                scopes: rights.scopes(of: .superAdmin), credential: .apiKey(record.id), rateLimitPerMinute: limit)
        }
        if case .only(let chosen) = record.scopes { principal.scopes.formIntersection(chosen) }
        principal.credentialExpiresAt = record.expiresAt
        if countingUse { lastUse?.note(record.id, at: now) }
        return (record, principal)
    }

    /// A key made by one person for another acts within its maker's rights as they are now too, and stops when
    /// the maker can no longer act: otherwise a key would outlive its maker's demotion or departure.
    private func bound(_ principal: inout Principal, byMaker makerID: UserID, rights: RoleRights) async throws {
        guard let maker = try await store.user(id: makerID), maker.workspaceID == principal.workspaceID,
            maker.isActive
        else { throw CredentialRefusal.makerDeactivated }
        principal.scopes.formIntersection(rights.scopes(of: maker.role))
        principal.role = principal.role.bounded(by: maker.role)
        principal.maker = maker.id
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
