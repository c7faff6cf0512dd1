import Foundation

/// Records changes and sign-ins, and lets auditors read them back.
package struct AuditTrail: Sendable {
    let store: any AuditStore
    let clock: any WallClock

    package init(store: any AuditStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// Appends one event. `details` must never hold a secret.
    package func record(
        _ action: String, targetKind: String, targetID: String, in workspace: WorkspaceID, by caller: Caller,
        details: [String: String] = [:]
    ) async throws {
        try await store.append(
            AuditEvent(
                workspaceID: workspace, actor: caller.actor, action: action, targetKind: targetKind, targetID: targetID,
                address: caller.address, details: details, occurredAt: clock.now()))
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
