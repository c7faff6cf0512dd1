import Foundation
import GatehouseCore
import NIOSSL

/// Everything `gatehouse serve` needs, parsed and checked before anything starts.
package struct ServerConfiguration: Sendable {
    package var host: String
    package var port: Int
    /// The public base URL clients reach Gatehouse at; tokens and metadata name it.
    package var issuer: URL
    /// The folder holding the `*.mustache` templates.
    package var templatesDirectory: String
    /// The key prefix and the default per-key rate limit.
    package var keys: APIKeySettings
    /// Token, code and session lifetimes, and the issuer tokens name.
    package var oauth: OAuthSettings
    /// The load balancers and reverse proxies whose `X-Forwarded-For` names the client (IP addresses).
    package var trustedProxies: Set<String>
    /// The mail server invitations and password reset links are sent through; nil sends no mail.
    package var smtp: SMTPSettings?
    /// The workspace apps register in without an initial access token (when its policy is open).
    package var registrationWorkspace = WorkspaceSlug.firstRun
    /// Hosts whose client metadata documents may be fetched although they have private or loopback addresses
    /// (lowercased): for tests, and for an operator's own apps on their own network.
    package var metadataDocumentHosts: Set<String> = []
    /// Certificates trusted, besides the system's roots, when fetching client metadata documents.
    package var metadataDocumentTrustRoots: [NIOSSLCertificate] = []
    /// Where `/metrics` is served on a listener of its own (`--metrics-address`); nil for none.
    package var metricsListener: (host: String, port: Int)?
    /// The digest of the bearer token that opens `/metrics` on the main listener (`--metrics-token-file`); nil
    /// leaves it closed there.
    package var metricsToken: SecretDigest?
    /// Whether anything asks for metrics; when not, nothing is counted.
    package var metricsEnabled: Bool { metricsListener != nil || metricsToken != nil }
    /// How long audit events are kept before retention deletes them: a year by default.
    package var auditRetention: TimeInterval = Retention.defaultAuditRetention

    /// Cookies are Secure (and `__Host-`) when the issuer is https.
    package var secureCookies: Bool { issuer.scheme == "https" }

    package static let defaultHost = "127.0.0.1"
    package static let defaultPort = 8080

    package init(
        host: String = defaultHost, port: Int = defaultPort, issuer: URL? = nil,
        templatesDirectory: String = "Templates", keys: APIKeySettings? = nil,
        accessTokenLifetime: TimeInterval = 900, trustedProxies: [String] = [], introspectionsPerMinute: Int? = nil,
        accessTokenAlgorithm: SigningAlgorithm = .es256
    ) throws(DomainError) {
        guard (0...65535).contains(port) else {
            throw .invalidInput(field: "port", message: "The port \(port) is not between 0 and 65535.")
        }
        self.host = host
        self.port = port
        if let issuer {
            self.issuer = try Self.checkedIssuer(issuer)
        } else {
            self.issuer = try Self.defaultIssuer(host: host, port: port)
        }
        self.templatesDirectory = templatesDirectory
        if let keys { self.keys = keys } else { self.keys = try APIKeySettings() }
        self.oauth = try OAuthSettings(issuer: self.issuer.absoluteString, accessTokenLifetime: accessTokenLifetime)
        self.oauth.accessTokenAlgorithm = accessTokenAlgorithm
        if let introspectionsPerMinute {
            guard OAuthSettings.introspectionLimits.contains(introspectionsPerMinute) else {
                throw .invalidInput(
                    field: "introspection_rate_limit",
                    message: "The introspection rate limit must be between 1 and 10000000 requests a minute.")
            }
            self.oauth.introspectionsPerMinute = introspectionsPerMinute
        }
        self.trustedProxies = Set(
            try trustedProxies.map { text throws(DomainError) in
                guard let address = ClientAddressMiddleware.normalizedIPAddress(text) else {
                    throw .invalidInput(
                        field: "trusted_proxy", message: "The trusted proxy '\(text)' is not an IP address.")
                }
                return address
            })
    }

    /// Parses an issuer URL: absolute http(s), no query or fragment (RFC 8414 §2).
    package static func parseIssuer(_ raw: String) throws(DomainError) -> URL {
        guard let url = URL(string: raw) else {
            throw .invalidInput(field: "issuer", message: "The issuer '\(raw)' is not a URL.")
        }
        return try checkedIssuer(url)
    }

    private static func checkedIssuer(_ url: URL) throws(DomainError) -> URL {
        guard let scheme = url.scheme, ["http", "https"].contains(scheme), url.host?.isEmpty == false,
            url.query == nil, url.fragment == nil
        else {
            throw .invalidInput(
                field: "issuer",
                message: "The issuer '\(url.absoluteString)' must be an absolute http or https URL "
                    + "without a query or fragment.")
        }
        // A trailing slash would make "issuer + /path" ambiguous.
        let text = url.absoluteString
        return text.hasSuffix("/") ? URL(string: String(text.dropLast())) ?? url : url
    }

    private static func defaultIssuer(host: String, port: Int) throws(DomainError) -> URL {
        let shownHost = host.contains(":") ? "[\(host)]" : (host == "0.0.0.0" ? "localhost" : host)
        return try parseIssuer("http://\(shownHost):\(port)")
    }
}
