import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle

/// Who the first start of an empty installation makes super admin, and with which password.
package struct FirstRunSettings: Sendable {
    package var adminEmail: EmailAddress
    /// When nil, a password is generated and announced once.
    package var adminPassword: Password?

    package init(adminEmail: EmailAddress, adminPassword: Password?) {
        self.adminEmail = adminEmail
        self.adminPassword = adminPassword
    }
}

/// The composition root's inputs: configuration plus the things tests replace.
package struct ApplicationDependencies: Sendable {
    package var store: any GatehouseStorage
    package var clock: any WallClock
    package var passwords: any PasswordHasher
    package var firstRun: FirstRunSettings?
    /// The server secrets API keys are digested under.
    package var peppers: KeyPeppers
    /// Seals the private parts of the token signing keys in the store.
    package var signingKeySecret: SigningKeySecret
    /// Batches API key last-use times; made from the store and clock when nil (tests pass one to flush it).
    package var lastUse: LastUseRecorder?
    /// Where messages meant for the operator's eyes once (the generated admin password) are written.
    package var announce: @Sendable (String) -> Void
    /// How long a failed back-channel logout delivery waits before each retry.
    package var backchannelRetryDelays: [Duration]
    /// How long a message the mail server did not take waits before each retry.
    package var mailRetryDelays: [Duration]
    /// Takes the mail in place of the configured SMTP server (tests); nil uses `ServerConfiguration.smtp`.
    package var mail: (any MailSending)?
    /// Fetches apps' client metadata documents; nil for the guarded HTTPS fetcher the configuration describes.
    package var metadataDocuments: (any MetadataDocumentFetching)?
    /// Where metrics are counted; nil makes one when the configuration asks for metrics (tests pass one to read).
    package var metrics: GatehouseMetrics?

    package init(
        store: any GatehouseStorage, clock: any WallClock = SystemClock(),
        passwords: any PasswordHasher = BcryptPasswordHasher(), firstRun: FirstRunSettings? = nil,
        peppers: KeyPeppers, signingKeySecret: SigningKeySecret, lastUse: LastUseRecorder? = nil,
        announce: @escaping @Sendable (String) -> Void = announceOnStandardOutput,
        backchannelRetryDelays: [Duration] = [.seconds(2), .seconds(10), .seconds(60)],
        mailRetryDelays: [Duration] = [.seconds(10), .seconds(60), .seconds(300)]
    ) {
        self.store = store
        self.clock = clock
        self.passwords = passwords
        self.firstRun = firstRun
        self.peppers = peppers
        self.signingKeySecret = signingKeySecret
        self.lastUse = lastUse
        self.announce = announce
        self.backchannelRetryDelays = backchannelRetryDelays
        self.mailRetryDelays = mailRetryDelays
    }
}

/// Writes `message` to standard output at once, unbuffered, so it is there even if the process is killed.
package func announceOnStandardOutput(_ message: String) {
    FileHandle.standardOutput.write(Data((message + "\n").utf8))
}

/// The long-lived parts the routes share, made once per application.
struct SharedServices: Sendable {
    let lastUse: LastUseRecorder
    let signingKeys: SigningKeyRing
    let apiKeys: APIKeyVerifier
    let accessTokens: AccessTokenVerifier
    /// API keys and access tokens through this instance's credential cache: the `/api/v1` hot path.
    let credentials: CachedCredentials
    let signIn: SignIn
    /// Reads the ID tokens apps send back as `id_token_hint`.
    let idTokenHints: IDTokenHints
    /// Tells apps their users signed out (Back-Channel Logout), in the background.
    let logoutNotices: BackchannelLogoutSender
    /// Sends invitations and reset links, in the background, when a mail server is configured.
    let mail: AccountMail
    /// The SMTP outbox to run as a service, when that is what `mail` sends through.
    let outbox: MailOutbox?
    /// Where metrics are counted, when the operator asked for them.
    let metrics: GatehouseMetrics?

