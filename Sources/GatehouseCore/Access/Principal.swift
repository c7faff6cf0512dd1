import Foundation

/// The kind of credential a request presented.
package enum CredentialKind: Hashable, Sendable {
    case apiKey(APIKeyID)
    /// An OAuth access token: its `jti`, the grant it belongs to and the client it was issued to. A client's own
    /// token (client credentials) belongs to no grant.
    case accessToken(id: String, grant: GrantID?, client: ClientID)
    /// A signed-in browser, on Gatehouse's own pages.
    case webSession

    /// How messages name it: "This key does not have …".
    package var noun: String {
        switch self {
        case .apiKey: "key"
        case .accessToken: "token"
        case .webSession: "session"
        }
    }
}

/// Whom a credential acts for: a user, or (for a service key) a client application.
package enum CredentialHolder: Equatable, Sendable {
    case user(User)
    case client(ClientApplication)
}

/// Who a request acts as, once its credential has been verified: the workspace, the user (if any), and the
/// scopes it may use right now (the credential's scopes bounded by the user's current role).
package struct Principal: Sendable {
    package var workspaceID: WorkspaceID
    /// The user the credential acts for; nil for service credentials.
    package var user: User?
    /// The client application a service credential belongs to; nil for user credentials.
    package var client: ClientApplication?
    /// The role whose rights bound what the credential may grant: the user's current role, or `admin` for a
    /// service credential, so an integration never makes or changes a super admin.
    package var role: Role
    package var scopes: Set<Scope>
    package var credential: CredentialKind
    /// Requests a minute this credential may make.
    package var rateLimitPerMinute: Int
    /// When the credential itself expires, if it does; a cached principal is not served past it.
    package var credentialExpiresAt: Date?
    /// For a key made for its user by someone else: who made it. The key acts within their rights too, and the
    /// audit trail names them beside the owner.
    package var maker: UserID?

    package init(
        workspaceID: WorkspaceID, user: User?, client: ClientApplication? = nil, role: Role, scopes: Set<Scope>,
        credential: CredentialKind, rateLimitPerMinute: Int, credentialExpiresAt: Date? = nil
    ) {
        self.workspaceID = workspaceID
        self.user = user
        self.client = client
        self.role = role
        self.scopes = scopes
        self.credential = credential
        self.rateLimitPerMinute = rateLimitPerMinute
        self.credentialExpiresAt = credentialExpiresAt
    }

    /// Throws `forbidden`, naming the missing scope, unless the credential holds `scope`.
    package func require(_ scope: Scope) throws(DomainError) {
        guard scopes.contains(scope) else {
            throw .forbidden("This \(credential.noun) does not have \(scope) permission")
        }
    }

    /// What the audit trail records as the actor.
    package var actor: AuditActor {
        switch credential {
        case .apiKey(let id): AuditActor(user: user?.id, credential: "api_key:\(id)")
        case .accessToken(_, _, let client): AuditActor(user: user?.id, credential: "access_token:\(client)")
        case .webSession: AuditActor(user: user?.id, credential: "web_session")
        }
    }
}
