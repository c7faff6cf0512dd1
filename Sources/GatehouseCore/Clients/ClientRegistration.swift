import Foundation

/// Identifies an initial access token.
package typealias InitialAccessTokenID = Identifier<InitialAccessToken>

/// A token an admin issues so that an app may register itself (RFC 7591 §3): shown once, kept as a digest,
/// bounded to the scopes its issuer chose (never more than they hold), optionally single-use and expiring.
package struct InitialAccessToken: Equatable, Sendable {
    package var id: InitialAccessTokenID
    package var workspaceID: WorkspaceID
    package var digest: SecretDigest
    package var label: String
    /// The most a client registered with it may hold.
    package var scopes: Set<Scope>
    package var singleUse: Bool
    package var expiresAt: Date?
    /// The admin who issued it; nil for the operator.
    package var createdBy: UserID?
    package var createdAt: Date
    package var uses: Int
    package var lastUsedAt: Date?
    package var revokedAt: Date?

    package init(
        id: InitialAccessTokenID = InitialAccessTokenID(), workspaceID: WorkspaceID, digest: SecretDigest,
        label: String, scopes: Set<Scope>, singleUse: Bool, expiresAt: Date?, createdBy: UserID?, createdAt: Date,
        uses: Int = 0, lastUsedAt: Date? = nil, revokedAt: Date? = nil
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.digest = digest
        self.label = label
        self.scopes = scopes
        self.singleUse = singleUse
        self.expiresAt = expiresAt
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.uses = uses
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }

    /// Whether it still lets an app register at `now`.
    package func isUsable(at now: Date) -> Bool { state(at: now) == .usable }

    /// Where it stands at `now`.
    package func state(at now: Date) -> InitialAccessTokenState {
        if revokedAt != nil { return .revoked }
        if singleUse && uses > 0 { return .used }
        if let expiresAt, now >= expiresAt { return .expired }
        return .usable
    }
}

/// Where an initial access token stands: only a usable one lets an app register.
package enum InitialAccessTokenState: String, Sendable {
    case usable, used, expired, revoked
}

/// Reads initial access tokens; they are written through `AuditStore.apply`.
package protocol InitialAccessTokenStore: Sendable {
    func initialAccessToken(digest: SecretDigest) async throws -> InitialAccessToken?
    func initialAccessToken(id: InitialAccessTokenID) async throws -> InitialAccessToken?
    /// The workspace's tokens, newest first.
    func initialAccessTokens(in workspace: WorkspaceID) async throws -> [InitialAccessToken]
    /// Clients that registered themselves openly (`ClientRegistrant.app`), or copies of metadata documents, with no
    /// token issued to them since `cutoff`, nor registered since; at most `limit`, oldest first.
    func unusedSelfRegisteredClients(before cutoff: Date, limit: Int) async throws -> [ClientApplication]
    /// Moves the client's `last_used_at` to `time` (a token was issued to it).
    func recordClientUse(_ client: ClientID, at time: Date) async throws
}

/// The client metadata an app sends to register itself (RFC 7591 §2), parsed at the edge; every field may be
/// absent, and the rules below decide what an absent one means.
package struct ClientMetadata: Sendable {
    package var redirectURIs: [String]
    package var tokenEndpointAuthMethod: String?
    package var grantTypes: [String]?
    package var responseTypes: [String]?
    package var clientName: String?
    package var clientURI: String?
    package var logoURI: String?
    package var scope: String?
    package var softwareStatement: String?

    package init(
        redirectURIs: [String] = [], tokenEndpointAuthMethod: String? = nil, grantTypes: [String]? = nil,
        responseTypes: [String]? = nil, clientName: String? = nil, clientURI: String? = nil, logoURI: String? = nil,
        scope: String? = nil, softwareStatement: String? = nil
    ) {
        self.redirectURIs = redirectURIs
        self.tokenEndpointAuthMethod = tokenEndpointAuthMethod
        self.grantTypes = grantTypes
        self.responseTypes = responseTypes
        self.clientName = clientName
        self.clientURI = clientURI
        self.logoURI = logoURI
        self.scope = scope
        self.softwareStatement = softwareStatement
    }
}

