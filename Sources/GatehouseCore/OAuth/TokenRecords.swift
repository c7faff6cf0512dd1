import Crypto
import Foundation

/// Identifies a token grant: the family of tokens one authorization (or one client-credentials request)
/// started. Revoking it stops every token in the family.
package typealias GrantID = Identifier<TokenGrant>

/// One authorization, and the family of tokens issued under it: the code's exchange and every refresh after.
package struct TokenGrant: Equatable, Sendable {
    package var id: GrantID
    package var workspaceID: WorkspaceID
    package var clientID: ClientID
    /// Nil for client credentials.
    package var userID: UserID?
    /// What the user allowed at the start; refreshes may narrow it, never widen it.
    package var scopes: Set<Scope>
    /// When the user signed in for it (OIDC `auth_time`); nil for client credentials.
    package var authTime: Date?
    /// How they signed in (OIDC `amr`: `pwd`, `otp`); nil for client credentials and grants stored before.
    package var amr: [String]?
    /// The resource server its tokens are for (RFC 8707); nil for Gatehouse's own API.
    package var resource: ResourceIdentifier?
    package var createdAt: Date
    package var revokedAt: Date?

    package init(
        id: GrantID = GrantID(), workspaceID: WorkspaceID, clientID: ClientID, userID: UserID?, scopes: Set<Scope>,
        authTime: Date?, amr: [String]? = nil, resource: ResourceIdentifier? = nil, createdAt: Date,
        revokedAt: Date? = nil
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.clientID = clientID
        self.userID = userID
        self.scopes = scopes
        self.authTime = authTime
        self.amr = amr
        self.resource = resource
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// An opaque credential Gatehouse hands out once and keeps only the digest of: authorization codes, refresh
/// tokens and session cookies. 256 bits from the system CSPRNG, as 43 URL-safe characters.
package struct OpaqueToken: Sendable {
    package let value: String

    package static func generate() -> OpaqueToken { OpaqueToken(SecretGenerator.base64URL(byteCount: 32)) }

    package init(_ value: String) { self.value = value }

    package var digest: SecretDigest { SecretDigest(of: value) }
}

/// A PKCE code challenge (RFC 7636 §4.2). Only `S256` is accepted: `plain` protects nothing once the request
/// is seen (RFC 9700 §2.1.1).
package struct CodeChallenge: Equatable, Sendable {
    package let value: String

    /// Parses the `code_challenge` and `code_challenge_method` parameters.
    package init(_ challenge: String, method: String?) throws(OAuthFailure) {
        guard method == "S256" else {
            throw .invalidRequest(
                method == nil || method == "plain"
                    ? "code_challenge_method must be S256; plain is not supported."
                    : "The code_challenge_method '\(method?.prefix(32) ?? "")' is not supported; use S256.")
        }
        guard challenge.utf8.count == 43, Self.isUnreserved(challenge) else {
            throw .invalidRequest("The code_challenge must be the 43-character base64url SHA-256 of the verifier.")
        }
        self.value = challenge
    }

    /// Wraps a challenge read back from the store.
    package init(stored value: String) { self.value = value }

    /// True when `verifier` is well formed (43 to 128 unreserved characters) and hashes to this challenge,
    /// compared in constant time.
    package func isSatisfied(by verifier: String) -> Bool {
        guard (43...128).contains(verifier.utf8.count), Self.isUnreserved(verifier) else { return false }
        let computed = Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncodedString()
        return constantTimeEquals(Array(computed.utf8), Array(value.utf8))
    }

    /// `[A-Za-z0-9-._~]`, RFC 7636 §4.1.
    private static func isUnreserved(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || "-._~".unicodeScalars.contains($0)
        }
    }
}

/// An authorization code as stored: its digest and everything the token request must match.
package struct AuthorizationCode: Equatable, Sendable {
    package var digest: SecretDigest
    /// The grant the exchange will start; a replayed code revokes it.
    package var grantID: GrantID
    package var workspaceID: WorkspaceID
    package var clientID: ClientID
    package var userID: UserID
    /// The `redirect_uri` exactly as the authorization request sent it; nil when it was omitted.
    package var redirectURI: String?
    package var scopes: Set<Scope>
    package var challenge: CodeChallenge?
    package var nonce: String?
    package var authTime: Date
    /// How the user signed in (OIDC `amr`); nil for codes stored before it was kept.
    package var amr: [String]?
    /// The resource server the authorization request named (RFC 8707); nil for Gatehouse's own API.
    package var resource: ResourceIdentifier?
    package var issuedAt: Date
    package var expiresAt: Date
    package var consumedAt: Date?

    package init(
        digest: SecretDigest, grantID: GrantID = GrantID(), workspaceID: WorkspaceID, clientID: ClientID,
        userID: UserID, redirectURI: String?, scopes: Set<Scope>, challenge: CodeChallenge?, nonce: String?,
        authTime: Date, amr: [String]? = nil, resource: ResourceIdentifier? = nil, issuedAt: Date, expiresAt: Date,
        consumedAt: Date? = nil
    ) {
        self.digest = digest
        self.grantID = grantID
        self.workspaceID = workspaceID
        self.clientID = clientID
        self.userID = userID
        self.redirectURI = redirectURI
        self.scopes = scopes
        self.challenge = challenge
        self.nonce = nonce
        self.authTime = authTime
        self.amr = amr
        self.resource = resource
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.consumedAt = consumedAt
    }
}

/// A refresh token as stored: its digest, its grant and the scopes a refresh with it may ask for at most.
package struct RefreshToken: Equatable, Sendable {
    package var digest: SecretDigest
    package var grantID: GrantID
    package var scopes: Set<Scope>
    package var issuedAt: Date
    package var expiresAt: Date
    /// When it was exchanged for its successor; a second use revokes the grant.
    package var usedAt: Date?

    package init(
        digest: SecretDigest, grantID: GrantID, scopes: Set<Scope>, issuedAt: Date, expiresAt: Date,
        usedAt: Date? = nil
    ) {
        self.digest = digest
        self.grantID = grantID
        self.scopes = scopes
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }
}

/// The records one token response adds: a new grant (for a code exchange) and, when the client may refresh,
/// the refresh token. Access tokens have no record: they carry what they grant and name their grant, and
/// revoking one puts its `jti` on the store's revocation list.
package struct IssuedTokens: Equatable, Sendable {
    package var newGrant: TokenGrant?
    package var refreshToken: RefreshToken?

    package init(newGrant: TokenGrant?, refreshToken: RefreshToken?) {
        self.newGrant = newGrant
        self.refreshToken = refreshToken
    }
}

/// The scopes a user has allowed a client, and the client as it was when they did; asking again for no more
/// than these, of a client that has not grown since, skips the consent page.
package struct Consent: Equatable, Sendable {
    package var userID: UserID
    package var clientID: ClientID
    package var workspaceID: WorkspaceID
    package var scopes: Set<Scope>
    /// The client's registration the user agreed to; nil for a consent stored before Gatehouse kept it, which
    /// covers no client.
    package var terms: ConsentTerms?
    package var grantedAt: Date

    package init(
        userID: UserID, clientID: ClientID, workspaceID: WorkspaceID, scopes: Set<Scope>, terms: ConsentTerms?,
        grantedAt: Date
    ) {
        self.userID = userID
        self.clientID = clientID
        self.workspaceID = workspaceID
        self.scopes = scopes
        self.terms = terms
        self.grantedAt = grantedAt
    }

    /// Whether this consent still stands for `client` asking for `requested`: the user allowed every scope, and
    /// the client has gained no redirect URI, grant type or scope since (rights model: consent covers a client
    /// as it was when given).
    package func covers(_ client: ClientApplication, asking requested: Set<Scope>) -> Bool {
        guard let terms, terms.cover(client) else { return false }
        return requested.isSubset(of: scopes)
    }
}

/// What of a client's registration a consent is given for: where its codes may be sent, which grants may use
/// them, and which scopes it may ever ask for. When any of these grows, the consent no longer covers it.
package struct ConsentTerms: Equatable, Sendable {
    package var redirectURIs: Set<String>
    package var grantTypes: Set<GrantType>
    package var scopes: Set<Scope>

    package init(redirectURIs: Set<String>, grantTypes: Set<GrantType>, scopes: Set<Scope>) {
        self.redirectURIs = redirectURIs
        self.grantTypes = grantTypes
        self.scopes = scopes
    }

    /// The terms `client` offers now.
    package init(of client: ClientApplication) {
        self.init(
            redirectURIs: Set(client.redirectURIs.map(\.value)), grantTypes: client.grantTypes, scopes: client.scopes)
    }

    /// Whether `client` is still within these terms: it may have shrunk, never grown.
    package func cover(_ client: ClientApplication) -> Bool {
        let now = ConsentTerms(of: client)
        return now.redirectURIs.isSubset(of: redirectURIs) && now.grantTypes.isSubset(of: grantTypes)
            && now.scopes.isSubset(of: scopes)
    }
}

/// A signed-in browser: the digest of its cookie, whose user it is and until when.
package struct WebSession: Equatable, Sendable {
    package var digest: SecretDigest
    package var userID: UserID
    package var workspaceID: WorkspaceID
    /// When the user entered their password (OIDC `auth_time`).
    package var authTime: Date
    /// The absolute end of the session, however active it is.
    package var expiresAt: Date
    /// When the browser last used the session, to within a minute; the idle timeout counts from here.
    package var lastSeenAt: Date
    /// The browser's `User-Agent` when it signed in, at most 256 characters; nil when unknown.
    package var userAgent: String?
    /// The client address it signed in from; nil when unknown.
    package var address: String?
    /// How the person proved who they are (OIDC `amr`): `pwd`, then `otp` after a second factor.
    package var amr: [String]
    /// True while the password is checked but the second factor not yet: such a session signs nobody in.
    package var awaitsSecondFactor: Bool

    package init(
        digest: SecretDigest, userID: UserID, workspaceID: WorkspaceID, authTime: Date, expiresAt: Date,
        lastSeenAt: Date? = nil, userAgent: String? = nil, address: String? = nil, amr: [String] = ["pwd"],
        awaitsSecondFactor: Bool = false
    ) {
        self.digest = digest
        self.userID = userID
        self.workspaceID = workspaceID
        self.authTime = authTime
        self.expiresAt = expiresAt
        self.lastSeenAt = lastSeenAt ?? authTime
        self.userAgent = userAgent
        self.address = address
        self.amr = amr
        self.awaitsSecondFactor = awaitsSecondFactor
    }

    /// How a page names the session in a form: derived from the digest, so the digest itself (the key the store
    /// finds a cookie by) never leaves the server.
    package var handle: String {
        String(SecretDigest(of: "gatehouse-session\u{0}" + digest.hex).hex.prefix(32))
    }
}
