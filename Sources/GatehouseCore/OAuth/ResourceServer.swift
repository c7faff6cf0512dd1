import Foundation

/// Identifies a registered resource server.
package typealias ResourceServerID = Identifier<ResourceServer>

/// A resource indicator (RFC 8707 §2): the absolute URI of an API that tokens may be asked for, without a
/// fragment; https, or http on a loopback host for an API under development. It becomes the access token's
/// `aud`, so it is compared exactly.
package struct ResourceIdentifier: Hashable, Sendable, Comparable, CustomStringConvertible {
    package let value: String
    package var description: String { value }

    package static let maximumLength = 2000

    /// Parses `raw`, or says which rule it breaks, naming `field`.
    package init(_ raw: String, field: String = "identifier") throws(DomainError) {
        func refuse(_ rule: String) -> DomainError {
            .invalidInput(field: field, message: "The resource identifier '\(raw.prefix(200))' \(rule)")
        }
        guard raw.utf8.count <= Self.maximumLength else {
            throw refuse("is longer than \(Self.maximumLength) characters.")
        }
        guard !raw.contains("#") else { throw refuse("has a fragment ('#…'), which RFC 8707 §2 forbids.") }
        let uri: RedirectURI
        do {
            uri = try RedirectURI(raw, field: field)
        } catch {
            throw refuse("must be an absolute https URI (or http on a loopback host), like https://api.example.com.")
        }
        guard uri.value.lowercased().hasPrefix("https://") || uri.isLoopback else {
            throw refuse("must be an absolute https URI (or http on a loopback host), like https://api.example.com.")
        }
        self.value = raw
    }

    /// Wraps an identifier read back from the store or Gatehouse's own, already checked.
    package init(trusted value: String) { self.value = value }

    package static func < (lhs: ResourceIdentifier, rhs: ResourceIdentifier) -> Bool { lhs.value < rhs.value }
}

