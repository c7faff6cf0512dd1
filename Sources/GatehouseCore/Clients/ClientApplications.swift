import Foundation

/// What an admin fills in to register a client application; parsed at the edge.
package struct NewClientApplication: Sendable {
    package var id: ClientID
    package var name: DisplayName
    package var description: String?
    package var logoURL: String?
    package var homepageURL: String?
    package var type: ClientType
    package var redirectURIs: [RedirectURI]
    package var postLogoutRedirectURIs: [RedirectURI]
    package var backchannelLogoutURI: RedirectURI?
    /// Nil for the defaults: `authorization_code` and `refresh_token`.
    package var grantTypes: Set<GrantType>?
    /// Nil for the default: every non-administrative scope of the workspace that the creator holds.
    package var scopes: Set<Scope>?
    /// Only a confidential client may turn PKCE off.
    package var requirePKCE: Bool
    /// Only a confidential client may be a resource server, which introspects any credential of its workspace.
    package var isResourceServer: Bool
    /// How its ID tokens are signed; RS256 unless it asks for ES256.
    package var idTokenSigningAlgorithm: SigningAlgorithm

    package init(
        id: ClientID, name: DisplayName, description: String? = nil, logoURL: String? = nil,
        homepageURL: String? = nil, type: ClientType = .confidential, redirectURIs: [RedirectURI] = [],
        postLogoutRedirectURIs: [RedirectURI] = [], backchannelLogoutURI: RedirectURI? = nil,
        grantTypes: Set<GrantType>? = nil, scopes: Set<Scope>? = nil, requirePKCE: Bool = true,
        isResourceServer: Bool = false, idTokenSigningAlgorithm: SigningAlgorithm = .rs256
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.logoURL = logoURL
        self.homepageURL = homepageURL
        self.type = type
        self.redirectURIs = redirectURIs
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.backchannelLogoutURI = backchannelLogoutURI
        self.grantTypes = grantTypes
        self.scopes = scopes
        self.requirePKCE = requirePKCE
        self.isResourceServer = isResourceServer
        self.idTokenSigningAlgorithm = idTokenSigningAlgorithm
    }
}

/// A change to a client; nil fields stay as they are, `.some(nil)` clears an optional one.
package struct ClientChange: Sendable {
    package var name: DisplayName?
    package var description: String??
    package var logoURL: String??
    package var homepageURL: String??
    package var redirectURIs: [RedirectURI]?
    package var postLogoutRedirectURIs: [RedirectURI]?
    package var backchannelLogoutURI: RedirectURI??
    package var grantTypes: Set<GrantType>?
    package var scopes: Set<Scope>?
    package var requirePKCE: Bool?
    package var isResourceServer: Bool?
    package var idTokenSigningAlgorithm: SigningAlgorithm?
    package var isDisabled: Bool?

    package init(
        name: DisplayName? = nil, description: String?? = nil, logoURL: String?? = nil, homepageURL: String?? = nil,
        redirectURIs: [RedirectURI]? = nil, postLogoutRedirectURIs: [RedirectURI]? = nil,
        backchannelLogoutURI: RedirectURI?? = nil, grantTypes: Set<GrantType>? = nil, scopes: Set<Scope>? = nil,
        requirePKCE: Bool? = nil,
        isResourceServer: Bool? = nil, idTokenSigningAlgorithm: SigningAlgorithm? = nil, isDisabled: Bool? = nil
    ) {
        self.name = name
        self.description = description
        self.logoURL = logoURL
        self.homepageURL = homepageURL
        self.redirectURIs = redirectURIs
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.backchannelLogoutURI = backchannelLogoutURI
        self.grantTypes = grantTypes
        self.scopes = scopes
        self.requirePKCE = requirePKCE
        self.isResourceServer = isResourceServer
        self.idTokenSigningAlgorithm = idTokenSigningAlgorithm
        self.isDisabled = isDisabled
    }
}

/// A client secret as generated: shown once to the person who asked for it, then only its digest is kept.
package struct ClientSecret: Sendable {
    package let value: String

    /// 256 bits from the system CSPRNG, as 43 URL-safe characters.
    package static func generate() -> ClientSecret { ClientSecret(value: SecretGenerator.base64URL(byteCount: 32)) }

    package var digest: SecretDigest { SecretDigest(of: value) }
}

