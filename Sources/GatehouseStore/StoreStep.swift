import Foundation
import GatehouseCore

/// One write of an audited change. What each `AuditedChange` writes, and in which order, is decided here once for
/// both stores (`AuditedChange.steps(at:)`); a store only says how it writes each step in its dialect, all in
/// the transaction that appends the change's audit event.
enum StoreStep {
    case insertWorkspace(Workspace)
    case updateWorkspace(Workspace)
    case insertUser(User)
    /// Changes exactly the one user, or throws `RecordNotFound`; so do the other updates and the deletion.
    case updateUser(User)
    /// The user's web sessions end, and every grant they hold is revoked with its codes in flight.
    case endSessionsAndGrants(UserID, at: Date)
    /// The user's web sessions end, but the one with this cookie digest.
    case endSessions(UserID, except: SecretDigest?)
    /// Stores the link in place of the user's link of the same purpose, if any.
    case insertPasswordLink(PasswordLink)
    /// The user's links of the purpose, or of every purpose when it is nil.
    case deletePasswordLinks(UserID, PasswordLinkPurpose?)
    /// Deletes exactly the one link, or throws `RecordNotFound`: a link is used once.
    case consumePasswordLink(SecretDigest)
    /// Stores the second factor in place of the user's one, if any.
    case putSecondFactor(StoredSecondFactor)
    case replaceRecoveryCodes(UserID, [SecretDigest])
    /// The user's second factor and recovery codes.
    case deleteSecondFactor(UserID)
    case insertKey(APIKey)
    case updateKey(APIKey)
    case insertScope(ScopeDefinition)
    case insertClient(ClientApplication)
    case updateClient(ClientApplication)
    /// The client's codes in flight, which die when it is disabled, so enabling it again revives none.
    case deleteCodesInFlight(ClientID)
    /// Everything the client holds, so its client_id can be reused without inheriting anything: refresh tokens,
    /// grants, codes, consents and keys. (Its access tokens name a grant that is gone, or, when they are its
    /// own, were issued before a new client's creation: see `AccessTokenVerifier`.)
    case deleteHoldings(ClientApplication)
    case deleteClient(ClientApplication)
    case insertResourceServer(ResourceServer)
    /// Counts one use of the token, or throws `RecordNotFound` when it cannot be used (revoked, or single-use
    /// and used already): checked and counted in one statement, so two registrations cannot both use it.
    case useInitialAccessToken(InitialAccessTokenID, at: Date)
    case insertInitialAccessToken(InitialAccessToken)
    case revokeInitialAccessToken(InitialAccessToken)
    /// Deletes exactly the one resource server, or throws `RecordNotFound`.
    case deleteResourceServer(ResourceServerID)
}

extension AuditedChange {
    /// The writes of this change, in order; `time` is the change's, for what it revokes.
    func steps(at time: Date) -> [StoreStep] {
        switch self {
        case .insertWorkspace(let workspace, let firstUser): [.insertWorkspace(workspace), .insertUser(firstUser)]
        case .insertUser(let user): [.insertUser(user)]
        case .updateWorkspace(let workspace): [.updateWorkspace(workspace)]
        case .updateUser(let user): [.updateUser(user)]
        case .deactivateUser(let user):
            [.updateUser(user), .endSessionsAndGrants(user.id, at: time), .deletePasswordLinks(user.id, nil)]
        case .changePassword(let user, let kept):
            [.updateUser(user), .endSessions(user.id, except: kept), .deletePasswordLinks(user.id, nil)]
        case .endSessions(let user, let kept): [.endSessions(user.id, except: kept)]
        case .inviteUser(let user, let link): [.insertUser(user), .insertPasswordLink(link)]
        case .issuePasswordLink(_, let link): [.insertPasswordLink(link)]
        case .cancelPasswordLink(let user, let purpose): [.deletePasswordLinks(user.id, purpose)]
        case .startTwoFactor(_, let factor): [.putSecondFactor(factor)]
        case .confirmTwoFactor(let user, let factor, let codes):
            [.putSecondFactor(factor), .replaceRecoveryCodes(user.id, codes)]
        case .replaceRecoveryCodes(let user, let codes): [.replaceRecoveryCodes(user.id, codes)]
        case .removeTwoFactor(let user): [.deleteSecondFactor(user.id), .endSessions(user.id, except: nil)]
        case .setPasswordWithLink(let user, let link):
            [
                .consumePasswordLink(link.digest), .updateUser(user), .deletePasswordLinks(user.id, nil),
                .endSessions(user.id, except: nil),
            ]
        case .insertKey(let key): [.insertKey(key)]
        case .updateKey(let key): [.updateKey(key)]
        case .insertScope(let definition): [.insertScope(definition)]
        case .insertClient(let client): [.insertClient(client)]
        case .updateClient(let client):
            [.updateClient(client)] + (client.isDisabled ? [.deleteCodesInFlight(client.id)] : [])
        case .deleteClient(let client): [.deleteHoldings(client), .deleteClient(client)]
        case .registerClient(let client, let token):
            (token.map { [.useInitialAccessToken($0, at: client.createdAt)] } ?? []) + [.insertClient(client)]
        case .issueInitialAccessToken(let token): [.insertInitialAccessToken(token)]
        case .revokeInitialAccessToken(let token): [.revokeInitialAccessToken(token)]
        case .insertResourceServer(let resource): [.insertResourceServer(resource)]
        case .deleteResourceServer(let resource): [.deleteResourceServer(resource.id)]
        }
    }
}
