import Foundation

/// Identifies an API key record (never the key itself).
package typealias APIKeyID = Identifier<APIKey>

/// Who a key acts for. A user key acts with its user's rights at the moment of each call; a service key
/// belongs to a client application, has no user, and carries every scope of the workspace (or a chosen subset).
package enum KeyOwner: Hashable, Sendable {
    case user(UserID)
    case client(ClientID)
}

/// Whether a key is accepted.
package enum KeyStatus: String, CaseIterable, Sendable {
    case active
    case revoked

    package init(parsing raw: String) throws(DomainError) {
        guard let status = KeyStatus(rawValue: raw) else {
            throw .invalidInput(field: "status", message: "'\(raw)' is not a key status; use active or revoked.")
        }
        self = status
    }
}

/// What a key may do, before its owner's role bounds it.
package enum KeyScopes: Equatable, Sendable {
    /// Everything the owner may do, following the owner's role as it changes; for a service key, every scope
    /// the workspace has, including ones defined later.
    case ownerRights
    /// Only these, and only while the owner may do them too.
    case only(Set<Scope>)

    /// The sorted names, or nil for owner rights: how the store and the wire carry it.
    package var names: [String]? {
        switch self {
        case .ownerRights: nil
        case .only(let scopes): scopes.sorted().map(\.name)
        }
    }

    package init(names: [String]?) throws(DomainError) {
        guard let names else {
            self = .ownerRights
            return
        }
        var scopes: Set<Scope> = []
        for name in names { scopes.insert(try Scope(name)) }
        self = .only(scopes)
    }
}

/// An API key as stored: everything but the key, which only its digest stands for.
package struct APIKey: Equatable, Sendable {
    package var id: APIKeyID
    package var workspaceID: WorkspaceID
    package var owner: KeyOwner
    package var name: String
    /// The key's prefix as issued, e.g. `gate`.
    package var prefix: String
    package var lastFour: String
    package var digest: KeyDigest
    package var scopes: KeyScopes
    package var status: KeyStatus
    /// Requests a minute; nil means the installation's default.
    package var rateLimitPerMinute: Int?
    /// The user who made it; nil when an operator made it from the command line.
    package var createdBy: UserID?
    package var createdAt: Date
    package var updatedAt: Date
    package var expiresAt: Date?
    package var lastUsedAt: Date?

    package init(
        id: APIKeyID = APIKeyID(), workspaceID: WorkspaceID, owner: KeyOwner, name: String, prefix: String,
        lastFour: String, digest: KeyDigest, scopes: KeyScopes, status: KeyStatus = .active,
        rateLimitPerMinute: Int? = nil, createdBy: UserID?, createdAt: Date, updatedAt: Date, expiresAt: Date? = nil,
        lastUsedAt: Date? = nil
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.owner = owner
        self.name = name
        self.prefix = prefix
        self.lastFour = lastFour
        self.digest = digest
        self.scopes = scopes
        self.status = status
        self.rateLimitPerMinute = rateLimitPerMinute
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
    }

    /// True when it has an expiry at or before `now`.
    package func isExpired(at now: Date) -> Bool {
        expiresAt.map { $0 <= now } ?? false
    }
}
