import Foundation

/// How long OAuth artefacts live, and whom tokens name. Every default is the safe one.
package struct OAuthSettings: Sendable {
    /// The issuer identifier (RFC 8414 §2): the server's public base URL, without a trailing slash.
    package var issuer: String
    /// Access and ID token lifetime; 15 minutes by default.
    package var accessTokenLifetime: TimeInterval
    /// How long an unused refresh token stays valid; each rotation starts a new period. 30 days by default.
    package var refreshTokenLifetime: TimeInterval
    /// How long an authorization code may wait for its exchange: 60 seconds (RFC 6749 §4.1.2 says ≤ 10 min).
    package var codeLifetime: TimeInterval
    /// How long a browser stays signed in at most, however active: 12 hours.
    package var sessionLifetime: TimeInterval
    /// How long a browser stays signed in without being used: 30 minutes.
    package var sessionIdleTimeout: TimeInterval
    /// How many introspection requests one client may make a minute: 60,000 (1,000 a second) by default, so a
    /// busy resource server is served while no one client can take the whole server.
    package var introspectionsPerMinute: Int = 60_000
    /// How access tokens are signed: ES256, the fastest to sign and verify, unless the operator sets RS256 for
    /// resource servers whose JWT library takes nothing else. Tokens of either algorithm are accepted, so
    /// changing it strands no token.
    package var accessTokenAlgorithm: SigningAlgorithm = .es256
    /// How long after a rotation the refresh token it used may be presented again, by a client that lost the
    /// answer, for a fresh pair instead of the revocation of its grant: 0, RFC 9700's strict reuse detection, by
    /// default.
    package var refreshReuseGrace: TimeInterval = 0

    /// The grace periods an operator may set: up to five minutes, the time a retry takes, not a second life.
    package static let refreshReuseGraces: ClosedRange<TimeInterval> = 0...300

    /// The introspection limits an operator may set.
    package static let introspectionLimits: ClosedRange<Int> = 1...10_000_000

    package static let accessTokenLifetimes: ClosedRange<TimeInterval> = 60...86_400

    package init(
        issuer: String, accessTokenLifetime: TimeInterval = 900, refreshTokenLifetime: TimeInterval = 30 * 86_400,
        codeLifetime: TimeInterval = 60, sessionLifetime: TimeInterval = 12 * 3600,
        sessionIdleTimeout: TimeInterval = 30 * 60
    ) throws(DomainError) {
        guard Self.accessTokenLifetimes.contains(accessTokenLifetime) else {
            throw .invalidInput(
                field: "access_token_lifetime",
                message: "The access token lifetime must be between 60 and 86400 seconds.")
        }
        self.issuer = issuer
        self.accessTokenLifetime = accessTokenLifetime
        self.refreshTokenLifetime = refreshTokenLifetime
        self.codeLifetime = codeLifetime
        self.sessionLifetime = sessionLifetime
        self.sessionIdleTimeout = sessionIdleTimeout
    }

    /// The `aud` of access tokens: Gatehouse's own API, which is also the default resource (RFC 9068 §3).
    package var audience: String { issuer }
}

/// Which scopes a token may carry: never more than the client may receive, and for a user never more than
/// their role allows at this moment.
package struct GrantableScopes: Sendable {
    let rights: RoleRights

    package init(rights: RoleRights) { self.rights = rights }

    /// Parses a `scope` parameter (RFC 6749 §3.3); nil when it was absent.
    package static func parse(_ raw: String?) throws(OAuthFailure) -> Set<Scope>? {
        guard let raw else { return nil }
        var scopes: Set<Scope> = []
        for token in raw.split(separator: " ", omittingEmptySubsequences: true) {
            guard let scope = try? Scope(String(token)) else {
                throw .invalidScope("'\(token.prefix(64))' is not a valid scope.")
            }
            scopes.insert(scope)
        }
        return scopes.isEmpty ? nil : scopes
    }

    /// What a token for `role` may carry: the requested scopes (the client's when none are named) that the
    /// client may receive and the role holds. A scope the workspace does not define is refused, except the
    /// standard OpenID Connect scopes Gatehouse holds nothing for, which an `openid` request may ask for and
    /// not get (`BuiltInScopes.unheldOpenIDScopes`); one the client or the role lacks just falls out. Nothing
    /// left is refused too.
    package func forUser(requested: Set<Scope>?, client: ClientApplication, role: Role) throws(OAuthFailure)
        -> Set<Scope>
    {
        var requested = requested
        if let asked = requested, asked.contains(.openid) {
            requested = asked.filter { rights.isDefined($0) || !BuiltInScopes.unheldOpenIDScopes.contains($0) }
        }
        let asked = try defined(requested ?? client.scopes)
        let granted = asked.intersection(client.scopes).intersection(rights.scopes(of: role))
        guard !granted.isEmpty else {
            throw .invalidScope("None of the requested scopes can be granted to this user through this client.")
        }
        return granted
    }

    /// What a client-credentials token may carry: the requested scopes (the client's when none are named)
    /// that the client may receive. Without a user, the OpenID scopes mean nothing and fall out.
    package func forClient(requested: Set<Scope>?, client: ClientApplication) throws(OAuthFailure) -> Set<Scope> {
        let asked = try defined(requested ?? client.scopes)
        let granted = asked.intersection(client.scopes).intersection(rights.scopes(of: .superAdmin))
            .subtracting(BuiltInScopes.personal)
        guard !granted.isEmpty else {
            throw .invalidScope("None of the requested scopes can be granted to this client.")
        }
        return granted
    }

    private func defined(_ scopes: Set<Scope>) throws(OAuthFailure) -> Set<Scope> {
        if let unknown = scopes.sorted().first(where: { !rights.isDefined($0) }) {
            throw .invalidScope("The scope '\(unknown)' does not exist.")
        }
        return scopes
    }
}
