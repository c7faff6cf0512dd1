import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseStore
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// `gatehouse serve`: runs the server until SIGTERM or SIGINT, then drains and stops.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Gatehouse server.")

    @Option(help: "The address to listen on (env GATEHOUSE_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "The port to listen on (env GATEHOUSE_PORT; default 8080).")
    var port: Int?

    @OptionGroup var database: DatabaseOptions

    @Option(
        help: "The public base URL, e.g. https://auth.example.com (env GATEHOUSE_ISSUER; default from host and port).")
    var issuer: String?

    @Option(
        help: ArgumentHelp(
            "The folder of *.mustache templates (env GATEHOUSE_TEMPLATES; default PREFIX/share/gatehouse/Templates "
                + "beside an installed binary in PREFIX/bin, else ./Templates).", valueName: "folder"))
    var templates: String?

    @Option(
        help: "Requests a minute for keys without their own limit (env GATEHOUSE_RATE_LIMIT_PER_MINUTE; default 60).")
    var rateLimit: Int?

    @Option(
        help: "Seconds access and ID tokens live (env GATEHOUSE_ACCESS_TOKEN_LIFETIME; default 900, from 60 to 86400).")
    var accessTokenLifetime: Int?

    @Option(
        help: ArgumentHelp(
            "bcrypt's work factor for passwords, 10 to 16; passwords hashed with less are hashed again at sign-in "
                + "(env GATEHOUSE_PASSWORD_COST; default 12)."))
    var passwordCost: Int?

    @Option(
        name: .customLong("access-token-alg"),
        help: "How access tokens are signed: ES256 or RS256 (env GATEHOUSE_ACCESS_TOKEN_ALG; default ES256).")
    var accessTokenAlgorithm: String?

    @Option(
        help: "Introspection requests a minute for each client (env GATEHOUSE_INTROSPECTION_RATE_LIMIT; default 60000)."
    )
    var introspectionRateLimit: Int?

    @Option(
        help: ArgumentHelp(
            "A load balancer or proxy whose X-Forwarded-For names the client, by IP address; repeat for several "
                + "(env GATEHOUSE_TRUSTED_PROXIES, comma-separated; default none).", valueName: "address"))
    var trustedProxy: [String] = []

    @Option(
        help: ArgumentHelp(
            "The workspace apps register in without an initial access token, when its policy is open "
                + "(env GATEHOUSE_REGISTRATION_WORKSPACE; default default).", valueName: "slug"))
    var registrationWorkspace: String?

    @Option(
        help: ArgumentHelp(
            "A host whose client metadata documents may be fetched although its address is private or loopback; "
                + "repeat for several (env GATEHOUSE_METADATA_DOCUMENT_HOSTS, comma-separated; default none).",
            valueName: "host"))
    var metadataDocumentHost: [String] = []

    @Option(
        help: ArgumentHelp(
            "A PEM file of CA certificates trusted, besides the system's, when fetching client metadata documents "
                + "(env GATEHOUSE_METADATA_DOCUMENT_CA_FILE).", valueName: "file"))
    var metadataDocumentCAFile: String?

    @Option(
        help: ArgumentHelp(
            "Days audit events are kept before they are deleted, 1 to 3650 (env GATEHOUSE_AUDIT_RETENTION_DAYS; "
                + "default 365).", valueName: "days"))
    var auditRetentionDays: Int?

    @Option(
        help: ArgumentHelp(
            "Seconds after a rotation in which a client that lost the answer may present the same refresh token again "
                + "for a fresh pair, 0 to 300; 0 revokes the grant at once, as RFC 9700 says "
                + "(env GATEHOUSE_REFRESH_REUSE_GRACE; default 0).", valueName: "seconds"))
    var refreshReuseGrace: Int?

    @Option(
        help: ArgumentHelp(
            "How log lines are written to standard error: text, or json (one object a line, with request_id) "
                + "(env GATEHOUSE_LOG_FORMAT; default text).", valueName: "format"))
    var logFormat: String?

    @Option(
        help: ArgumentHelp(
            "Serve Prometheus metrics at /metrics on a listener of its own, e.g. 127.0.0.1:9464 "
                + "(env GATEHOUSE_METRICS_ADDRESS; default none).", valueName: "host:port"))
    var metricsAddress: String?

    @Option(
        help: ArgumentHelp(
            "A file holding the bearer token that opens /metrics on the main listener, 32 characters or more "
                + "(env GATEHOUSE_METRICS_TOKEN_FILE, or the token itself in GATEHOUSE_METRICS_TOKEN; default none).",
            valueName: "file"))
    var metricsTokenFile: String?

    @OptionGroup var keys: KeyOptions

    @OptionGroup var mail: MailOptions

    @OptionGroup var signingKeySecret: SigningKeySecretOptions

    func run() async throws {
        // Swift's tasks run on the event loops that read the requests, so a request's handler no longer hops to
        // the global thread pool and back (a third of an introspection's time went on those hops). Nothing in
        // the server holds a thread for long: bcrypt has its own queue, SQLite reads take microseconds, and
        // writes wait without blocking. The hook is installed once, before the server makes any task.
        let onEventLoops = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        try await reportingFailures {
            let level = Environment.value("LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
            switch try chosenLogFormat() {
            case .json:
                LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
            case .text:
                LoggingSystem.bootstrap { label in
                    var handler = StreamLogHandler.standardError(label: label)
                    handler.logLevel = level
                    return handler
                }
            }
            let logger = Logger(label: "gatehouse")
            var configuration = try serverConfiguration()
            configuration.smtp = try mail.settings()
            if let slug = registrationWorkspace ?? Environment.value("GATEHOUSE_REGISTRATION_WORKSPACE") {
                configuration.registrationWorkspace = try WorkspaceSlug(slug)
            }
            configuration.metadataDocumentHosts = Set(
                list(metadataDocumentHost, "GATEHOUSE_METADATA_DOCUMENT_HOSTS").map { $0.lowercased() })
            if let file = metadataDocumentCAFile ?? Environment.value("GATEHOUSE_METADATA_DOCUMENT_CA_FILE") {
                do {
                    configuration.metadataDocumentTrustRoots = try NIOSSLCertificate.fromPEMFile(file)
                } catch {
                    throw DomainError.invalidInput(
                        field: "metadata_document_ca_file", message: "Cannot read certificates from '\(file)'.")
                }
            }
            configuration.auditRetention = try auditRetention()
            configuration.oauth.refreshReuseGrace = try reuseGrace()
            configuration.metricsListener = try metricsListener()
            configuration.metricsToken = try metricsToken()
            let location = try database.location()
            let store = try StoreFactory.open(location, logger: Logger(label: "gatehouse.store"), serving: true)
            let dependencies = ApplicationDependencies(
                store: store, passwords: BcryptPasswordHasher(cost: try bcryptCost()), firstRun: try firstRunSettings(),
                peppers: try keys.peppers(for: location), signingKeySecret: try signingKeySecret.secret(for: location))
            logger.info(
                "starting",
                metadata: [
                    "database": "\(location)", "issuer": "\(configuration.issuer)",
                    "mail": "\(configuration.smtp.map { "\($0)" } ?? "none")",
                ])
            logger.debug("tasks run on the event loops: \(onEventLoops)")
            let app = try await buildApplication(configuration, dependencies, logger: logger)
            do {
                try await runUntilSignalled(app, logger: logger)
            } catch let error as IOError where error.errnoCode == EADDRINUSE {
                throw AddressInUse(host: configuration.host, port: configuration.port)
            }
        }
    }

    private func serverConfiguration() throws -> ServerConfiguration {
        try ServerConfiguration(
            host: host ?? Environment.value("GATEHOUSE_HOST") ?? ServerConfiguration.defaultHost,
            port: try number(port, "GATEHOUSE_PORT", field: "port", what: "port") ?? ServerConfiguration.defaultPort,
            issuer: try (issuer ?? Environment.value("GATEHOUSE_ISSUER")).map(ServerConfiguration.parseIssuer),
            templatesDirectory: templates ?? Environment.value("GATEHOUSE_TEMPLATES") ?? installedTemplates()
                ?? "Templates",
            keys: try APIKeySettings(
                prefix: try keys.prefix(),
                defaultRateLimitPerMinute: try number(
                    rateLimit, "GATEHOUSE_RATE_LIMIT_PER_MINUTE", field: "rate_limit", what: "rate limit") ?? 60),
            accessTokenLifetime: TimeInterval(
                try number(
                    accessTokenLifetime, "GATEHOUSE_ACCESS_TOKEN_LIFETIME", field: "access_token_lifetime",
                    what: "access token lifetime") ?? 900),
            trustedProxies: list(trustedProxy, "GATEHOUSE_TRUSTED_PROXIES"),
            introspectionsPerMinute: try number(
                introspectionRateLimit, "GATEHOUSE_INTROSPECTION_RATE_LIMIT", field: "introspection_rate_limit",
                what: "introspection rate limit"),
            accessTokenAlgorithm: try (accessTokenAlgorithm ?? Environment.value("GATEHOUSE_ACCESS_TOKEN_ALG")).map {
                text throws(DomainError) in
                do {
                    return try SigningAlgorithm(parsing: text)
                } catch {
                    throw .invalidInput(
                        field: "access_token_alg",
                        message: "'\(text.prefix(40))' is not a signing algorithm; use ES256 or RS256.")
                }
            } ?? .es256)
    }

    /// `PREFIX/share/gatehouse/Templates` when this binary is `PREFIX/bin/gatehouse` and that folder exists, as
    /// `scripts/install` lays them out; nil otherwise (a binary run from the build folder finds ./Templates).
    private func installedTemplates() -> String? {
        guard let binary = Bundle.main.executableURL?.resolvingSymlinksInPath() else { return nil }
        let folder = binary.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/gatehouse/Templates")
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            return nil
        }
        return folder.path
    }

    private func auditRetention() throws -> TimeInterval {
        let days =
            Int(Retention.auditRetentions.lowerBound / 86_400)...Int(Retention.auditRetentions.upperBound / 86_400)
        return try number(
            auditRetentionDays, "GATEHOUSE_AUDIT_RETENTION_DAYS", field: "audit_retention_days",
            what: "audit retention",
            expected: "a number of days from \(days.lowerBound) to \(days.upperBound)", valid: days
        ).map { TimeInterval($0) * 86_400 } ?? Retention.defaultAuditRetention
    }

    private func metricsListener() throws -> (host: String, port: Int)? {
        guard let text = metricsAddress ?? Environment.value("GATEHOUSE_METRICS_ADDRESS") else { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port), colon != text.startIndex
        else {
            throw DomainError.invalidInput(
                field: "metrics_address", message: "The metrics address '\(text.prefix(60))' is not host:port.")
        }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return (host, port)
    }

    private func metricsToken() throws -> SecretDigest? {
        let token: String
        if let file = metricsTokenFile ?? Environment.value("GATEHOUSE_METRICS_TOKEN_FILE") {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw DomainError.invalidInput(field: "metrics_token_file", message: "Cannot read '\(file)'.")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let text = Environment.value("GATEHOUSE_METRICS_TOKEN") {
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            return nil
        }
        guard token.count >= 32 else {
            throw DomainError.invalidInput(
                field: "metrics_token", message: "The metrics token must be 32 characters or more.")
        }
        return SecretDigest(of: token)
    }

    private enum LogFormat: String { case text, json }

    private func chosenLogFormat() throws -> LogFormat {
        let text = logFormat ?? Environment.value("GATEHOUSE_LOG_FORMAT") ?? "text"
        guard let format = LogFormat(rawValue: text) else {
            throw DomainError.invalidInput(
                field: "log_format", message: "The log format '\(text.prefix(20))' is not text or json.")
        }
        return format
    }

    private func reuseGrace() throws -> TimeInterval {
        let graces = OAuthSettings.refreshReuseGraces
        let seconds = Int(graces.lowerBound)...Int(graces.upperBound)
        return TimeInterval(
            try number(
                refreshReuseGrace, "GATEHOUSE_REFRESH_REUSE_GRACE", field: "refresh_reuse_grace",
                what: "refresh reuse grace",
                expected: "a number of seconds from \(seconds.lowerBound) to \(seconds.upperBound)", valid: seconds)
                ?? 0)
    }

    private func bcryptCost() throws -> UInt8 {
        let costs = Int(BcryptPasswordHasher.costs.lowerBound)...Int(BcryptPasswordHasher.costs.upperBound)
        let cost = try number(
            passwordCost, "GATEHOUSE_PASSWORD_COST", field: "password_cost", what: "password cost",
            expected: "a number from \(costs.lowerBound) to \(costs.upperBound)", valid: costs)
        return cost.map(UInt8.init) ?? 12
    }

    /// The whole number `flag` gives, or else the environment variable `variable`; nil when neither is set. Text
    /// that is not a number, or not within `valid`, stops the start with one line naming `field`:
    /// "The <what> '<text>' is not <expected>." (the text cut to 20 characters).
    private func number(
        _ flag: Int?, _ variable: String, field: String, what: String, expected: String = "a number",
        valid: ClosedRange<Int>? = nil
    ) throws -> Int? {
        guard let text = flag.map(String.init) ?? Environment.value(variable) else { return nil }
        guard let value = Int(text), valid?.contains(value) ?? true else {
            throw DomainError.invalidInput(
                field: field, message: "The \(what) '\(text.prefix(20))' is not \(expected).")
        }
        return value
    }

    /// The values of a repeatable `flags`, or else the comma-separated environment variable `variable`,
    /// trimmed, empty ones dropped.
    private func list(_ flags: [String], _ variable: String) -> [String] {
        let values = flags.isEmpty ? (Environment.value(variable) ?? "").split(separator: ",").map(String.init) : flags
        return values.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private func firstRunSettings() throws -> FirstRunSettings {
        FirstRunSettings(
            adminEmail: try EmailAddress(Environment.value("GATEHOUSE_ADMIN_EMAIL") ?? "admin@localhost"),
            adminPassword: try Environment.value("GATEHOUSE_ADMIN_PASSWORD").map { try Password($0) })
    }
}

/// Another process already listens on the address `serve` was given.
struct AddressInUse: Error, CustomStringConvertible {
    let host: String
    let port: Int
    var description: String { "cannot listen on \(host):\(port): the address is already in use" }
}

/// `gatehouse migrate`: brings the store's schema up to date and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await reportingFailures {
            let location = try database.location()
            let store = try StoreFactory.open(location, logger: Logger(label: "gatehouse.store"))
            let applied = try await store.migrate()
            print(applied.isEmpty ? "\(location) is up to date." : "Applied migrations \(applied) to \(location).")
        }
    }
}