    init(
        _ configuration: ServerConfiguration, _ dependencies: ApplicationDependencies, lastUse: LastUseRecorder,
        decoy: DecoyHash, pages: PageRenderer, logger: Logger
    ) {
        let store = dependencies.store
        let clock = dependencies.clock
        self.lastUse = lastUse
        signingKeys = SigningKeyRing(
            store: store, secret: dependencies.signingKeySecret, clock: clock,
            tokenLifetime: configuration.oauth.accessTokenLifetime)
        apiKeys = APIKeyVerifier(
            store: store, peppers: dependencies.peppers, clock: clock, settings: configuration.keys, lastUse: lastUse)
        accessTokens = AccessTokenVerifier(
            keys: signingKeys, store: store, clock: clock, settings: configuration.oauth,
            rateLimitPerMinute: configuration.keys.defaultRateLimitPerMinute)
        credentials = CachedCredentials(
            verifiers: [apiKeys, accessTokens], cache: CredentialCache(), store: store, clock: clock, lastUse: lastUse)
        signIn = SignIn(
            store: store, passwords: dependencies.passwords, clock: clock, settings: configuration.oauth,
            throttle: SignInThrottle(store: store, clock: clock), decoy: decoy,
            twoFactor: TwoFactor(store: store, clock: clock, secret: dependencies.signingKeySecret))
        idTokenHints = IDTokenHints(keys: signingKeys, issuer: configuration.oauth.issuer)
        logoutNotices = BackchannelLogoutSender(retryDelays: dependencies.backchannelRetryDelays, logger: logger)
        outbox =
            if dependencies.mail == nil, let smtp = configuration.smtp {
                MailOutbox(
                    client: SMTPClient(settings: smtp), retryDelays: dependencies.mailRetryDelays, trail: store,
                    clock: clock, logger: Logger(label: "gatehouse.mail"))
            } else { nil }
        mail = AccountMail(pages: pages, issuer: configuration.issuer, outbox: dependencies.mail ?? outbox)
        metrics = dependencies.metrics ?? (configuration.metricsEnabled ? GatehouseMetrics() : nil)
    }
}

/// Builds the whole server: the router with its middleware and controllers, and the services it runs.
///
/// Before the server accepts connections it migrates the store, makes the first signing key and, on an empty
/// installation, creates the default workspace and its super admin.
package func buildApplication(
    _ configuration: ServerConfiguration, _ dependencies: ApplicationDependencies, logger: Logger
) async throws -> some ApplicationProtocol {
    let pages = try await PageRenderer(directory: configuration.templatesDirectory)
    let directory = Directory(store: dependencies.store, clock: dependencies.clock, passwords: dependencies.passwords)
    let lastUse = dependencies.lastUse ?? LastUseRecorder(store: dependencies.store, clock: dependencies.clock)
    let services = SharedServices(
        configuration, dependencies, lastUse: lastUse, decoy: DecoyHash(dependencies.passwords), pages: pages,
        logger: logger)
    let router = buildRouter(configuration, dependencies, pages: pages, services: services)

    var background: [any Service] = [
        StoreService(store: dependencies.store), LastUseService(recorder: lastUse, logger: logger),
        CredentialEpochService(store: dependencies.store, cache: services.credentials.cache),
        services.logoutNotices,
        RetentionService(
            retention: Retention(
                store: dependencies.store, clock: dependencies.clock, settings: configuration.oauth,
                auditRetention: configuration.auditRetention),
            registration: ClientRegistration(
                store: dependencies.store, clock: dependencies.clock,
                openWorkspace: configuration.registrationWorkspace), logger: logger),
    ]
    if let outbox = services.outbox { background.append(outbox) }
    if let metrics = services.metrics, let listener = configuration.metricsListener {
        background.append(
            metricsApplication(
                host: listener.host, port: listener.port, metrics: metrics, store: dependencies.store,
                cache: services.credentials.cache, logger: Logger(label: "gatehouse.metrics")))
    }
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: background, logger: logger)
    app.beforeServerStarts {
        try await prepareStore(dependencies, directory: directory, logger: logger)
    }
    return app
}

