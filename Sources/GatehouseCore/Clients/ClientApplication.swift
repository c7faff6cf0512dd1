import Foundation

/// A client application's `client_id`: chosen by an admin (or made up for an app that registered itself),
/// unique across the installation; or the https URL of an app's client metadata document
/// (draft-ietf-oauth-client-id-metadata-document), which names the app.
package struct ClientID: Hashable, Sendable, Comparable, CustomStringConvertible {
    package let value: String
    package var description: String { value }

    /// Whether it is the URL of a client metadata document rather than a registered name.
    package var isMetadataDocument: Bool { value.hasPrefix("https://") }

    package static let maximumURLLength = 2000

    /// Parses `raw`: 3 to 64 lowercase letters, digits, `-`, `_` and `.`; or a metadata document's URL.
    package init(_ raw: String) throws(DomainError) {
        if raw.hasPrefix("https://") {
            guard Self.isDocumentURL(raw) else {
                throw .invalidInput(
                    field: "client_id",
                    message: "A client_id that is a URL must be an https URL with a path, no fragment, query, user "
                        + "name or dot segments, at most \(Self.maximumURLLength) characters.")
            }
            self.value = raw
            return
        }
        let allowed = raw.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)
        }
        guard (3...64).contains(raw.unicodeScalars.count), allowed else {
            throw .invalidInput(
                field: "client_id",
                message: "The client_id must be 3 to 64 lowercase letters, digits, '-', '_' or '.'"
                    + (raw.isEmpty ? "." : ", and '\(raw.prefix(80))' is not."))
        }
        self.value = raw
    }

    /// The draft's rules for a client_id URL (§3): https, a host, a path that is not just `/`, no fragment, no
    /// user name, no `.` or `..` segments; and, here, no query, printable ASCII only.
    private static func isDocumentURL(_ raw: String) -> Bool {
        guard raw.utf8.count <= maximumURLLength,
            raw.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }),
            !raw.contains("#"), !raw.contains("?"), !raw.contains("\\")
        else { return false }
        let afterScheme = raw.dropFirst("https://".count)
        guard let slash = afterScheme.firstIndex(of: "/") else { return false }
        let authority = afterScheme[..<slash]
        let path = afterScheme[slash...]
        guard !authority.isEmpty, !authority.contains("@"), path.count > 1 else { return false }
        return !path.split(separator: "/", omittingEmptySubsequences: false).contains { $0 == "." || $0 == ".." }
    }

    package static func < (lhs: ClientID, rhs: ClientID) -> Bool { lhs.value < rhs.value }
}

/// Whether a client can keep a secret (RFC 6749 §2.1).
package enum ClientType: String, CaseIterable, Sendable {
    /// A server-side app or an integration: has a secret.
    case confidential
    /// A browser or native app: no secret, so it must use PKCE.
    case `public`

    package init(parsing raw: String) throws(DomainError) {
        guard let type = ClientType(rawValue: raw) else {
            throw .invalidInput(field: "type", message: "'\(raw)' is not a client type; use confidential or public.")
        }
        self = type
    }
}

/// The OAuth grants a client may use at the token endpoint.
package enum GrantType: String, CaseIterable, Sendable, Comparable {
    case authorizationCode = "authorization_code"
    case refreshToken = "refresh_token"
    case clientCredentials = "client_credentials"
    /// The device authorization grant (RFC 8628), for CLIs and devices without a browser.
    case deviceCode = "urn:ietf:params:oauth:grant-type:device_code"

    package init(parsing raw: String) throws(DomainError) {
        guard let grant = GrantType(rawValue: raw) ?? (raw == "device_code" ? .deviceCode : nil) else {
            throw .invalidInput(
                field: "grant_types",
                message: "'\(raw)' is not a grant type; use authorization_code, refresh_token, client_credentials "
                    + "or urn:ietf:params:oauth:grant-type:device_code.")
        }
        self = grant
    }

    package static func < (lhs: GrantType, rhs: GrantType) -> Bool { lhs.rawValue < rhs.rawValue }

    /// What a new client gets when it names none.
    package static let defaults: Set<GrantType> = [.authorizationCode, .refreshToken]
}

/// Who registered a client.
package enum ClientRegistrant: String, Sendable {
    /// An admin, on the pages, through the API or at the command line.
    case admin
    /// The app itself, through open dynamic registration (RFC 7591) with no token: public, never administrative,
    /// and deleted after `ClientRegistration.unusedLifetime` without a token issued.
    case app
    /// The app itself, with an initial access token an admin issued.
    case appWithToken = "app_with_token"
    /// The app's client metadata document, fetched from the URL that is its client_id; kept as a copy, fetched
    /// again when its cache time is up.
    case metadataDocument = "metadata_document"
}

/// How a client authenticates at the token endpoint (RFC 7591 §2), as it registered it.
package enum TokenEndpointAuthMethod: String, CaseIterable, Sendable {
    case none
    case clientSecretBasic = "client_secret_basic"
    case clientSecretPost = "client_secret_post"
}

