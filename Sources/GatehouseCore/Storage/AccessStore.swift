import Foundation

/// Persists API key records (never keys: only their keyed digests).
package protocol APIKeyStore: Sendable {
    func insert(_ key: APIKey) async throws
    /// Replaces the stored key with the same id; throws `RecordNotFound` when there is none.
    func update(_ key: APIKey) async throws
    func apiKey(id: APIKeyID) async throws -> APIKey?
    /// The key stored under `digest`, looked up through a unique index.
    func apiKey(digest: KeyDigest) async throws -> APIKey?
    /// The workspace's keys, newest first, optionally narrowed by status and owner.
    func apiKeys(in workspace: WorkspaceID, status: KeyStatus?, owner: KeyOwner?) async throws -> [APIKey]
    /// Moves each key's `last_used_at` forward to the given time (never back), in one write.
    func recordLastUse(_ uses: [APIKeyID: Date]) async throws
}

/// Reads client applications; they are written through `AuditStore.apply`, always with their audit event.
package protocol ClientStore: Sendable {
    func client(id: ClientID) async throws -> ClientApplication?
    /// The workspace's clients ordered by client_id, starting after `cursor`, at most `limit` of them.
    func clients(in workspace: WorkspaceID, after cursor: ClientID?, limit: Int) async throws -> [ClientApplication]
}

/// Persists the scopes workspaces define for their own APIs.
package protocol ScopeStore: Sendable {
    /// Throws `UniqueViolation(.scopeName)` when the workspace already defines the scope.
    func insert(_ definition: ScopeDefinition) async throws
    /// The workspace's own scopes, ordered by name.
    func scopeDefinitions(in workspace: WorkspaceID) async throws -> [ScopeDefinition]
}

/// A request counted against its window, and the credential epoch as it stood at that moment.
package struct CountedRequest: Equatable, Sendable {
    /// The window's count, this request included.
    package var count: Int
    /// See `RateLimitStore.credentialEpoch()`.
    package var credentialEpoch: Int64

    package init(count: Int, credentialEpoch: Int64) {
        self.count = count
        self.credentialEpoch = credentialEpoch
    }
}

/// Counts requests per credential per minute, shared by every instance on the same database; and keeps the
/// credential epoch, which tells the instances' credential caches when what they hold may be stale.
package protocol RateLimitStore: Sendable {
    /// Adds one request to the window of `bucket` that starts at `windowStart` and returns the window's count
    /// including it, in one atomic step (never a read followed by a write), with the credential epoch read in
    /// the same step: the hot path learns whether its cache is current without a second round trip.
    func countRequest(bucket: String, windowStart: Date) async throws -> CountedRequest
    /// A counter the store raises, in the same transaction, with every change by any process that can alter what
    /// an API key or access token may do: keys, users, clients, scope definitions, revoked grants and tokens.
    func credentialEpoch() async throws -> Int64
}

/// A change to one record that the audit trail records together with it.
package enum AuditedChange: Sendable {
    /// A new workspace with its first user, as `WorkspaceStore.insert(_:firstUser:)` stores them.
    case insertWorkspace(Workspace, firstUser: User)
    case insertUser(User)
    case updateUser(User)
    /// Replaces the workspace's name and settings.
    case updateWorkspace(Workspace)
    /// Stores the (now inactive) user, deletes their sessions and password links and revokes every token grant
    /// they hold.
    case deactivateUser(User)
    /// Stores the user with their new password and ends their web sessions, all but the one whose cookie
    /// digest is `keepingSession` (the browser that changed it), if any; their password links stop working.
    case changePassword(User, keepingSession: SecretDigest?)
    /// Ends the user's web sessions, all but the one whose cookie digest is `keepingSession`, if any.
    case endSessions(User, keepingSession: SecretDigest?)
    /// A new user without a password, with the invitation to choose one.
    case inviteUser(User, PasswordLink)
    /// Stores the link, replacing the user's link of the same purpose, if any.
    case issuePasswordLink(User, PasswordLink)
    /// Deletes the user's link of this purpose, if any.
    case cancelPasswordLink(User, PasswordLinkPurpose)
    /// Uses up the link (throws `RecordNotFound` when it is gone already), stores the user with their new
    /// password, deletes their other links and ends every session of theirs.
    case setPasswordWithLink(User, PasswordLink)
    /// Stores a second factor waiting for its first code, in place of another waiting one.
    case startTwoFactor(User, StoredSecondFactor)
    /// Stores the confirmed second factor and its recovery codes (digests), in place of any before.
    case confirmTwoFactor(User, StoredSecondFactor, recoveryCodes: [SecretDigest])
    case replaceRecoveryCodes(User, [SecretDigest])
    /// Deletes the user's second factor and recovery codes, and ends every session of theirs.
    case removeTwoFactor(User)
    case insertKey(APIKey)
    case updateKey(APIKey)
    case insertScope(ScopeDefinition)
    /// Throws `UniqueViolation(.clientID)` when the client_id is taken.
    case insertClient(ClientApplication)
    /// Replaces every setting, the secret digests included.
    case updateClient(ClientApplication)
    /// Deletes the client with every API key, code, token, grant and consent it holds.
    case deleteClient(ClientApplication)
    /// A client an app registered itself (RFC 7591), using up one use of the initial access token, if any: throws
    /// `RecordNotFound` when that token cannot be used any more (revoked, or single-use and used).
    case registerClient(ClientApplication, usingToken: InitialAccessTokenID?)
    case issueInitialAccessToken(InitialAccessToken)
    /// Stores the token revoked.
    case revokeInitialAccessToken(InitialAccessToken)
    /// Throws `UniqueViolation(.resourceIdentifier)` when the identifier is registered already.
    case insertResourceServer(ResourceServer)
    case deleteResourceServer(ResourceServer)
}

/// Appends to and reads the audit trail.
package protocol AuditStore: Sendable {
    /// Stores `event`, assigning its sequence number.
    func append(_ event: AuditEvent) async throws
    /// Applies `change` and appends `event` in one transaction: both are stored, or neither. Throws what the
    /// change alone would (`UniqueViolation`, `RecordNotFound`).
    func apply(_ change: AuditedChange, recording event: AuditEvent) async throws
    /// The workspace's events matching `query`, newest first.
    func auditEvents(in workspace: WorkspaceID, matching query: AuditQuery) async throws -> [AuditEvent]
}

/// The reads verifying an API key needs, and nothing else: a narrow view so tests can count them.
package protocol KeyVerificationStore: Sendable {
    func apiKey(digest: KeyDigest) async throws -> APIKey?
    func user(id: UserID) async throws -> User?
    func scopeDefinitions(in workspace: WorkspaceID) async throws -> [ScopeDefinition]
    func client(id: ClientID) async throws -> ClientApplication?
}

/// Everything keys, scopes and the audit trail need from storage.
package typealias AccessStore = APIKeyStore & ScopeStore & AuditStore & UserStore & WorkspaceStore & ClientStore
