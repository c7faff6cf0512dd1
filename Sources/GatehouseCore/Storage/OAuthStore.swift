import Foundation

/// Persists the keys access and ID tokens are signed with; private parts only sealed.
package protocol SigningKeyStore: Sendable {
    /// Every stored key, retired ones included, oldest first.
    func signingKeys() async throws -> [StoredSigningKey]
    /// Stores `key` and marks every key not yet retired as retired at `key.createdAt`, in one transaction.
    func rotateSigningKeys(to key: StoredSigningKey) async throws
}

/// Persists authorization codes, token grants and the refresh tokens issued under them (only digests of codes
/// and refresh tokens), and the list of revoked access tokens. Access tokens themselves are not stored: they
/// carry what they grant. Every step that consumes one thing and issues another is one transaction.
package protocol TokenStore: Sendable {
    func insert(_ code: AuthorizationCode) async throws
    func authorizationCode(digest: SecretDigest) async throws -> AuthorizationCode?
    /// Marks the code consumed and stores `tokens` (with their new grant) in one transaction, when the code is
    /// still unconsumed. Returns false, storing nothing, when it was already consumed: a replay.
    func redeem(_ code: AuthorizationCode, at time: Date, issuing tokens: IssuedTokens) async throws -> Bool
    /// Stores tokens that consume nothing, with their new grant.
    func store(_ tokens: IssuedTokens) async throws
    func grant(id: GrantID) async throws -> TokenGrant?
    /// The refresh token with this digest and the grant it was issued under, in one read.
    func refreshToken(digest: SecretDigest) async throws -> (token: RefreshToken, grant: TokenGrant)?
    /// Marks `token` used and stores `tokens` in one transaction, when it is still unused. Returns false,
    /// storing nothing, when it was already used: a reuse.
    func rotate(_ token: RefreshToken, at time: Date, issuing tokens: IssuedTokens) async throws -> Bool
    /// A client's retry of a rotation whose answer it lost: when `token` was used at `usedSince` or later and its
    /// grant is not revoked, retires every refresh token of the grant still unused (the answer it never got) and
    /// stores `tokens`, in one transaction. Returns false, storing nothing, otherwise.
    func reissue(after token: RefreshToken, usedSince: Date, at time: Date, issuing tokens: IssuedTokens)
        async throws -> Bool
    /// Puts the access token `id` (its `jti`), issued to `client`, on the revocation list until it expires;
    /// revoking it again changes nothing.
    func revokeAccessToken(id: String, of client: ClientID, expiresAt: Date, at time: Date) async throws
    /// Whether the access token `id` is on the revocation list.
    func isAccessTokenRevoked(id: String) async throws -> Bool
    /// Revokes the grant, so every token issued under it stops.
    func revokeGrant(id: GrantID, at time: Date) async throws
    /// Revokes every grant of `user`, or only those with `client` when it is given.
    func revokeGrants(of user: UserID, client: ClientID?, at time: Date) async throws
}

/// Persists which scopes a user has allowed which client.
package protocol ConsentStore: Sendable {
    func consent(of user: UserID, for client: ClientID) async throws -> Consent?
    /// The user's consents, ordered by client_id.
    func consents(of user: UserID) async throws -> [Consent]
    /// Stores or replaces the consent of the same user and client.
    func save(_ consent: Consent) async throws
    /// Deletes the consent and revokes every grant of that user and client, in one transaction. Returns
    /// false when there was no consent.
    func withdraw(consentOf user: UserID, for client: ClientID, at time: Date) async throws -> Bool
}

/// Persists browser sessions (only digests of their cookies), shared by every instance.
package protocol SessionStore: Sendable {
    func insert(_ session: WebSession) async throws
    func session(digest: SecretDigest) async throws -> WebSession?
    /// The user's sessions, ended ones included until they are deleted, the most recently used first.
    func sessions(of user: UserID) async throws -> [WebSession]
    /// Records that the session was used at `time` (its idle timeout starts again).
    func touchSession(digest: SecretDigest, at time: Date) async throws
    func deleteSession(digest: SecretDigest) async throws
    func deleteSessions(of user: UserID) async throws
}

/// Persists which browsers each user has signed in from (digests of a long-lived device cookie), so a sign-in
/// from a new one can be told to its owner.
package protocol KnownDeviceStore: Sendable {
    /// Records the device for the user, and says whether it was known for them.
    func rememberDevice(_ digest: SecretDigest, of user: UserID, at time: Date) async throws -> DeviceSighting
}

/// What the store knew of a device a user signed in from.
package enum DeviceSighting: Equatable, Sendable {
    /// They signed in from it before.
    case known
    /// A device new for them, who has signed in from others.
    case new
    /// Their first device: no other to compare with.
    case first
}

/// Everything the OAuth endpoints and the sign-in pages need from storage.
package typealias OAuthStore = SigningKeyStore & TokenStore & ConsentStore & SessionStore & KnownDeviceStore