/// A page of a workspace's clients, ordered by client_id.
package struct ClientPage: Sendable {
    package var clients: [ClientApplication]
    /// Where the next page starts; nil on the last page.
    package var next: ClientID?
}

/// The rules for registering, reading, changing, rotating the secret of, and deleting client applications.
///
/// A client carries rights — its scopes, reached through its grant types and redirect URIs — so registering it
/// needs every scope it is given, and every later change, rotation or deletion needs every right it carries.
package struct ClientApplications: Sendable {
    let store: any ClientStore & AccessStore
    let clock: any WallClock
    let audit: AuditTrail

    /// The longest an old secret keeps working after a rotation.
    package static let maximumGrace: TimeInterval = 7 * 86400
    package static let maximumRedirectURIs = 20
    package static let allowedPageSizes = 1...200

    package init(store: any ClientStore & AccessStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
        self.audit = AuditTrail(store: store, clock: clock)
    }

    /// Registers a client in `workspace`. A confidential client's secret is returned here once and stored only
    /// as a digest.
    package func create(
        _ input: NewClientApplication, in workspace: WorkspaceID, by caller: Caller
    ) async throws -> (ClientApplication, ClientSecret?) {
        try checkMayRegister(by: caller)
        guard caller.canSee(workspace) else { throw DomainError.notFound("There is no such workspace.") }
        // A client's own tokens carry its client_id as `sub`, where a user's carry their id: a client_id shaped
        // like a user id could pass for one at a resource server (RFC 9700 §4.15).
        guard !input.id.isMetadataDocument else {
            throw DomainError.invalidInput(
                field: "client_id",
                message: "A client_id that is an https URL names an app's metadata document; choose a plain name.")
        }
        guard UUID(uuidString: input.id.value) == nil else {
            throw DomainError.invalidInput(
                field: "client_id",
                message: "The client_id must not look like a user id (a UUID): tokens name both in the same claim.")
        }
        let grantTypes = input.grantTypes ?? GrantType.defaults
        try Self.check(grantTypes, for: input.type)
        try Self.checkPKCE(input.requirePKCE, for: input.type)
        try Self.checkResourceServer(input.isResourceServer, for: input.type)
        if input.isResourceServer {
            try Rights.require(caller, toHold: Rights.ofResourceServer, toDo: "You cannot register a resource server")
        }
        let rights = RoleRights(custom: try await store.scopeDefinitions(in: workspace))
        let scopes =
            try input.scopes.map { try checked($0, rights: rights, by: caller) }
            ?? caller.held(of: rights.nonAdministrative)
        let secret = input.type == .confidential ? ClientSecret.generate() : nil
        let now = clock.now()
        let client = ClientApplication(
            id: input.id, workspaceID: workspace, name: input.name.value,
            description: try Self.text(input.description, field: "description"),
            logoURL: try Self.webURL(input.logoURL, field: "logo_url"),
            homepageURL: try Self.webURL(input.homepageURL, field: "homepage_url"), type: input.type,
            redirectURIs: try Self.checked(input.redirectURIs),
            postLogoutRedirectURIs: try Self.checked(input.postLogoutRedirectURIs, field: "post_logout_redirect_uris"),
            backchannelLogoutURI: try Self.checkedBackchannel(input.backchannelLogoutURI),
            grantTypes: grantTypes, scopes: scopes, secret: secret.map { ClientSecretDigests(current: $0.digest) },
            requirePKCE: input.requirePKCE, isResourceServer: input.isResourceServer,
            idTokenSigningAlgorithm: input.idTokenSigningAlgorithm, createdBy: caller.principal?.user?.id,
            createdAt: now, updatedAt: now)
        try await audit.record(
            .insertClient(client), as: "client.created", by: caller,
            details: ["name": client.name, "type": client.type.rawValue])
        return (client, secret)
    }

    /// Throws `forbidden` unless the caller may register clients; a page asks before it offers the form.
    package func checkMayRegister(by caller: Caller) throws(DomainError) {
        try caller.require(.clientsWrite)
    }

    /// A page of the workspace's clients, ordered by client_id, starting after `cursor`.
    package func list(
        in workspace: WorkspaceID, after cursor: ClientID? = nil, limit: Int = 50, by caller: Caller
    ) async throws -> ClientPage {
        try caller.require(.clientsRead)
        guard Self.allowedPageSizes.contains(limit) else {
            throw DomainError.invalidInput(field: "limit", message: "The limit must be between 1 and 200.")
        }
        guard caller.canSee(workspace) else { return ClientPage(clients: [], next: nil) }
        // One more than asked for says whether there is a next page.
        let found = try await store.clients(in: workspace, after: cursor, limit: limit + 1)
        let page = Array(found.prefix(limit))
        return ClientPage(clients: page, next: found.count > limit ? page.last?.id : nil)
    }

    /// One client, or `notFound` (also for another workspace's client).
    package func client(_ id: ClientID, by caller: Caller) async throws -> ClientApplication {
        try caller.require(.clientsRead)
        return try await visibleClient(id, to: caller)
    }

    /// Changes a client's settings. Disabling it stops its keys (and later its tokens) at once.
    package func change(_ id: ClientID, _ change: ClientChange, by caller: Caller) async throws -> ClientApplication {
        try caller.require(.clientsWrite)
        let before = try await visibleClient(id, to: caller)
        try await requireHoldingRights(of: before, by: caller, toDo: "You cannot change the client '\(id)'")
        var client = before
        if let name = change.name { client.name = name.value }
        if let description = change.description {
            client.description = try Self.text(description, field: "description")
        }
        if let logoURL = change.logoURL { client.logoURL = try Self.webURL(logoURL, field: "logo_url") }
        if let homepageURL = change.homepageURL {
            client.homepageURL = try Self.webURL(homepageURL, field: "homepage_url")
        }
        if let redirectURIs = change.redirectURIs { client.redirectURIs = try Self.checked(redirectURIs) }
        if let uris = change.postLogoutRedirectURIs {
            client.postLogoutRedirectURIs = try Self.checked(uris, field: "post_logout_redirect_uris")
        }
        if let algorithm = change.idTokenSigningAlgorithm { client.idTokenSigningAlgorithm = algorithm }
        if let uri = change.backchannelLogoutURI { client.backchannelLogoutURI = try Self.checkedBackchannel(uri) }
        if let grantTypes = change.grantTypes {
            try Self.check(grantTypes, for: client.type)
            client.grantTypes = grantTypes
        }
        if let scopes = change.scopes {
            let rights = RoleRights(custom: try await store.scopeDefinitions(in: client.workspaceID))
            client.scopes = try checked(scopes, rights: rights, by: caller)
        }
        if let requirePKCE = change.requirePKCE {
            try Self.checkPKCE(requirePKCE, for: client.type)
            client.requirePKCE = requirePKCE
        }
        if let isResourceServer = change.isResourceServer {
            try Self.checkResourceServer(isResourceServer, for: client.type)
            client.isResourceServer = isResourceServer
            if isResourceServer {
                try Rights.require(
                    caller, toHold: Rights.ofResourceServer, toDo: "You cannot make it a resource server")
            }
        }
        if let isDisabled = change.isDisabled { client.isDisabled = isDisabled }
        guard client != before else { return before }
        client.updatedAt = clock.now()
        let action =
            switch (before.isDisabled, client.isDisabled) {
            case (false, true): "client.disabled"
            case (true, false): "client.enabled"
            default: "client.updated"
            }
        try await audit.record(
            .updateClient(client), as: action, by: caller,
            details: ["fields": Self.changedFields(before, client).joined(separator: " ")])
        return client
    }

    /// Replaces a confidential client's secret. The new one is returned once; the old one keeps working for
    /// `grace` seconds (at most 7 days), so an integration can roll over without downtime, and then fails.
    /// Any older secret still in its grace period stops at once: only the latest previous one is kept.
    package func rotateSecret(
        of id: ClientID, grace: TimeInterval = 0, by caller: Caller
    ) async throws -> (ClientApplication, ClientSecret) {
        try caller.require(.clientsWrite)
        var client = try await visibleClient(id, to: caller)
        try await requireHoldingRights(of: client, by: caller, toDo: "You cannot rotate the secret of '\(id)'")
        guard let current = client.secret else {
            throw DomainError.invalidInput(
                field: "client_id", message: "'\(id)' is a public client; public clients have no secret to rotate.")
        }
        guard (0...Self.maximumGrace).contains(grace) else {
            throw DomainError.invalidInput(
                field: "grace_seconds", message: "The grace period must be between 0 and 604800 seconds (7 days).")
        }
        let now = clock.now()
        let secret = ClientSecret.generate()
        client.secret = ClientSecretDigests(
            current: secret.digest, previous: grace > 0 ? current.current : nil,
            previousExpiresAt: grace > 0 ? now.addingTimeInterval(grace) : nil)
        client.updatedAt = now
        try await audit.record(
            .updateClient(client), as: "client.secret_rotated", by: caller,
            details: ["grace_seconds": "\(Int(grace))"])
        return (client, secret)
    }

    /// Deletes a client together with every API key it holds, in one step, so none of them works again.
    /// Returns how many keys went with it.
    @discardableResult
    package func delete(_ id: ClientID, by caller: Caller) async throws -> Int {
        try caller.require(.clientsWrite)
        let client = try await visibleClient(id, to: caller)
        try await requireHoldingRights(of: client, by: caller, toDo: "You cannot delete the client '\(id)'")
        let keys = try await store.apiKeys(in: client.workspaceID, status: nil, owner: .client(client.id))
        try await audit.record(
            .deleteClient(client), as: "client.deleted", by: caller,
            details: ["name": client.name, "api_keys_deleted": "\(keys.count)"])
        return keys.count
    }

    // MARK: Rules

    /// Whoever changes, rotates, enables, disables or deletes a client must hold every right it carries
    /// (`Rights`): its scopes, which its redirect URIs and grant types put within reach, and its service keys'.
    private func requireHoldingRights(
        of client: ClientApplication, by caller: Caller, toDo action: @autoclosure () -> String
    ) async throws {
        try Rights.require(caller, toHold: try await Rights(store: store).of(client), toDo: action())
    }

    /// `client_credentials` needs a secret; `refresh_token` only makes sense with a grant that issues them.
    private static func check(_ grantTypes: Set<GrantType>, for type: ClientType) throws(DomainError) {
        if grantTypes.contains(.clientCredentials), type == .public {
            throw .invalidInput(
                field: "grant_types",
                message: "client_credentials is only for confidential clients, which have a secret.")
        }
        if grantTypes.contains(.refreshToken), grantTypes.isDisjoint(with: [.authorizationCode, .deviceCode]) {
            throw .invalidInput(
                field: "grant_types",
                message: "refresh_token needs authorization_code or the device grant, the grants that issue them.")
        }
    }

    /// Every scope must exist here, and the caller must hold it: a client with `client_credentials` gets
    /// tokens with no user to bound them, so nobody may give a client more than they hold.
    private func checked(_ scopes: Set<Scope>, rights: RoleRights, by caller: Caller) throws(DomainError) -> Set<Scope>
    {
        for scope in scopes.sorted() where !rights.isDefined(scope) {
            throw .invalidInput(field: "scopes", message: "There is no scope '\(scope)' in this workspace.")
        }
        guard caller.holds(scopes) else {
            let missing = scopes.subtracting(caller.principal?.scopes ?? []).sorted().map(\.name)
            throw .forbidden(
                "You cannot give a client scopes you do not hold yourself (\(missing.joined(separator: ", "))).")
        }
        return scopes
    }

    private static func checked(_ uris: [RedirectURI], field: String = "redirect_uris") throws(DomainError)
        -> [RedirectURI]
    {
        var seen: Set<RedirectURI> = []
        let unique = uris.filter { seen.insert($0).inserted }
        guard unique.count <= maximumRedirectURIs else {
            throw .invalidInput(field: field, message: "A client may register at most \(maximumRedirectURIs) of them.")
        }
        return unique
    }

    /// A back-channel logout URI is called by Gatehouse itself, so it must be a web address: https, or http on a
    /// loopback address for an app on the same machine (never a native app's private-use scheme).
    private static func checkedBackchannel(_ uri: RedirectURI?) throws(DomainError) -> RedirectURI? {
        guard let uri else { return nil }
        guard uri.value.lowercased().hasPrefix("https://") || uri.isLoopback else {
            throw .invalidInput(
                field: "backchannel_logout_uri",
                message: "The backchannel_logout_uri '\(uri.value.prefix(200))' must be https (or http on a loopback "
                    + "address): Gatehouse calls it itself.")
        }
        return uri
    }

    /// Optional free text: trimmed, empty means none, at most 1000 characters (and 4000 bytes).
    private static func text(_ raw: String?, field: String) throws(DomainError) -> String? {
        guard let trimmed = raw?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
        guard isWithin(trimmed, characters: 1000) else {
            throw .invalidInput(
                field: field, message: "The \(field) must be at most 1000 characters (and 4000 bytes) long.")
        }
        return trimmed
    }

    /// Optional web address shown to users (logo, home page): https, or http on a loopback host for development.
    private static func webURL(_ raw: String?, field: String) throws(DomainError) -> String? {
        guard let raw, !raw.isEmpty else { return nil }
        let uri: RedirectURI
        do {
            uri = try RedirectURI(raw)
        } catch {
            throw .invalidInput(
                field: field, message: "The \(field) must be an https address (or http on a loopback host).")
        }
        guard uri.value.lowercased().hasPrefix("https://") || uri.isLoopback else {
            throw .invalidInput(
                field: field, message: "The \(field) must be an https address (or http on a loopback host).")
        }
        return uri.value
    }

    /// A public client cannot keep a secret, so PKCE is what protects its codes (RFC 9700 §2.1.1).
    private static func checkPKCE(_ requirePKCE: Bool, for type: ClientType) throws(DomainError) {
        guard requirePKCE || type == .confidential else {
            throw .invalidInput(
                field: "require_pkce", message: "A public client always needs PKCE; require_pkce cannot be false.")
        }
    }

    /// A public client cannot authenticate, so it cannot introspect at all.
    private static func checkResourceServer(_ isResourceServer: Bool, for type: ClientType) throws(DomainError) {
        guard !isResourceServer || type == .confidential else {
            throw .invalidInput(
                field: "resource_server",
                message: "Only a confidential client, which has a secret, can be a resource server.")
        }
    }

    private static func changedFields(_ before: ClientApplication, _ after: ClientApplication) -> [String] {
        var fields: [String] = []
        if before.name != after.name { fields.append("name") }
        if before.description != after.description { fields.append("description") }
        if before.logoURL != after.logoURL { fields.append("logo_url") }
        if before.homepageURL != after.homepageURL { fields.append("homepage_url") }
        if before.redirectURIs != after.redirectURIs { fields.append("redirect_uris") }
        if before.postLogoutRedirectURIs != after.postLogoutRedirectURIs { fields.append("post_logout_redirect_uris") }
        if before.backchannelLogoutURI != after.backchannelLogoutURI { fields.append("backchannel_logout_uri") }
        if before.idTokenSigningAlgorithm != after.idTokenSigningAlgorithm {
            fields.append("id_token_signed_response_alg")
        }
        if before.grantTypes != after.grantTypes { fields.append("grant_types") }
        if before.scopes != after.scopes { fields.append("scopes") }
        if before.requirePKCE != after.requirePKCE { fields.append("require_pkce") }
        if before.isResourceServer != after.isResourceServer { fields.append("resource_server") }
        if before.isDisabled != after.isDisabled { fields.append("disabled") }
        return fields
    }

    private func visibleClient(_ id: ClientID, to caller: Caller) async throws -> ClientApplication {
        guard let client = try await store.client(id: id), caller.canSee(client.workspaceID) else {
            throw DomainError.notFound("There is no client application '\(id)'.")
        }
        return client
    }
}
