import Foundation

/// Installation-wide key settings.
package struct APIKeySettings: Sendable {
    package var prefix: KeyPrefix
    /// Requests a minute for keys that set no limit of their own.
    package var defaultRateLimitPerMinute: Int

    package static let allowedRateLimits = 1...100_000

    package init(prefix: KeyPrefix = .standard, defaultRateLimitPerMinute: Int = 60) throws(DomainError) {
        guard Self.allowedRateLimits.contains(defaultRateLimitPerMinute) else {
            throw .invalidInput(
                field: "rate_limit_per_minute", message: "The default rate limit must be between 1 and 100000.")
        }
        self.prefix = prefix
        self.defaultRateLimitPerMinute = defaultRateLimitPerMinute
    }
}

/// What an admin asks for when generating a key; parsed at the edge.
package struct NewAPIKey: Sendable {
    package var name: DisplayName
    package var scopes: KeyScopes
    package var expiresAt: Date?
    package var rateLimitPerMinute: Int?

    package init(
        name: DisplayName, scopes: KeyScopes = .ownerRights, expiresAt: Date? = nil, rateLimitPerMinute: Int? = nil
    ) {
        self.name = name
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.rateLimitPerMinute = rateLimitPerMinute
    }
}

/// A change to a key's settings; nil fields stay as they are, `.some(nil)` clears an optional one.
package struct APIKeyChange: Sendable {
    package var name: DisplayName?
    package var scopes: KeyScopes?
    package var expiresAt: Date??
    package var rateLimitPerMinute: Int??

    package init(
        name: DisplayName? = nil, scopes: KeyScopes? = nil, expiresAt: Date?? = nil, rateLimitPerMinute: Int?? = nil
    ) {
        self.name = name
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.rateLimitPerMinute = rateLimitPerMinute
    }
}