/// How a confidential client's secret is kept: digests only, plus the previous secret while its grace period
/// after a rotation lasts.
package struct ClientSecretDigests: Equatable, Sendable {
    package var current: SecretDigest
    package var previous: SecretDigest?
    /// When the previous secret stops working; nil when there is none.
    package var previousExpiresAt: Date?

    package init(current: SecretDigest, previous: SecretDigest? = nil, previousExpiresAt: Date? = nil) {
        self.current = current
        self.previous = previous
        self.previousExpiresAt = previousExpiresAt
    }

    /// True when `secret` is the current secret, or the previous one before its grace period ends. Both are
    /// compared in constant time, whichever matches.
    package func accept(_ secret: String, at now: Date) -> Bool {
        let presented = SecretDigest(of: secret)
        let matchesCurrent = presented.matches(digest: current)
        let matchesPrevious = previous.map { presented.matches(digest: $0) } ?? false
        let previousValid = previousExpiresAt.map { now < $0 } ?? false
        return matchesCurrent || (matchesPrevious && previousValid)
    }
}

/// A third-party app or integration known to Gatehouse.
package struct ClientApplication: Equatable, Sendable {
    package var id: ClientID
    package var workspaceID: WorkspaceID
    package var name: String
    package var description: String?
    package var logoURL: String?
    package var homepageURL: String?
    package var type: ClientType
    package var redirectURIs: [RedirectURI]
    /// Where RP-Initiated Logout may send the browser back to (OIDC RP-Initiated Logout §3), matched exactly.
    package var postLogoutRedirectURIs: [RedirectURI]
    /// Where a logout token is POSTed when a user of this client signs out of Gatehouse (OIDC Back-Channel
    /// Logout 1.0 §2.2): https, or http on a loopback address.
    package var backchannelLogoutURI: RedirectURI?
    package var grantTypes: Set<GrantType>
    /// The scopes tokens issued to this client may ever carry.
    package var scopes: Set<Scope>
    /// Nil for public clients.
    package var secret: ClientSecretDigests?
    /// Whether `/oauth/authorize` insists on PKCE (RFC 7636). Always true for public clients; a confidential
    /// client may turn it off for a legacy integration that cannot send a code challenge.
    package var requirePKCE: Bool
    /// A resource server, marked so by an admin: it may introspect any credential of its workspace (RFC 7662
    /// §4). Any other confidential client learns only about its own tokens and keys.
    package var isResourceServer: Bool
    /// How its ID tokens are signed (`id_token_signed_response_alg`, OIDC Dynamic Client Registration §2).
    package var idTokenSigningAlgorithm: SigningAlgorithm
    package var isDisabled: Bool
    /// The user who registered it; nil when an operator did from the command line, or the app itself.
    package var createdBy: UserID?
    package var registeredBy: ClientRegistrant = .admin
    /// For a client that registered itself: the digest of its registration access token (RFC 7592), which
    /// lets it read, change and delete its registration.
    package var registrationTokenDigest: SecretDigest?
    /// How it said it would authenticate, when it registered itself; admins' clients use any method their type
    /// allows.
    package var tokenEndpointAuthMethod: TokenEndpointAuthMethod?
    /// When a token was last issued to it, to the day; kept for clients that registered themselves.
    package var lastUsedAt: Date?
    /// For a client described by its metadata document: until when the copy kept here may be used.
    package var metadataExpiresAt: Date?
    package var createdAt: Date
    package var updatedAt: Date

    package init(
        id: ClientID, workspaceID: WorkspaceID, name: String, description: String? = nil, logoURL: String? = nil,
        homepageURL: String? = nil, type: ClientType, redirectURIs: [RedirectURI] = [],
        postLogoutRedirectURIs: [RedirectURI] = [], backchannelLogoutURI: RedirectURI? = nil,
        grantTypes: Set<GrantType> = GrantType.defaults,
        scopes: Set<Scope>, secret: ClientSecretDigests?, requirePKCE: Bool = true, isResourceServer: Bool = false,
        idTokenSigningAlgorithm: SigningAlgorithm = .rs256, isDisabled: Bool = false, createdBy: UserID?,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.workspaceID = workspaceID
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
        self.secret = secret
        self.requirePKCE = requirePKCE
        self.isResourceServer = isResourceServer
        self.idTokenSigningAlgorithm = idTokenSigningAlgorithm
        self.isDisabled = isDisabled
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The registered redirect URI that `requested` matches (RFC 6749 §3.1.2.3, RFC 8252 §7.3), if any.
    package func redirectURI(matching requested: String) -> RedirectURI? {
        redirectURIs.first { $0.matches(requested) }
    }

    /// The registered post-logout redirect URI that is exactly `requested`, if any: no loopback port leeway
    /// here, as RP-Initiated Logout §3 asks for an exact match.
    package func postLogoutRedirectURI(matching requested: String) -> RedirectURI? {
        postLogoutRedirectURIs.first { $0.value == requested }
    }
}