/// An API of a workspace that access tokens can be issued for (RFC 8707): tokens asked for it carry its
/// identifier as `aud`, only the scopes it defines, and its own lifetime. Gatehouse's own API is the default
/// resource and is not registered (see `TokenAudience`).
package struct ResourceServer: Equatable, Sendable {
    package var id: ResourceServerID
    package var workspaceID: WorkspaceID
    package var identifier: ResourceIdentifier
    package var name: String
    /// The scopes its tokens may carry: of those granted, only these go into a token for it.
    package var scopes: Set<Scope>
    /// How long its access tokens live; nil for the server's setting.
    package var accessTokenLifetime: TimeInterval?
    package var createdBy: UserID?
    package var createdAt: Date

    package init(
        id: ResourceServerID = ResourceServerID(), workspaceID: WorkspaceID, identifier: ResourceIdentifier,
        name: String, scopes: Set<Scope>, accessTokenLifetime: TimeInterval?, createdBy: UserID?, createdAt: Date
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.identifier = identifier
        self.name = name
        self.scopes = scopes
        self.accessTokenLifetime = accessTokenLifetime
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// Whom an access token is for: Gatehouse's own API (`resource` nil), or a registered resource server.
package struct TokenAudience: Equatable, Sendable {
    /// The token's `aud`.
    package var identifier: String
    package var lifetime: TimeInterval
    /// The resource server, when the token is not for Gatehouse's own API.
    package var resource: ResourceServer?

    /// Of `granted`, what a token for this audience carries: all of it for Gatehouse's own API, else the
    /// scopes the resource defines.
    package func scopes(of granted: Set<Scope>) -> Set<Scope> {
        resource.map { granted.intersection($0.scopes) } ?? granted
    }
}

extension OAuthSettings {
    /// The audience of tokens for `resource`, or for Gatehouse's own API when it is nil.
    package func audience(for resource: ResourceServer?) -> TokenAudience {
        guard let resource else {
            return TokenAudience(identifier: audience, lifetime: accessTokenLifetime, resource: nil)
        }
        return TokenAudience(
            identifier: resource.identifier.value, lifetime: resource.accessTokenLifetime ?? accessTokenLifetime,
            resource: resource)
    }
}

/// Reads registered resource servers; they are written through `AuditStore.apply`.
package protocol ResourceServerStore: Sendable {
    func resourceServer(identifier: ResourceIdentifier) async throws -> ResourceServer?
    func resourceServer(id: ResourceServerID) async throws -> ResourceServer?
    /// The workspace's resource servers, ordered by identifier.
    func resourceServers(in workspace: WorkspaceID) async throws -> [ResourceServer]
}

/// Resolves the `resource` parameter (RFC 8707 §2) of authorization and token requests.
package enum ResourceIndicator {
    /// The resource server `raw` names for a client of `workspace`: nil for Gatehouse's own API (named by its
    /// audience, or not named at all), else a registered one of the same workspace; `invalid_target` for
    /// anything else.
    package static func resolve(
        _ raw: String?, in workspace: WorkspaceID, settings: OAuthSettings, store: any ResourceServerStore
    ) async throws -> ResourceServer? {
        guard let raw, raw != settings.audience else { return nil }
        guard let identifier = try? ResourceIdentifier(raw, field: "resource") else {
            throw OAuthFailure(
                .invalidTarget, "The resource must be an absolute URI without a fragment (RFC 8707 §2).")
        }
        guard let resource = try await store.resourceServer(identifier: identifier),
            resource.workspaceID == workspace
        else {
            throw OAuthFailure(.invalidTarget, "The resource '\(raw.prefix(200))' is not an API this server knows.")
        }
        return resource
    }

    /// The token request's `resource` must be the one authorized (RFC 8707 §2.2): nil sent means the same.
    package static func check(_ sent: String?, against authorized: ResourceIdentifier?, settings: OAuthSettings)
        throws(OAuthFailure)
    {
        guard let sent else { return }
        guard sent == (authorized?.value ?? settings.audience) else {
            throw OAuthFailure(
                .invalidTarget, "The resource must be the one the authorization was granted for, or be left out.")
        }
    }
}

/// The resource servers of a workspace, registered by its admins.
package struct ResourceServers: Sendable {
    let store: any ResourceServerStore & ScopeStore & AuditStore
    let clock: any WallClock
    let settings: OAuthSettings

    package static let maximumScopes = 100

    package init(
        store: any ResourceServerStore & ScopeStore & AuditStore, clock: any WallClock, settings: OAuthSettings
    ) {
        self.store = store
        self.clock = clock
        self.settings = settings
    }

    /// Registers an API of `workspace`. Needs `clients:write`: it decides what tokens apps get. The scopes must
    /// exist; a resource confers none (a token for it still carries only what its user and client hold).
    package func register(
        identifier: ResourceIdentifier, name: DisplayName, scopes: Set<Scope>, accessTokenLifetime: TimeInterval?,
        in workspace: WorkspaceID, by caller: Caller
    ) async throws -> ResourceServer {
        try caller.require(.clientsWrite)
        guard caller.canSee(workspace) else { throw DomainError.notFound("There is no such workspace.") }
        guard identifier.value != settings.audience else {
            throw DomainError.conflict("That is Gatehouse's own API, the default resource; it is not registered.")
        }
        guard scopes.count <= Self.maximumScopes else {
            throw DomainError.invalidInput(field: "scopes", message: "Name at most \(Self.maximumScopes) scopes.")
        }
        let rights = RoleRights(custom: try await store.scopeDefinitions(in: workspace))
        if let unknown = scopes.sorted().first(where: { !rights.isDefined($0) }) {
            throw DomainError.invalidInput(
                field: "scopes", message: "There is no scope '\(unknown)' in this workspace.")
        }
        if let lifetime = accessTokenLifetime, !OAuthSettings.accessTokenLifetimes.contains(lifetime) {
            throw DomainError.invalidInput(
                field: "access_token_lifetime", message: "The access token lifetime must be 60 to 86400 seconds.")
        }
        let resource = ResourceServer(
            workspaceID: workspace, identifier: identifier, name: name.value, scopes: scopes,
            accessTokenLifetime: accessTokenLifetime, createdBy: caller.principal?.user?.id, createdAt: clock.now())
        try await AuditTrail(store: store, clock: clock).record(
            .insertResourceServer(resource), as: "resource.created", by: caller,
            details: ["identifier": identifier.value, "name": resource.name])
        return resource
    }

    /// The workspace's resource servers; needs `clients:read`.
    package func list(in workspace: WorkspaceID, by caller: Caller) async throws -> [ResourceServer] {
        try caller.require(.clientsRead)
        guard caller.canSee(workspace) else { return [] }
        return try await store.resourceServers(in: workspace)
    }

    /// One resource server, or `notFound` (also for another workspace's).
    package func resource(_ id: ResourceServerID, by caller: Caller) async throws -> ResourceServer {
        try caller.require(.clientsRead)
        guard let resource = try await store.resourceServer(id: id), caller.canSee(resource.workspaceID) else {
            throw DomainError.notFound("There is no such resource server.")
        }
        return resource
    }

    /// Removes a resource server: no new token is issued for it, and refreshes asking for it are refused. Its
    /// tokens already issued run out at their expiry, as the API itself checks them.
    package func delete(_ id: ResourceServerID, by caller: Caller) async throws {
        try caller.require(.clientsWrite)
        let resource = try await resource(id, by: caller)
        try await AuditTrail(store: store, clock: clock).record(
            .deleteResourceServer(resource), as: "resource.deleted", by: caller,
            details: ["identifier": resource.identifier.value])
    }
}
