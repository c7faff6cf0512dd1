import Foundation

/// A user signed in to Gatehouse's pages, when they entered their password, and how they proved who they are.
package struct SignedInUser: Equatable, Sendable {
    package var user: User
    package var authTime: Date
    /// OIDC `amr`: `pwd`, and `otp` after a second factor.
    package var amr: [String]
    /// Whether they have a second factor set up.
    package var hasTwoFactor: Bool
    /// Whether their workspace requires a second factor of their role and they have none yet: they set it up
    /// before anything else.
    package var mustSetUpTwoFactor: Bool

    package init(
        user: User, authTime: Date, amr: [String] = ["pwd"], hasTwoFactor: Bool = false,
        mustSetUpTwoFactor: Bool = false
    ) {
        self.user = user
        self.authTime = authTime
        self.amr = amr
        self.hasTwoFactor = hasTwoFactor
        self.mustSetUpTwoFactor = mustSetUpTwoFactor
    }

    /// Whether this sign-in used a second factor.
    package var usedSecondFactor: Bool { amr.contains("otp") }
}

/// What the browser has to do next for an authorization request.
package enum AuthorizationStep: Equatable, Sendable {
    /// Sign in (again, for `prompt=login` or `max_age`).
    case signIn
    /// Accept the privacy notice first.
    case acceptPrivacyNotice
    /// Set up a second factor first: the workspace requires one of the user's role, or the client asks for a
    /// sign-in with one (`acr_values=mfa`) and the user has none.
    case setUpTwoFactor
    /// Allow or deny these scopes on the consent page, in name order, each with what it lets the client do.
    case consent([DescribedScope])
    /// Go back to the client, with a code or an error.
    case redirect(AuthorizationRedirect)
}

/// A scope as a person is asked to allow it.
package struct DescribedScope: Equatable, Sendable {
    package var scope: Scope
    package var description: String

    /// `scopes` as a person is asked to allow them, in name order: each with its description, built-in or one of
    /// the workspace's `custom` scopes.
    package static func describing(_ scopes: Set<Scope>, custom: [ScopeDefinition]) -> [DescribedScope] {
        scopes.sorted().map { scope in
            DescribedScope(
                scope: scope,
                description: BuiltInScopes.descriptions[scope] ?? custom.first { $0.scope == scope }?.description ?? "")
        }
    }
}

extension ConsentStore {
    /// Remembers that `user` allowed `client` `scopes` now, keeping what they allowed before as long as the client
    /// is still the one they allowed it to (rights model: consent covers a client as it was when given).
    package func remember(_ scopes: Set<Scope>, of user: User, for client: ClientApplication, at time: Date)
        async throws
    {
        let previous = try await consent(of: user.id, for: client.id)
        let kept = previous.map { $0.covers(client, asking: []) ? $0.scopes : [] } ?? []
        try await save(
            Consent(
                userID: user.id, clientID: client.id, workspaceID: client.workspaceID, scopes: kept.union(scopes),
                terms: ConsentTerms(of: client), grantedAt: time))
    }
}

/// What the authorization endpoint reads and writes.
package typealias AuthorizationStore = ClientStore & ConsentStore & TokenStore & UserStore & ScopeStore
    & ResourceServerStore

