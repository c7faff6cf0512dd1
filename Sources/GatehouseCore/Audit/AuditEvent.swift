import Foundation

/// Who made a change: the user (if any) and the credential or channel they used.
package struct AuditActor: Equatable, Sendable {
    package var user: UserID?
    /// `api_key:<id>`, `cli`, later `access_token:<client>`.
    package var credential: String

    package init(user: UserID?, credential: String) {
        self.user = user
        self.credential = credential
    }

    /// An operator at the command line.
    package static let commandLine = AuditActor(user: nil, credential: "cli")

    /// A person in their own browser, signed in to Gatehouse's pages.
    package static func webSession(of user: User) -> AuditActor { AuditActor(user: user.id, credential: "web_session") }
}

/// One recorded change or sign-in: who, what, to what, when and from where. Never holds a secret.
package struct AuditEvent: Equatable, Sendable {
    /// Assigned by the store in insertion order; nil until stored.
    package var sequence: Int64?
    package var workspaceID: WorkspaceID
    package var actor: AuditActor
    /// What happened, such as `api_key.created` or `user.updated`.
    package var action: String
    /// What it happened to, such as `api_key` and its id.
    package var targetKind: String
    package var targetID: String
    /// The client address the request came from, when there was one.
    package var address: String?
    package var details: [String: String]
    package var occurredAt: Date

    package init(
        sequence: Int64? = nil, workspaceID: WorkspaceID, actor: AuditActor, action: String, targetKind: String,
        targetID: String, address: String?, details: [String: String] = [:], occurredAt: Date
    ) {
        self.sequence = sequence
        self.workspaceID = workspaceID
        self.actor = actor
        self.action = action
        self.targetKind = targetKind
        self.targetID = targetID
        self.address = address
        self.details = details
        self.occurredAt = occurredAt
    }
}

extension AuditEvent {
    /// An event whose target is `user`, in their workspace: their own act (`actor` names them) or something done
    /// to their account on its own (a reset asked for by address, a message that could not be sent).
    package static func about(
        _ user: User, _ action: String, by actor: AuditActor, address: String?, details: [String: String] = [:],
        at time: Date
    ) -> AuditEvent {
        AuditEvent(
            workspaceID: user.workspaceID, actor: actor, action: action, targetKind: "user", targetID: "\(user.id)",
            address: address, details: details, occurredAt: time)
    }
}

/// Narrows an audit listing; every field is optional.
package struct AuditQuery: Sendable {
    package var action: String?
    package var actorUser: UserID?
    package var targetID: String?
    /// Only events older than this sequence number: the cursor for the next page.
    package var before: Int64?
    package var limit: Int

    package init(
        action: String? = nil, actorUser: UserID? = nil, targetID: String? = nil, before: Int64? = nil, limit: Int = 50
    ) {
        self.action = action
        self.actorUser = actorUser
        self.targetID = targetID
        self.before = before
        self.limit = limit
    }
}
