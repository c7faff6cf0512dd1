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

/// Quota taken from a window's shared count: how many requests the caller may admit, and the window's count after
/// it (every request granted so far, by every instance).
package struct RequestLease: Equatable, Sendable {
    package var granted: Int
    package var count: Int

    package init(granted: Int, count: Int) {
        self.granted = granted
        self.count = count
    }
}

/// Counts requests per credential per minute, shared by every instance on the same database; and keeps the
/// credential epoch, which tells the instances' credential caches when what they hold may be stale.
package protocol RateLimitStore: Sendable {
    /// Takes quota from the window of `bucket` that starts at `windowStart`, in one atomic step (never a read
    /// followed by a write): `RateLimiter.leaseSize(left:)` of what `limit` leaves, where the left is
    /// `limit` minus the window's count; none once the count has reached `limit`. The window's count never
    /// passes `limit` this way, whatever the instances asking.
    func leaseRequests(bucket: String, windowStart: Date, limit: Int) async throws -> RequestLease
    /// A counter the store raises, in the same transaction, with every change by any process that can alter what
    /// an API key or access token may do: keys, users, clients, scope definitions, revoked grants and tokens.
    func credentialEpoch() async throws -> Int64
    /// True while the store vouches that every change that has answered has already been told to this process's
    /// `watchCredentialEpoch` observer: the newest epoch it was told is then current, and a request need not read
    /// it. PostgreSQL vouches while its listener is up and it holds an unexpired instance lease, which every
    /// change waits for (see `PostgresStore`); SQLite never does, and reads the epoch in microseconds instead.
    var pushedEpochIsCurrent: Bool { get }
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