/// The authorization endpoint's decisions (RFC 6749 §4.1, OIDC Core §3.1.2): who must sign in, what they
/// must agree to, and the code that ends it. The pages around it are the web layer's.
package struct Authorization: Sendable {
    let store: any AuthorizationStore
    let clock: any WallClock
    let settings: OAuthSettings
    let hints: IDTokenHints
    /// Apps named by the URL of their metadata document; nil refuses them.
    let documents: ClientMetadataDocuments?
    /// Where the client and the scope definitions are read through, at the credential epoch; nil reads the store.
    let cache: EpochCache?

    package init(
        store: any AuthorizationStore, clock: any WallClock, settings: OAuthSettings, hints: IDTokenHints,
        documents: ClientMetadataDocuments? = nil, cache: EpochCache? = nil
    ) {
        self.store = store
        self.clock = clock
        self.settings = settings
        self.hints = hints
        self.documents = documents
        self.cache = cache
    }

    /// Checks the request's parameters; throws `AuthorizationRefusal`. A client_id that is a metadata document's
    /// URL is fetched first, unless a fresh copy is kept.
    package func check(_ parameters: [String: String]) async throws -> AuthorizationRequest {
        if let raw = parameters["client_id"], let id = try? ClientID(raw), id.isMetadataDocument {
            guard let documents else {
                throw AuthorizationRefusal.unsafe("This server does not accept apps named by a metadata document URL.")
            }
            do {
                _ = try await documents.client(id)
            } catch let refusal as MetadataDocumentRefusal {
                throw AuthorizationRefusal.unsafe(refusal.reason)
            }
        }
        return try await AuthorizationRequest.check(parameters, clients: store, settings: settings, cache: cache)
    }

    /// The next step for `request`, given who (if anyone) is signed in. When the user already allowed every
    /// scope, the code is issued at once.
    package func next(_ request: AuthorizationRequest, signedIn: SignedInUser?) async throws -> AuthorizationStep {
        let interactive = !request.prompts.contains("none")
        var signedIn = signedIn
        if let hint = request.parameters["id_token_hint"], !hint.isEmpty {
            let claims: IDTokenClaims
            do {
                claims = try await hints.claims(of: hint)
            } catch let invalid as InvalidIDTokenHint {
                return refusal(.invalidRequest, invalid.reason, request)
            }
            // The app asks for the user its ID token names; someone else signed in here does not answer for them
            // (Core §3.1.2.1): they sign in again, or, with prompt=none, the answer is login_required.
            if let current = signedIn, "\(current.user.id)" != claims.sub { signedIn = nil }
        }
        guard let signedIn, !needsFreshSignIn(request, signedIn) else {
            return interactive ? .signIn : refusal(.loginRequired, "The user is not signed in.", request)
        }
        guard signedIn.user.workspaceID == request.client.workspaceID else {
            return refusal(.accessDenied, "The signed-in user is not a member of this client's workspace.", request)
        }
        guard signedIn.user.privacyNoticeAcceptedAt != nil else {
            return interactive
                ? .acceptPrivacyNotice
                : refusal(.interactionRequired, "The user has not accepted the privacy notice yet.", request)
        }
        if signedIn.mustSetUpTwoFactor || (Self.asksForSecondFactor(request) && !signedIn.hasTwoFactor) {
            return interactive
                ? .setUpTwoFactor
                : refusal(.interactionRequired, "The user must set up two-factor sign-in first.", request)
        }
        // Asked for a second factor the session did not use: the user signs in again, with it.
        if Self.asksForSecondFactor(request), !signedIn.usedSecondFactor {
            return interactive ? .signIn : refusal(.loginRequired, "The sign-in did not use a second factor.", request)
        }
        let scopes: Set<Scope>
        do {
            scopes = try await grantable(request, for: signedIn.user)
        } catch let failure as OAuthFailure {
            return .redirect(AuthorizationRedirect(error: failure, for: request, issuer: settings.issuer))
        }
        let consent = try await store.consent(of: signedIn.user.id, for: request.client.id)
        if !request.prompts.contains("consent"), let consent, consent.covers(request.client, asking: scopes) {
            return .redirect(try await issueCode(request, scopes: scopes, for: signedIn))
        }
        guard interactive else { return refusal(.consentRequired, "The user has not consented yet.", request) }
        return .consent(try await described(scopes, in: request.client.workspaceID))
    }

    /// `scopes` as the consent page lists them: each with its description, built-in or the workspace's own.
    private func described(_ scopes: Set<Scope>, in workspace: WorkspaceID) async throws -> [DescribedScope] {
        DescribedScope.describing(
            scopes, custom: try await EpochCache.scopeDefinitions(in: workspace, through: cache, from: store))
    }

    /// The user allowed the consent page: remember it and issue the code. The request is checked again,
    /// since the page's form came back from the browser.
    package func approve(_ request: AuthorizationRequest, by signedIn: SignedInUser) async throws
        -> AuthorizationRedirect
    {
        guard signedIn.user.workspaceID == request.client.workspaceID,
            signedIn.user.privacyNoticeAcceptedAt != nil
        else {
            return AuthorizationRedirect(
                error: OAuthFailure(.accessDenied, "This user cannot authorize this client."), for: request,
                issuer: settings.issuer)
        }
        let scopes: Set<Scope>
        do {
            scopes = try await grantable(request, for: signedIn.user)
        } catch let failure as OAuthFailure {
            return AuthorizationRedirect(error: failure, for: request, issuer: settings.issuer)
        }
        try await store.remember(scopes, of: signedIn.user, for: request.client, at: clock.now())
        return try await issueCode(request, scopes: scopes, for: signedIn)
    }

    /// The user denied the consent page (RFC 6749 §4.1.2.1 `access_denied`).
    package func deny(_ request: AuthorizationRequest) -> AuthorizationRedirect {
        AuthorizationRedirect(
            error: OAuthFailure(.accessDenied, "The user denied the request."), for: request, issuer: settings.issuer)
    }

    // MARK: Steps

    /// The `acr` value a client asks for a sign-in with a second factor by (`acr_values`, Core §3.1.2.1), and
    /// the ID token then carries.
    package static let multiFactorACR = "mfa"

    static func asksForSecondFactor(_ request: AuthorizationRequest) -> Bool {
        (request.parameters["acr_values"] ?? "").split(separator: " ").contains { $0 == multiFactorACR }
    }

    private func needsFreshSignIn(_ request: AuthorizationRequest, _ signedIn: SignedInUser) -> Bool {
        if request.prompts.contains("login") || request.prompts.contains("select_account") { return true }
        guard let maxAge = request.maxAge else { return false }
        return clock.now().timeIntervalSince(signedIn.authTime) > TimeInterval(maxAge)
    }

    private func grantable(_ request: AuthorizationRequest, for user: User) async throws -> Set<Scope> {
        let rights = RoleRights(
            custom: try await EpochCache.scopeDefinitions(in: request.client.workspaceID, through: cache, from: store))
        return try GrantableScopes(rights: rights).forUser(
            requested: request.requestedScopes, client: request.client, role: user.role)
    }

    private func issueCode(
        _ request: AuthorizationRequest, scopes: Set<Scope>, for signedIn: SignedInUser
    ) async throws -> AuthorizationRedirect {
        let now = clock.now()
        let code = OpaqueToken.generate()
        try await store.insert(
            AuthorizationCode(
                digest: code.digest, workspaceID: request.client.workspaceID, clientID: request.client.id,
                userID: signedIn.user.id, redirectURI: request.redirectURIWasSent ? request.redirectURI : nil,
                scopes: scopes, challenge: request.challenge, nonce: request.nonce, authTime: signedIn.authTime,
                amr: signedIn.amr, resource: request.resource?.identifier, issuedAt: now,
                expiresAt: now.addingTimeInterval(settings.codeLifetime)))
        return AuthorizationRedirect(
            request.redirectURI, [("code", code.value), ("state", request.state), ("iss", settings.issuer)])
    }

    private func refusal(_ code: OAuthErrorCode, _ description: String, _ request: AuthorizationRequest)
        -> AuthorizationStep
    {
        .redirect(AuthorizationRedirect(error: OAuthFailure(code, description), for: request, issuer: settings.issuer))
    }
}