/// Every route the application answers, as `METHOD /path` with `{parameter}` captures: what the rights table
/// test reads, so a new route cannot go undecided.
package func routeDescriptions(
    _ configuration: ServerConfiguration, _ dependencies: ApplicationDependencies
) async throws -> [String] {
    let pages = try await PageRenderer(directory: configuration.templatesDirectory)
    let lastUse = dependencies.lastUse ?? LastUseRecorder(store: dependencies.store, clock: dependencies.clock)
    let services = SharedServices(
        configuration, dependencies, lastUse: lastUse, decoy: DecoyHash(dependencies.passwords), pages: pages,
        logger: Logger(label: "gatehouse.routes"))
    return buildRouter(configuration, dependencies, pages: pages, services: services).routes.map(\.description)
}

/// Assembles the routes; middleware first, because a route captures the middleware added before it.
func buildRouter(
    _ configuration: ServerConfiguration, _ dependencies: ApplicationDependencies, pages: PageRenderer,
    services: SharedServices
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    if let metrics = services.metrics {
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
    }
    if !configuration.trustedProxies.isEmpty {
        router.add(middleware: ClientAddressMiddleware(trusted: configuration.trustedProxies))
    }
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(
        middleware: ErrorMiddleware(
            resourceMetadata: WellKnown(issuer: configuration.oauth.issuer).url(of: .protectedResource)))
    let allowed = AllowedMethods()
    router.add(middleware: MethodNotAllowedMiddleware(allowed: allowed))
    router.add(middleware: BodyLimitMiddleware(limit: AppRequestContext.maximumBodySize))
    HealthController(store: dependencies.store).addRoutes(to: router)
    if let metrics = services.metrics, let token = configuration.metricsToken {
        MetricsController(
            metrics: metrics, store: dependencies.store, cache: services.credentials.cache, token: token
        ).addRoutes(to: router)
    }
    HomeController(pages: pages, issuer: configuration.issuer).addRoutes(to: router)
    addAPIRoutes(to: router, configuration, dependencies, services: services)
    addOAuthRoutes(to: router, configuration, dependencies, services: services)
    addPageRoutes(to: router, configuration, dependencies, pages: pages, services: services)
    allowed.learn(router)
    return router
}

/// `/api/v1`: every route behind the one Bearer authenticator (API keys and access tokens), then the
/// per-credential rate limit.
func addAPIRoutes(
    to router: Router<AppRequestContext>, _ configuration: ServerConfiguration,
    _ dependencies: ApplicationDependencies, services: SharedServices
) {
    let store = dependencies.store
    let clock = dependencies.clock
    let api = router.group("api/v1")
        .add(middleware: BearerAuthenticator(credentials: services.credentials, metrics: services.metrics))
        .add(
            middleware: RateLimitMiddleware(
                limiter: RateLimiter(store: store, clock: clock), credentials: services.credentials,
                metrics: services.metrics))
    DirectoryController(
        users: UserAdministration(store: store, clock: clock, passwords: dependencies.passwords), mail: services.mail
    ).addRoutes(to: api)
    let keys = APIKeys(store: store, clock: clock, peppers: dependencies.peppers, settings: configuration.keys)
    APIKeysController(keys: keys).addRoutes(to: api)
    ClientsController(clients: ClientApplications(store: store, clock: clock), keys: keys).addRoutes(to: api)
    ScopesController(catalog: ScopeCatalog(store: store, clock: clock)).addRoutes(to: api)
    ResourcesController(resources: ResourceServers(store: store, clock: clock, settings: configuration.oauth))
        .addRoutes(to: api)
    RegistrationAdminController(administration: RegistrationAdministration(store: store, clock: clock))
        .addRoutes(to: api)
    AuditController(trail: AuditTrail(store: store, clock: clock)).addRoutes(to: api)
}