/// The rules for generating, listing, changing, revoking and reactivating API keys.
///
/// Nobody can hand out rights they do not hold (`Rights`): a key's possible rights must be within its creator's;
/// a key for someone else needs every right of their role; changing, revoking or reactivating a key needs every
/// right it could use. A key made for someone else also stays within its maker's rights when used
/// (`APIKeyVerifier`).
package struct APIKeys: Sendable {
    let store: any AccessStore
    let clock: any WallClock
    let peppers: KeyPeppers
    let settings: APIKeySettings
    let audit: AuditTrail

    package init(store: any AccessStore, clock: any WallClock, peppers: KeyPeppers, settings: APIKeySettings) {
        self.store = store
        self.clock = clock
        self.peppers = peppers
        self.settings = settings
        self.audit = AuditTrail(store: store, clock: clock)
    }

    /// Generates a key for `owner`: a user key, or a service key of a client application. The plaintext is
    /// returned here once and stored nowhere.
    package func create(
        _ input: NewAPIKey, for owner: KeyOwner, by caller: Caller
    ) async throws -> (APIKey, PlaintextKey) {
        try caller.require(.apiKeysWrite)
        let holder = try await self.holder(owner, visibleTo: caller)
        if case .user = owner, let principal = caller.principal, principal.user == nil {
            // Its maker bounds a key made for someone else, and a client is no one: it could not be held to account.
            throw DomainError.forbidden(
                "A key that acts as a person is made by a person (or the operator), not by a client's credential.")
        }
        if owner != caller.principal?.user.map({ KeyOwner.user($0.id) }) {
            // A key acts as its owner: making one for someone (or a client) that holds more than you is acting
            // as them.
            try Rights.require(
                caller, toHold: try await carried(by: holder), toDo: "You cannot make a key for \(holder.name)")
        }
        let possible = try grantable(input.scopes, holder: holder)
        guard caller.holds(possible) else {
            throw DomainError.forbidden(
                "You cannot create a key with rights you do not hold yourself (the key could use "
                    + "\(possible.subtracting(caller.principal?.scopes ?? []).sorted().map(\.name).joined(separator: ", ")))."
            )
        }
        let now = clock.now()
        try checkExpiry(input.expiresAt, now: now)
        try checkRateLimit(input.rateLimitPerMinute)
        let plaintext = PlaintextKey.generate(prefix: settings.prefix)
        let key = APIKey(
            workspaceID: holder.workspace, owner: owner, name: input.name.value, prefix: plaintext.prefix,
            lastFour: plaintext.lastFour, digest: peppers.current.digest(plaintext), scopes: input.scopes,
            rateLimitPerMinute: input.rateLimitPerMinute, createdBy: caller.principal?.user?.id, createdAt: now,
            updatedAt: now, expiresAt: input.expiresAt)
        try await audit.record(
            .insertKey(key), as: "api_key.created", by: caller,
            details: [
                "name": key.name, "owner": holder.description,
                "scopes": key.scopes.names?.joined(separator: " ") ?? "owner rights",
            ])
        return (key, plaintext)
    }

    /// The workspace's keys, newest first.
    package func list(
        in workspace: WorkspaceID, status: KeyStatus? = nil, owner: KeyOwner? = nil, by caller: Caller
    ) async throws -> [APIKey] {
        try caller.require(.apiKeysRead)
        guard caller.canSee(workspace) else { return [] }
        if let owner { _ = try await holder(owner, visibleTo: caller) }
        return try await store.apiKeys(in: workspace, status: status, owner: owner)
    }

    /// The caller's own user keys, newest first. Anyone may see the keys that act for them, without
    /// `api_keys:read`; a service credential has none.
    package func ownKeys(by caller: Caller) async throws -> [APIKey] {
        try caller.require(.profile)
        guard let user = caller.principal?.user else { return [] }
        return try await store.apiKeys(in: user.workspaceID, status: nil, owner: .user(user.id))
    }

    /// One key, or `notFound` (also for another workspace's key).
    package func key(_ id: APIKeyID, by caller: Caller) async throws -> APIKey {
        try caller.require(.apiKeysRead)
        return try await visibleKey(id, to: caller)
    }

    /// Changes a key's name, scopes, expiry or rate limit.
    package func change(_ id: APIKeyID, _ change: APIKeyChange, by caller: Caller) async throws -> APIKey {
        try caller.require(.apiKeysWrite)
        var key = try await visibleKey(id, to: caller)
        try await requireHoldingRights(of: key, by: caller, toDo: "You cannot change this key")
        let now = clock.now()
        if let name = change.name { key.name = name.value }
        if let scopes = change.scopes {
            let holder = try await holder(key.owner, visibleTo: caller)
            guard caller.holds(try grantable(scopes, holder: holder)) else {
                throw DomainError.forbidden("You cannot give a key rights you do not hold yourself.")
            }
            key.scopes = scopes
        }
        if let expiresAt = change.expiresAt {
            try checkExpiry(expiresAt, now: now)
            key.expiresAt = expiresAt
        }
        if let limit = change.rateLimitPerMinute {
            try checkRateLimit(limit)
            key.rateLimitPerMinute = limit
        }
        key.updatedAt = now
        try await audit.record(.updateKey(key), as: "api_key.updated", by: caller, details: ["name": key.name])
        return key
    }

    /// Refuses the key from the next request on, or accepts it again.
    package func setStatus(_ status: KeyStatus, of id: APIKeyID, by caller: Caller) async throws -> APIKey {
        try caller.require(.apiKeysWrite)
        var key = try await visibleKey(id, to: caller)
        try await requireHoldingRights(
            of: key, by: caller, toDo: "You cannot \(status == .revoked ? "revoke" : "reactivate") this key")
        guard key.status != status else { return key }
        key.status = status
        key.updatedAt = clock.now()
        try await audit.record(
            .updateKey(key), as: status == .revoked ? "api_key.revoked" : "api_key.reactivated", by: caller)
        return key
    }

    // MARK: Rules

    /// Whoever changes, revokes or reactivates a key must hold every right it could use now (`Rights`).
    private func requireHoldingRights(
        of key: APIKey, by caller: Caller, toDo action: @autoclosure () -> String
    ) async throws {
        try Rights.require(caller, toHold: try await Rights(store: store).of(key), toDo: action())
    }

    /// Who a key is for, and what they hold now: a user holds what their role allows; a client application,
    /// for its service keys, holds every scope of its workspace.
    private struct Holder {
        let workspace: WorkspaceID
        let held: Set<Scope>
        /// The client, for a service key's holder.
        let client: ClientApplication?
        let rights: RoleRights
        /// How the audit trail names the holder.
        let description: String
        /// How messages name the holder.
        let name: String
        /// How messages name what bounds the holder's rights.
        let bound: String
    }

    private func holder(_ owner: KeyOwner, visibleTo caller: Caller) async throws -> Holder {
        switch owner {
        case .user(let id):
            let user = try await store.user(id, visibleTo: caller)
            let rights = RoleRights(custom: try await store.scopeDefinitions(in: user.workspaceID))
            return Holder(
                workspace: user.workspaceID, held: rights.scopes(of: user.role), client: nil, rights: rights,
                description: "\(user.id)", name: user.email.value, bound: "The owner's role (\(user.role.rawValue))")
        case .client(let id):
            guard let client = try await store.client(id: id), caller.canSee(client.workspaceID) else {
                throw DomainError.notFound("There is no client application '\(id)'.")
            }
            let rights = RoleRights(custom: try await store.scopeDefinitions(in: client.workspaceID))
            return Holder(
                workspace: client.workspaceID, held: rights.scopes(of: .superAdmin), client: client, rights: rights,
                description: "client:\(client.id)", name: "the client '\(client.id)'", bound: "The workspace")
        }
    }

    /// What the holder carries, which whoever makes a key for them must hold: a user's role; a client's scopes
    /// and service keys. Read only when a key is made, since a client's takes a listing of its keys.
    private func carried(by holder: Holder) async throws -> Set<Scope> {
        guard let client = holder.client else { return holder.held }
        return try await Rights(store: store).of(client)
    }

    /// The rights a key with `scopes` could ever use for its holder now, after checking every scope exists
    /// and the holder holds it.
    private func grantable(_ scopes: KeyScopes, holder: Holder) throws(DomainError) -> Set<Scope> {
        let held = holder.held
        let rights = holder.rights
        guard case .only(let chosen) = scopes else { return held }
        guard !chosen.isEmpty else {
            throw .invalidInput(
                field: "scopes", message: "Choose at least one scope, or leave scopes out for the owner's rights.")
        }
        for scope in chosen.sorted() {
            guard rights.isDefined(scope) else {
                throw .invalidInput(field: "scopes", message: "There is no scope '\(scope)' in this workspace.")
            }
            guard held.contains(scope) else {
                throw .invalidInput(field: "scopes", message: "\(holder.bound) does not hold '\(scope)'.")
            }
        }
        return chosen
    }

    private func checkExpiry(_ expiresAt: Date?, now: Date) throws(DomainError) {
        guard let expiresAt else { return }
        guard expiresAt > now else {
            throw .invalidInput(field: "expires_at", message: "The expiry must be in the future.")
        }
    }

    private func checkRateLimit(_ limit: Int?) throws(DomainError) {
        guard let limit else { return }
        guard APIKeySettings.allowedRateLimits.contains(limit) else {
            throw .invalidInput(
                field: "rate_limit_per_minute",
                message: "The rate limit must be between 1 and 100000 requests a minute.")
        }
    }

    private func visibleKey(_ id: APIKeyID, to caller: Caller) async throws -> APIKey {
        guard let key = try await store.apiKey(id: id), caller.canSee(key.workspaceID) else {
            throw DomainError.notFound("There is no API key with that id.")
        }
        return key
    }
}