/// Why a registration request is refused, in RFC 7591 §3.2.2's and RFC 6750's words.
package enum RegistrationRefusal: Error, Equatable, Sendable {
    /// `invalid_redirect_uri`.
    case invalidRedirectURI(String)
    /// `invalid_client_metadata`, naming the field.
    case invalidClientMetadata(String)
    /// `invalid_software_statement`: Gatehouse takes none.
    case softwareStatementRefused
    /// The initial access token or registration access token is missing, unknown, used up or revoked: 401.
    case invalidToken(String)
    /// The workspace does not let apps register (without a token): 403.
    case notAllowed(String)
    /// Too many open registrations from the address, or at all: 429.
    case throttled(retryAfter: Int)
}

/// A client registered by an app, with its secrets shown this once.
package struct RegisteredClient: Sendable {
    package var client: ClientApplication
    package var secret: ClientSecret?
    /// The RFC 7592 registration access token; nil when an update kept the one the app holds.
    package var registrationToken: OpaqueToken?

    package init(client: ClientApplication, secret: ClientSecret? = nil, registrationToken: OpaqueToken? = nil) {
        self.client = client
        self.secret = secret
        self.registrationToken = registrationToken
    }
}

/// Dynamic client registration (RFC 7591) and its management (RFC 7592), under each workspace's policy.
///
/// - Open (no token): the app gets a public client with PKCE, `authorization_code` and `refresh_token` only,
///   https or loopback redirect URIs only, and no administrative scope; registrations are throttled per
///   address and in total, and such clients are deleted after 30 days without a token.
/// - With an initial access token: confidential or public, `client_credentials` too, and the scopes the token
///   allows, as long as the admin who issued it still holds them.
package struct ClientRegistration: Sendable {
    let store: any ClientStore & AccessStore & InitialAccessTokenStore
    let throttle: SignInThrottle
    let clock: any WallClock
    /// Where apps without an initial access token register.
    let openWorkspace: WorkspaceSlug

    /// How long a client that registered itself openly lives without a token issued to it.
    package static let unusedLifetime: TimeInterval = 30 * 86_400
    /// Open registrations: per address, and in total, in `throttleWindow`.
    package static let openPerAddress = 20
    package static let openInTotal = 1_000
    package static let throttleWindow: TimeInterval = 3_600
    package static let actor = AuditActor(user: nil, credential: "client_registration")

    package init(
        store: any ClientStore & AccessStore & InitialAccessTokenStore & SignInAttemptStore, clock: any WallClock,
        openWorkspace: WorkspaceSlug
    ) {
        self.store = store
        self.clock = clock
        self.openWorkspace = openWorkspace
        self.throttle = SignInThrottle(
            store: store, clock: clock, perAccount: Self.openInTotal, perAddress: Self.openPerAddress,
            window: Self.throttleWindow, purpose: "client_registration")
    }

    // MARK: RFC 7591

    /// Registers a client for the app that sent `metadata`, with `initialAccessToken` when it has one.
    package func register(_ metadata: ClientMetadata, initialAccessToken: String?, address: String?) async throws
        -> RegisteredClient
    {
        let now = clock.now()
        let grant: RegistrationGrant
        if let initialAccessToken {
            grant = try await tokenGrant(initialAccessToken, at: now)
        } else {
            grant = try await openGrant(address: address)
        }
        var client = try await checked(metadata, under: grant, replacing: nil, at: now)
        let secret = client.type == .confidential ? ClientSecret.generate() : nil
        client.secret = secret.map { ClientSecretDigests(current: $0.digest) }
        let registrationToken = OpaqueToken.generate()
        client.registrationTokenDigest = registrationToken.digest
        let event = AuditEvent(
            workspaceID: client.workspaceID,
            actor: grant.token.map { AuditActor(user: $0.createdBy, credential: "initial_access_token:\($0.id)") }
                ?? Self.actor,
            action: "client.registered", targetKind: "client", targetID: client.id.value, address: address,
            details: [
                "name": client.name, "type": client.type.rawValue, "registered_by": client.registeredBy.rawValue,
            ],
            occurredAt: now)
        do {
            try await store.apply(.registerClient(client, usingToken: grant.token?.id), recording: event)
        } catch is RecordNotFound {
            // A single-use token was used by another registration at the same moment.
            throw RegistrationRefusal.invalidToken("The initial access token is used up.")
        }
        return RegisteredClient(client: client, secret: secret, registrationToken: registrationToken)
    }

    /// What a registration may make: the workspace, the registrant, and the most the client may hold.
    private struct RegistrationGrant {
        var workspaceID: WorkspaceID
        /// The token presented, if any.
        var token: InitialAccessToken?
        var registrant: ClientRegistrant
        var scopes: Set<Scope>
        /// Open registrations make public clients only.
        var isOpen: Bool { registrant == .app }
    }

    private func tokenGrant(_ presented: String, at now: Date) async throws -> RegistrationGrant {
        guard let token = try await store.initialAccessToken(digest: OpaqueToken(presented).digest),
            token.isUsable(at: now)
        else { throw RegistrationRefusal.invalidToken("The initial access token is not valid.") }
        guard let workspace = try await store.workspace(id: token.workspaceID), workspace.clientRegistration != .off
        else { throw RegistrationRefusal.notAllowed("This workspace does not accept registrations now.") }
        // The token carries its issuer's rights as they are now: deactivated or demoted, it carries less.
        var held = try await Rights.of(.superAdmin, in: token.workspaceID, store: store)
        if let issuer = token.createdBy {
            guard let user = try await store.user(id: issuer), user.isActive, user.workspaceID == token.workspaceID
            else { throw RegistrationRefusal.invalidToken("The admin who issued this token can no longer act.") }
            held = try await Rights.of(user.role, in: token.workspaceID, store: store)
        }
        return RegistrationGrant(
            workspaceID: token.workspaceID, token: token, registrant: .appWithToken,
            scopes: token.scopes.intersection(held))
    }

    private func openGrant(address: String?) async throws -> RegistrationGrant {
        guard let workspace = try await store.workspace(slug: openWorkspace), workspace.clientRegistration == .open
        else {
            throw RegistrationRefusal.notAllowed(
                "This server does not let apps register themselves without an initial access token; ask an admin.")
        }
        do {
            _ = try await throttle.admit(email: "*", address: address)
        } catch SignInRefusal.throttled(let retryAfter) {
            throw RegistrationRefusal.throttled(retryAfter: retryAfter)
        }
        let scopes = try await Rights.nonAdministrative(in: workspace.id, store: store)
        return RegistrationGrant(workspaceID: workspace.id, token: nil, registrant: .app, scopes: scopes)
    }

    /// The client `metadata` describes, under `grant`'s rules; `existing` is the one an update replaces.
    private func checked(
        _ metadata: ClientMetadata, under grant: RegistrationGrant, replacing existing: ClientApplication?, at now: Date
    ) async throws -> ClientApplication {
        if metadata.softwareStatement != nil { throw RegistrationRefusal.softwareStatementRefused }
        func invalid(_ message: String) -> RegistrationRefusal { .invalidClientMetadata(message) }
        // Open registration makes public clients only: a requested secret is replaced by none (RFC 7591 §3.2.1
        // lets the server substitute values), so clients that ask for one by default still register.
        let method: TokenEndpointAuthMethod
        if let raw = metadata.tokenEndpointAuthMethod {
            guard let parsed = TokenEndpointAuthMethod(rawValue: raw) else {
                throw invalid(
                    "token_endpoint_auth_method '\(raw.prefix(64))' is not supported; use none, client_secret_basic "
                        + "or client_secret_post.")
            }
            method = grant.isOpen ? .none : parsed
        } else {
            method = grant.isOpen ? .none : .clientSecretBasic
        }
        let type: ClientType = method == .none ? .public : .confidential
        var grantTypes: Set<GrantType> = GrantType.defaults
        if let raw = metadata.grantTypes {
            grantTypes = []
            for name in raw {
                guard let parsed = GrantType(rawValue: name) else {
                    throw invalid(
                        "grant_types: '\(name.prefix(64))' is not supported; use authorization_code, "
                            + "refresh_token or client_credentials.")
                }
                grantTypes.insert(parsed)
            }
            guard !grantTypes.isEmpty else { throw invalid("grant_types must name at least one grant type.") }
        }
        if grantTypes.contains(.clientCredentials) {
            guard !grant.isOpen else {
                throw invalid("grant_types: client_credentials needs an initial access token from an admin.")
            }
            guard type == .confidential else {
                throw invalid("grant_types: client_credentials is only for a client with a secret.")
            }
        }
        if grantTypes.contains(.refreshToken), grantTypes.isDisjoint(with: [.authorizationCode, .deviceCode]) {
            throw invalid("grant_types: refresh_token needs authorization_code or the device grant, which issue them.")
        }
        if let responseTypes = metadata.responseTypes, !responseTypes.allSatisfy({ $0 == "code" }) {
            throw invalid("response_types: only code is supported.")
        }
        if grantTypes.contains(.authorizationCode), metadata.responseTypes == [] {
            throw invalid("response_types must include code for the authorization_code grant.")
        }
        let redirects = try Self.redirectURIs(metadata.redirectURIs, needed: grantTypes.contains(.authorizationCode))
        let scopes: Set<Scope>
        if let raw = metadata.scope {
            var asked: Set<Scope> = []
            for token in raw.split(separator: " ") {
                guard let scope = try? Scope(String(token)) else {
                    throw invalid("scope: '\(token.prefix(64))' is not a valid scope.")
                }
                asked.insert(scope)
            }
            // What is not within reach falls out, as at the token endpoint; the answer says what was granted.
            scopes = asked.intersection(grant.scopes)
        } else {
            scopes = grant.scopes.subtracting(BuiltInScopes.administrative)
        }
        let name = try Self.text(metadata.clientName, field: "client_name") ?? "Unnamed app"
        let clientURI = try Self.web(metadata.clientURI, field: "client_uri")
        let logoURI = try Self.web(metadata.logoURI, field: "logo_uri")
        let id = try existing?.id ?? ClientID("app-" + Base32.encode(SecretGenerator.randomBytes(15)).lowercased())
        return ClientApplication(
            id: id, workspaceID: grant.workspaceID, name: name, logoURL: logoURI, homepageURL: clientURI, type: type,
            redirectURIs: redirects, grantTypes: grantTypes, scopes: scopes, secret: existing?.secret,
            requirePKCE: true, createdBy: nil, createdAt: existing?.createdAt ?? now, updatedAt: now
        ).registered(by: grant.registrant, method: method, token: existing?.registrationTokenDigest)
    }

    /// Redirect URIs of a client that registered itself: https, or http on a loopback address, at most 20; not
    /// the private-use schemes admins may register, which any app on a device can claim.
    private static func redirectURIs(_ raws: [String], needed: Bool) throws -> [RedirectURI] {
        guard !raws.isEmpty || !needed else {
            throw RegistrationRefusal.invalidRedirectURI("redirect_uris must name at least one redirect URI.")
        }
        guard raws.count <= ClientApplications.maximumRedirectURIs else {
            throw RegistrationRefusal.invalidRedirectURI(
                "redirect_uris may name at most \(ClientApplications.maximumRedirectURIs) URIs.")
        }
        var parsed: [RedirectURI] = []
        for raw in raws {
            let uri: RedirectURI
            do {
                uri = try RedirectURI(raw)
            } catch {
                throw RegistrationRefusal.invalidRedirectURI(error.message)
            }
            guard uri.isWebOrLoopback else {
                throw RegistrationRefusal.invalidRedirectURI(
                    "The redirect URI '\(raw.prefix(200))' must be https, or http on 127.0.0.1, [::1] or localhost.")
            }
            parsed.append(uri)
        }
        return parsed
    }

    private static func text(_ raw: String?, field: String) throws -> String? {
        guard let raw else { return nil }
        do {
            return try DisplayName(raw, field: field).value
        } catch {
            throw RegistrationRefusal.invalidClientMetadata(error.message)
        }
    }

    private static func web(_ raw: String?, field: String) throws -> String? {
        guard let raw else { return nil }
        guard raw.utf8.count <= 2000, raw.lowercased().hasPrefix("https://"), URL(string: raw)?.host != nil else {
            throw RegistrationRefusal.invalidClientMetadata("\(field) must be an https URL.")
        }
        return raw
    }

    // MARK: Upkeep

    /// Notes that a token was issued to `client`, at most once a day, for a client that registered itself
    /// openly: it is deleted after `unusedLifetime` without one.
    package func recordUse(of client: ClientApplication) async throws {
        let now = clock.now()
        guard [.app, .metadataDocument].contains(client.registeredBy),
            (client.lastUsedAt ?? client.createdAt) < now.addingTimeInterval(-86_400)
        else { return }
        try await store.recordClientUse(client.id, at: now)
    }

    /// Deletes up to `limit` clients that registered themselves openly and have gone `unusedLifetime` without a
    /// token, each with everything it holds and an audit event; returns how many it found.
    package func deleteUnusedClients(limit: Int = 100) async throws -> Int {
        let now = clock.now()
        let stale = try await store.unusedSelfRegisteredClients(
            before: now.addingTimeInterval(-Self.unusedLifetime), limit: limit)
        for client in stale {
            let event = AuditEvent(
                workspaceID: client.workspaceID, actor: AuditActor(user: nil, credential: "retention"),
                action: "client.deleted", targetKind: "client", targetID: client.id.value, address: nil,
                details: ["reason": "registered by the app, and unused for 30 days"], occurredAt: now)
            // (A metadata document's copy is fetched again when the app comes back.)
            do {
                try await store.apply(.deleteClient(client), recording: event)
            } catch is RecordNotFound {
                // Deleted meanwhile, by its app or another instance.
            }
        }
        return stale.count
    }

    // MARK: RFC 7592

    /// The client `id`, when `registrationToken` is its registration access token.
    package func read(_ id: String, registrationToken: String?) async throws -> ClientApplication {
        try await authorized(id, registrationToken)
    }

    /// Replaces the client's metadata with `metadata`, under the rules it registered under. Its secret and
    /// registration access token stay.
    package func update(_ id: String, _ metadata: ClientMetadata, registrationToken: String?, address: String?)
        async throws -> ClientApplication
    {
        let existing = try await authorized(id, registrationToken)
        // The rules of the registration it came from: open ones stay open ones; a token's bounds are the
        // client's scopes as they stand (the token itself may be gone).
        let grant = RegistrationGrant(
            workspaceID: existing.workspaceID, token: nil, registrant: existing.registeredBy,
            scopes: existing.registeredBy == .app
                ? try await Rights.nonAdministrative(in: existing.workspaceID, store: store)
                : existing.scopes)
        var metadata = metadata
        if existing.registeredBy == .appWithToken {
            metadata.tokenEndpointAuthMethod = existing.tokenEndpointAuthMethod?.rawValue
        }
        var client = try await checked(metadata, under: grant, replacing: existing, at: clock.now())
        client.isDisabled = existing.isDisabled
        client.lastUsedAt = existing.lastUsedAt
        client.idTokenSigningAlgorithm = existing.idTokenSigningAlgorithm
        let event = AuditEvent(
            workspaceID: client.workspaceID, actor: Self.actor, action: "client.updated", targetKind: "client",
            targetID: client.id.value, address: address, details: ["by": "registration_access_token"],
            occurredAt: clock.now())
        try await store.apply(.updateClient(client), recording: event)
        return client
    }

    /// Deletes the client with everything it holds (RFC 7592 §2.3).
    package func delete(_ id: String, registrationToken: String?, address: String?) async throws {
        let client = try await authorized(id, registrationToken)
        let event = AuditEvent(
            workspaceID: client.workspaceID, actor: Self.actor, action: "client.deleted", targetKind: "client",
            targetID: client.id.value, address: address, details: ["by": "registration_access_token"],
            occurredAt: clock.now())
        try await store.apply(.deleteClient(client), recording: event)
    }

    /// The client, when the token is its registration access token; anything else is one `invalid_token`, so
    /// nobody learns which client ids exist (RFC 7592 §3).
    private func authorized(_ id: String, _ token: String?) async throws -> ClientApplication {
        guard let token, let clientID = try? ClientID(id), let client = try await store.client(id: clientID),
            let digest = client.registrationTokenDigest, OpaqueToken(token).digest.matches(digest: digest)
        else { throw RegistrationRefusal.invalidToken("The registration access token is not valid for this client.") }
        return client
    }
}