/// The endpoints third-party clients call, with RFC 6749 errors: token, revocation, introspection,
/// userinfo, metadata and keys.
func addOAuthRoutes(
    to router: Router<AppRequestContext>, _ configuration: ServerConfiguration,
    _ dependencies: ApplicationDependencies, services: SharedServices
) {
    let store = dependencies.store
    let clock = dependencies.clock
    let cache = EpochCache(cache: services.credentials.cache, store: store)
    let clients = ClientAuthenticator(store: store, clock: clock, cache: cache)
    let issuer = TokenIssuer(keys: services.signingKeys, settings: configuration.oauth)
    let registration = ClientRegistration(
        store: store, clock: clock, openWorkspace: configuration.registrationWorkspace)
    TokenController(
        clients: clients, endpoint: TokenEndpoint(store: store, issuer: issuer, clock: clock, cache: cache),
        registration: registration, metrics: services.metrics
    )
    .addRoutes(to: router)
    RegistrationController(registration: registration, issuer: configuration.oauth.issuer).addRoutes(to: router)
    DeviceController(
        device: DeviceAuthorization(store: store, clock: clock, settings: configuration.oauth), clients: clients,
        issuer: configuration.oauth.issuer
    ).addRoutes(to: router)
    RevocationController(
        clients: clients, revocation: Revocation(keys: services.signingKeys, store: store, clock: clock)
    )
    .addRoutes(to: router)
    IntrospectionController(
        clients: clients,
        introspection: Introspection(
            keys: services.apiKeys, accessTokens: services.accessTokens, store: store, clock: clock, cache: cache),
        limiter: RateLimiter(store: store, clock: clock), perMinute: configuration.oauth.introspectionsPerMinute,
        metrics: services.metrics
    ).addRoutes(to: router)
    UserInfoController(tokens: services.accessTokens).addRoutes(to: router)
    DiscoveryController(issuer: configuration.oauth.issuer, keys: services.signingKeys).addRoutes(to: router)
}

