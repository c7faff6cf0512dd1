import Foundation
import GatehouseCore
import GatehouseStore
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
    /// Batches API key last-use times; made from the store and clock when nil (tests pass one to flush it).
    package var lastUse: LastUseRecorder?
    /// Where messages meant for the operator's eyes once (the generated admin password) are written.
    package var announce: @Sendable (String) -> Void

    package init(
        store: any GatehouseStorage, clock: any WallClock = SystemClock(),
        passwords: any PasswordHasher = BcryptPasswordHasher(), firstRun: FirstRunSettings? = nil,
        peppers: KeyPeppers, lastUse: LastUseRecorder? = nil,
        announce: @escaping @Sendable (String) -> Void = announceOnStandardOutput
    ) {
        self.store = store
        self.clock = clock
        self.passwords = passwords
        self.firstRun = firstRun
        self.peppers = peppers
        self.lastUse = lastUse
        self.announce = announce
    }
}

/// Writes `message` to standard output at once, unbuffered, so it is there even if the process is killed.
package func announceOnStandardOutput(_ message: String) {
    FileHandle.standardOutput.write(Data((message + "\n").utf8))
}

/// Builds the whole server: the router with its middleware and controllers, and the services it runs.
///
/// Before the server accepts connections it migrates the store and, on an empty installation, creates the
/// default workspace and its super admin.
package func buildApplication(
    _ configuration: ServerConfiguration, _ dependencies: ApplicationDependencies, logger: Logger
) async throws -> some ApplicationProtocol {
    let pages = try await PageRenderer(directory: configuration.templatesDirectory)
    let directory = Directory(store: dependencies.store, clock: dependencies.clock, passwords: dependencies.passwords)
    let lastUse = dependencies.lastUse ?? LastUseRecorder(store: dependencies.store, clock: dependencies.clock)
    let router = buildRouter(configuration, dependencies, pages: pages, lastUse: lastUse)

    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: [StoreService(store: dependencies.store), LastUseService(recorder: lastUse, logger: logger)],
        logger: logger)
    app.beforeServerStarts {
        try await prepareStore(dependencies, directory: directory, logger: logger)
    }
    return app
}

/// Assembles the routes; middleware first, because a route captures the middleware added before it.
package func buildRouter(
    _ configuration: ServerConfiguration, _ dependencies: ApplicationDependencies, pages: PageRenderer,
    lastUse: LastUseRecorder? = nil
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: BodyLimitMiddleware(limit: AppRequestContext.maximumBodySize))
    HealthController(store: dependencies.store).addRoutes(to: router)
    HomeController(pages: pages, issuer: configuration.issuer).addRoutes(to: router)
    addAPIRoutes(to: router, configuration, dependencies, lastUse: lastUse)
    addOAuthRoutes(to: router, configuration, dependencies, lastUse: lastUse)
    return router
}

/// `/api/v1`: every route behind the one Bearer authenticator, then the per-credential rate limit.
func addAPIRoutes(
    to router: Router<AppRequestContext>, _ configuration: ServerConfiguration,
    _ dependencies: ApplicationDependencies, lastUse: LastUseRecorder?
) {
    let store = dependencies.store
    let clock = dependencies.clock
    let keyVerifier = APIKeyVerifier(
        store: store, peppers: dependencies.peppers, clock: clock, settings: configuration.keys, lastUse: lastUse)
    let api = router.group("api/v1")
        .add(middleware: BearerAuthenticator(verifiers: [keyVerifier]))
        .add(middleware: RateLimitMiddleware(limiter: RateLimiter(store: store, clock: clock)))
    DirectoryController(users: UserAdministration(store: store, clock: clock, passwords: dependencies.passwords))
        .addRoutes(to: api)
    let keys = APIKeys(store: store, clock: clock, peppers: dependencies.peppers, settings: configuration.keys)
    APIKeysController(keys: keys).addRoutes(to: api)
    ClientsController(clients: ClientApplications(store: store, clock: clock), keys: keys).addRoutes(to: api)
    ScopesController(catalog: ScopeCatalog(store: store, clock: clock)).addRoutes(to: api)
    AuditController(trail: AuditTrail(store: store, clock: clock)).addRoutes(to: api)
}

/// `/oauth`: the endpoints third-party clients call, authenticated as clients, with RFC 6749 errors.
func addOAuthRoutes(
    to router: Router<AppRequestContext>, _ configuration: ServerConfiguration,
    _ dependencies: ApplicationDependencies, lastUse: LastUseRecorder?
) {
    let keyVerifier = APIKeyVerifier(
        store: dependencies.store, peppers: dependencies.peppers, clock: dependencies.clock,
        settings: configuration.keys, lastUse: lastUse)
    IntrospectionController(
        clients: ClientAuthenticator(store: dependencies.store, clock: dependencies.clock),
        introspection: Introspection(keys: keyVerifier)
    ).addRoutes(to: router)
}

/// Migrates the store, then bootstraps an empty installation once.
func prepareStore(_ dependencies: ApplicationDependencies, directory: Directory, logger: Logger) async throws {
    let applied = try await dependencies.store.migrate()
    if !applied.isEmpty {
        logger.info("migrated the store", metadata: ["versions": "\(applied)"])
    }
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
