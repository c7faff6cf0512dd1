import Foundation

/// Records changes and sign-ins, and lets auditors read them back.
package struct AuditTrail: Sendable {
    let store: any AuditStore
    let clock: any WallClock

    package init(store: any AuditStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// Makes `change` and records it as `action` in one transaction, so no change goes unrecorded and no
    /// record describes a change that did not happen. `details` must never hold a secret.
    package func record(
        _ change: AuditedChange, as action: String, by caller: Caller, details: [String: String] = [:]
    ) async throws {
        let target = change.target
        var details = details
        // A key made for its owner by someone else names both: the owner as the actor, the maker here.
        if let maker = caller.principal?.maker { details["key_made_by"] = "\(maker)" }
        let event = AuditEvent(
            workspaceID: target.workspace, actor: caller.actor, action: action, targetKind: target.kind,
            targetID: target.id, address: caller.address, details: details, occurredAt: clock.now())
        try await translatingConflicts { try await store.apply(change, recording: event) }
    }

    /// A page of the workspace's events, newest first; needs `audit:read`.
    package func events(in workspace: WorkspaceID, matching query: AuditQuery, by caller: Caller) async throws
        -> [AuditEvent]
    {
        try caller.require(.auditRead)
        guard caller.canSee(workspace) else { return [] }
        guard (1...200).contains(query.limit) else {
            throw DomainError.invalidInput(field: "limit", message: "The limit must be between 1 and 200.")
        }
        return try await store.auditEvents(in: workspace, matching: query)
    }
}

extension AuditedChange {
    /// What the change is to, as the audit trail names it.
    var target: (kind: String, id: String, workspace: WorkspaceID) {
        switch self {
        case .insertWorkspace(let workspace, _), .updateWorkspace(let workspace):
            ("workspace", "\(workspace.id)", workspace.id)
        case .insertUser(let user), .updateUser(let user), .deactivateUser(let user), .changePassword(let user, _),
            .endSessions(let user, _), .inviteUser(let user, _), .issuePasswordLink(let user, _),
            .cancelPasswordLink(let user, _), .setPasswordWithLink(let user, _), .startTwoFactor(let user, _),
            .confirmTwoFactor(let user, _, _), .replaceRecoveryCodes(let user, _), .removeTwoFactor(let user):
            ("user", "\(user.id)", user.workspaceID)
        case .insertKey(let key), .updateKey(let key): ("api_key", "\(key.id)", key.workspaceID)
        case .insertScope(let scope): ("scope", scope.scope.name, scope.workspaceID)
        case .insertClient(let client), .updateClient(let client), .deleteClient(let client),
            .registerClient(let client, _):
            ("client", client.id.value, client.workspaceID)
        case .issueInitialAccessToken(let token), .revokeInitialAccessToken(let token):
            ("initial_access_token", "\(token.id)", token.workspaceID)
        case .insertResourceServer(let resource), .deleteResourceServer(let resource):
            ("resource", "\(resource.id)", resource.workspaceID)
        }
    }
}