/// The HTML pages a person sees: authorization, sign-in, privacy notice, consent and account. Errors here are
/// pages, never JSON.
func addPageRoutes(
    to router: Router<AppRequestContext>, _ configuration: ServerConfiguration,
    _ dependencies: ApplicationDependencies, pages: PageRenderer, services: SharedServices
) {
    let store = dependencies.store
    let clock = dependencies.clock
    let sessions = WebSessions(
        signIn: services.signIn,
        cookies: WebCookies(secure: configuration.secureCookies, sessionLifetime: configuration.oauth.sessionLifetime),
        backchannel: BackchannelLogout(
            store: store, keys: services.signingKeys, issuer: configuration.oauth.issuer, clock: clock),
        notifier: services.logoutNotices, logger: Logger(label: "gatehouse.backchannel"))
    pages.addAssetRoutes(to: router)
    let web = router.group()
        .add(middleware: PageErrorMiddleware(pages: pages))
        .add(middleware: RedirectInsteadMiddleware())
    let fetcher =
        dependencies.metadataDocuments
        ?? MetadataDocumentFetcher(
            allowedHosts: configuration.metadataDocumentHosts, trustRoots: configuration.metadataDocumentTrustRoots)
    AuthorizeController(
        authorization: Authorization(
            store: store, clock: clock, settings: configuration.oauth, hints: services.idTokenHints,
            documents: ClientMetadataDocuments(
                store: store, fetcher: fetcher, clock: clock, openWorkspace: configuration.registrationWorkspace),
            cache: EpochCache(cache: services.credentials.cache, store: store)),
        sessions: sessions, pages: pages
    ).addRoutes(to: web)
    SignInController(sessions: sessions, pages: pages, mail: services.mail, metrics: services.metrics)
        .addRoutes(to: web)
    PasswordLinkController(
        links: PasswordLinks(store: store, clock: clock, passwords: dependencies.passwords), mail: services.mail,
        cookies: sessions.cookies, pages: pages, logger: Logger(label: "gatehouse.mail")
    ).addRoutes(to: web)
    LogoutController(
        logout: Logout(clients: store, hints: services.idTokenHints),
        sessions: sessions, pages: pages
    ).addRoutes(to: web)

    // The signed-in pages ask the same domain services as the JSON API, with the session's caller.
    let signedIn = SignedInPages(sessions: sessions, pages: pages)
    let users = UserAdministration(store: store, clock: clock, passwords: dependencies.passwords)
    let clients = ClientApplications(store: store, clock: clock)
    let keys = APIKeys(store: store, clock: clock, peppers: dependencies.peppers, settings: configuration.keys)
    AccountController(consents: Consents(store: store, clock: clock), keys: keys, pages: signedIn).addRoutes(to: web)
    AdminHome(pages: signedIn).addRoutes(to: web)
    DevicePages(device: DeviceAuthorization(store: store, clock: clock, settings: configuration.oauth), pages: signedIn)
        .addRoutes(to: web)
    ClientPages(clients: clients, pages: signedIn).addRoutes(to: web)
    KeyPages(keys: keys, clients: clients, users: users, pages: signedIn).addRoutes(to: web)
    UserPages(users: users, mail: services.mail, pages: signedIn).addRoutes(to: web)
    ScopePages(catalog: ScopeCatalog(store: store, clock: clock), pages: signedIn).addRoutes(to: web)
    RegistrationPages(
        administration: RegistrationAdministration(store: store, clock: clock), pages: signedIn,
        registrationEndpoint: configuration.oauth.issuer + "/oauth/register", clock: clock
    ).addRoutes(to: web)
    ResourcePages(
        resources: ResourceServers(store: store, clock: clock, settings: configuration.oauth), pages: signedIn
    ).addRoutes(to: web)
    AuditPages(trail: AuditTrail(store: store, clock: clock), users: users, pages: signedIn).addRoutes(to: web)
}

/// Migrates the store, then bootstraps an empty installation once.
func prepareStore(_ dependencies: ApplicationDependencies, directory: Directory, logger: Logger) async throws {
    let applied = try await dependencies.store.migrate()
    if !applied.isEmpty {
        logger.info("migrated the store", metadata: ["versions": "\(applied)"])
    }
    try await SigningKeys(store: dependencies.store, secret: dependencies.signingKeySecret, clock: dependencies.clock)
        .prepare()
    guard let settings = dependencies.firstRun else { return }
    let firstRun = FirstRun(directory: directory, store: dependencies.store)
    guard
        let outcome = try await firstRun.bootstrapIfNeeded(
            adminEmail: settings.adminEmail, password: settings.adminPassword)
    else { return }
    logger.info("created the default workspace and its super admin", metadata: ["admin": "\(outcome.admin.email)"])
    dependencies.announce(FirstRunAnnouncement(outcome).text)
}

/// The console message of the first start. The generated password appears here and nowhere else.
struct FirstRunAnnouncement {
    let text: String

    init(_ outcome: FirstRunOutcome) {
        let email = outcome.admin.email
        if let password = outcome.generatedPassword {
            text = """
                Gatehouse created the workspace '\(outcome.workspace.slug)' and its super admin:
                  email:    \(email)
                  password: \(password.value)
                This password is shown once and never again. Keep it somewhere safe.
                """
        } else {
            text = """
                Gatehouse created the workspace '\(outcome.workspace.slug)' and its super admin \(email), \
                with the password from GATEHOUSE_ADMIN_PASSWORD.
                """
        }
    }
}

/// Runs the store's background work (connection pools) for as long as the server runs.
struct StoreService: Service {
    let store: any GatehouseStorage

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await store.run()
        }
    }
}