extension ClientApplication {
    /// This client as registered by an app.
    fileprivate func registered(
        by registrant: ClientRegistrant, method: TokenEndpointAuthMethod, token: SecretDigest?
    ) -> ClientApplication {
        var client = self
        client.registeredBy = registrant
        client.tokenEndpointAuthMethod = method
        client.registrationTokenDigest = token
        return client
    }
}

/// What admins decide about apps registering themselves: the workspace's policy, and initial access tokens.
package struct RegistrationAdministration: Sendable {
    let store: any AccessStore & InitialAccessTokenStore
    let clock: any WallClock
    let audit: AuditTrail

    /// How long an initial access token lives unless the admin says otherwise, and at most.
    package static let defaultTokenLifetime: TimeInterval = 7 * 86_400
    package static let tokenLifetimes: ClosedRange<TimeInterval> = 60...(365 * 86_400)

    package init(store: any AccessStore & InitialAccessTokenStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
        self.audit = AuditTrail(store: store, clock: clock)
    }

    /// The workspace's policy; needs `clients:read`.
    package func policy(in workspace: WorkspaceID, by caller: Caller) async throws -> ClientRegistrationPolicy {
        try caller.require(.clientsRead)
        guard caller.canSee(workspace), let found = try await store.workspace(id: workspace) else {
            throw DomainError.notFound("There is no such workspace.")
        }
        return found.clientRegistration
    }

    /// Sets whether apps may register themselves. A workspace-wide rule that lets anyone make clients: a super
    /// admin's decision, with `clients:write`.
    package func setPolicy(_ policy: ClientRegistrationPolicy, in id: WorkspaceID, by caller: Caller) async throws
        -> Workspace
    {
        try caller.require(.clientsWrite)
        guard caller.role == .superAdmin else {
            throw DomainError.forbidden("Only a super admin may change whether apps can register themselves.")
        }
        guard caller.canSee(id), var workspace = try await store.workspace(id: id) else {
            throw DomainError.notFound("There is no such workspace.")
        }
        guard workspace.clientRegistration != policy else { return workspace }
        workspace.clientRegistration = policy
        try await audit.record(
            .updateWorkspace(workspace), as: "workspace.client_registration_changed", by: caller,
            details: ["policy": policy.rawValue])
        return workspace
    }

    /// Issues an initial access token, returned this once. A client registered with it holds at most `scopes`
    /// (by default the workspace's scopes that are not administrative), which the caller must hold, and never
    /// more than the caller holds when the app registers.
    package func issueToken(
        label: DisplayName, scopes: Set<Scope>?, singleUse: Bool = true, lifetime: TimeInterval?,
        in workspace: WorkspaceID, by caller: Caller
    ) async throws -> (InitialAccessToken, OpaqueToken) {
        try caller.require(.clientsWrite)
        guard caller.canSee(workspace) else { throw DomainError.notFound("There is no such workspace.") }
        let rights = RoleRights(custom: try await store.scopeDefinitions(in: workspace))
        let chosen: Set<Scope>
        if let scopes {
            if let unknown = scopes.sorted().first(where: { !rights.isDefined($0) }) {
                throw DomainError.invalidInput(
                    field: "scopes", message: "There is no scope '\(unknown)' in this workspace.")
            }
            try Rights.require(caller, toHold: scopes, toDo: "You cannot issue a token for scopes you do not hold")
            chosen = scopes
        } else {
            chosen = caller.held(of: rights.nonAdministrative)
        }
        let lifetime = lifetime ?? Self.defaultTokenLifetime
        guard Self.tokenLifetimes.contains(lifetime) else {
            throw DomainError.invalidInput(
                field: "expires_in", message: "An initial access token lives from 60 seconds to 365 days.")
        }
        let secret = OpaqueToken.generate()
        let now = clock.now()
        let token = InitialAccessToken(
            workspaceID: workspace, digest: secret.digest, label: label.value, scopes: chosen, singleUse: singleUse,
            expiresAt: now.addingTimeInterval(lifetime), createdBy: caller.principal?.user?.id, createdAt: now)
        try await audit.record(
            .issueInitialAccessToken(token), as: "initial_access_token.issued", by: caller,
            details: ["label": token.label, "single_use": "\(singleUse)"])
        return (token, secret)
    }

    /// The workspace's initial access tokens, newest first; needs `clients:read`.
    package func tokens(in workspace: WorkspaceID, by caller: Caller) async throws -> [InitialAccessToken] {
        try caller.require(.clientsRead)
        guard caller.canSee(workspace) else { return [] }
        return try await store.initialAccessTokens(in: workspace)
    }

    /// Revokes a token: no app registers with it from now on. Clients registered with it stay.
    package func revokeToken(_ id: InitialAccessTokenID, by caller: Caller) async throws -> InitialAccessToken {
        try caller.require(.clientsWrite)
        guard var token = try await store.initialAccessToken(id: id), caller.canSee(token.workspaceID) else {
            throw DomainError.notFound("There is no such initial access token.")
        }
        guard token.revokedAt == nil else { return token }
        token.revokedAt = clock.now()
        try await audit.record(.revokeInitialAccessToken(token), as: "initial_access_token.revoked", by: caller)
        return token
    }
}
