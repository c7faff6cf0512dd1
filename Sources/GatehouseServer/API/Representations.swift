import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// A user as the API shows it. Never includes the password hash.
struct UserRepresentation: ResponseEncodable {
    let id: String
    let email: String
    let name: String
    let employeeId: String?
    let title: String?
    let departmentId: String?
    let managerId: String?
    let role: String
    let active: Bool
    let privacyNoticeAcceptedAt: Date?
    let createdAt: Date
    let updatedAt: Date

    init(_ user: User) {
        id = "\(user.id)"
        email = user.email.value
        name = user.name
        employeeId = user.employeeID
        title = user.title
        departmentId = user.departmentID.map { "\($0)" }
        managerId = user.managerID.map { "\($0)" }
        role = user.role.rawValue
        active = user.isActive
        privacyNoticeAcceptedAt = user.privacyNoticeAcceptedAt
        createdAt = user.createdAt
        updatedAt = user.updatedAt
    }

    enum CodingKeys: CodingKey {
        case id, email, name, employeeId, title, departmentId, managerId, role, active, privacyNoticeAcceptedAt
        case createdAt, updatedAt
    }

    /// Every field is always present; an unset one is `null`, never missing.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(email, forKey: .email)
        try container.encode(name, forKey: .name)
        try container.encode(employeeId, forKey: .employeeId)
        try container.encode(title, forKey: .title)
        try container.encode(departmentId, forKey: .departmentId)
        try container.encode(managerId, forKey: .managerId)
        try container.encode(role, forKey: .role)
        try container.encode(active, forKey: .active)
        try container.encode(privacyNoticeAcceptedAt, forKey: .privacyNoticeAcceptedAt)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}

struct DepartmentRepresentation: Encodable {
    let id: String
    let name: String
    let createdAt: Date

    init(_ department: Department) {
        id = "\(department.id)"
        name = department.name
        createdAt = department.createdAt
    }
}

/// An API key as listings show it: enough to recognise it, never enough to use it.
struct APIKeyRepresentation: ResponseEncodable {
    struct Owner: Encodable {
        let type: String
        let id: String
    }

    let id: String
    let name: String
    let prefix: String
    let lastFour: String
    /// Null when the key carries everything its owner's role allows.
    let scopes: [String]?
    let owner: Owner
    let status: String
    /// The key's own limit, or null for the installation default.
    let rateLimitPerMinute: Int?
    let createdBy: String?
    let createdAt: Date
    let updatedAt: Date
    let expiresAt: Date?
    let lastUsedAt: Date?

    init(_ key: APIKey) {
        id = "\(key.id)"
        name = key.name
        prefix = key.prefix
        lastFour = key.lastFour
        scopes = key.scopes.names
        switch key.owner {
        case .user(let user): owner = Owner(type: "user", id: "\(user)")
        case .client(let client): owner = Owner(type: "client", id: client.value)
        }
        status = key.status.rawValue
        rateLimitPerMinute = key.rateLimitPerMinute
        createdBy = key.createdBy.map { "\($0)" }
        createdAt = key.createdAt
        updatedAt = key.updatedAt
        expiresAt = key.expiresAt
        lastUsedAt = key.lastUsedAt
    }

    enum CodingKeys: CodingKey {
        case id, name, prefix, lastFour, scopes, owner, status, rateLimitPerMinute, createdBy, createdAt, updatedAt
        case expiresAt, lastUsedAt
    }

    /// Every field is always present; `scopes: null` means the owner's rights, `expires_at: null` never.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(prefix, forKey: .prefix)
        try container.encode(lastFour, forKey: .lastFour)
        try container.encode(scopes, forKey: .scopes)
        try container.encode(owner, forKey: .owner)
        try container.encode(status, forKey: .status)
        try container.encode(rateLimitPerMinute, forKey: .rateLimitPerMinute)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(lastUsedAt, forKey: .lastUsedAt)
    }
}

extension ResponseEncodable {
    /// The answer that shows a secret (a key, a client secret) its one time: never stored by any cache.
    func showingSecret(status: HTTPResponse.Status, request: Request, context: AppRequestContext) throws -> Response {
        var response = try self.response(from: request, context: context)
        response.status = status
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

/// A password link (an invitation, a reset), the one time it is shown.
struct PasswordLinkRepresentation: ResponseEncodable {
    let url: String
    let expiresAt: Date
    /// Whether it was handed to the mail server for its user too.
    let emailed: Bool
}

/// The answer to adding a user without a password: the user's fields plus `invitation`, shown this once.
struct InvitedUser: ResponseEncodable {
    let user: UserRepresentation
    let invitation: PasswordLinkRepresentation

    func encode(to encoder: any Encoder) throws {
        try user.encode(to: encoder)
        var container = encoder.container(keyedBy: DynamicKey.self)
        try container.encode(invitation, forKey: DynamicKey("invitation"))
    }
}

/// The answer to creating a key: the listing fields plus `key`, the one time the key itself is shown.
struct CreatedAPIKey: ResponseEncodable {
    let apiKey: APIKeyRepresentation
    let key: String

    func encode(to encoder: any Encoder) throws {
        try apiKey.encode(to: encoder)
        var container = encoder.container(keyedBy: DynamicKey.self)
        try container.encode(key, forKey: DynamicKey("key"))
    }
}

/// A client application as the API shows it: never its secret, only when the previous one stops working.
struct ClientRepresentation: ResponseEncodable {
    let clientId: String
    let name: String
    let description: String?
    let logoUrl: String?
    let homepageUrl: String?
    let type: String
    let redirectUris: [String]
    let postLogoutRedirectUris: [String]
    let backchannelLogoutUri: String?
    let grantTypes: [String]
    let scopes: [String]
    let requirePkce: Bool
    let resourceServer: Bool
    let idTokenSignedResponseAlg: String
    let disabled: Bool
    /// After a rotation with a grace period: when the previous secret stops working.
    let previousSecretExpiresAt: Date?
    let createdBy: String?
    /// `admin`, or `app` / `app_with_token` for a client that registered itself (RFC 7591).
    let registeredBy: String
    /// For a client that registered itself: when it last got a token, to the day.
    let lastUsedAt: Date?
    let createdAt: Date
    let updatedAt: Date

    init(_ client: ClientApplication) {
        clientId = client.id.value
        name = client.name
        description = client.description
        logoUrl = client.logoURL
        homepageUrl = client.homepageURL
        type = client.type.rawValue
        redirectUris = client.redirectURIs.map(\.value)
        postLogoutRedirectUris = client.postLogoutRedirectURIs.map(\.value)
        backchannelLogoutUri = client.backchannelLogoutURI?.value
        grantTypes = client.grantTypes.sorted().map(\.rawValue)
        scopes = client.scopes.sorted().map(\.name)
        requirePkce = client.requirePKCE
        resourceServer = client.isResourceServer
        idTokenSignedResponseAlg = client.idTokenSigningAlgorithm.rawValue
        disabled = client.isDisabled
        previousSecretExpiresAt = client.secret?.previousExpiresAt
        createdBy = client.createdBy.map { "\($0)" }
        registeredBy = client.registeredBy.rawValue
        lastUsedAt = client.lastUsedAt
        createdAt = client.createdAt
        updatedAt = client.updatedAt
    }

    enum CodingKeys: CodingKey {
        case clientId, name, description, logoUrl, homepageUrl, type, redirectUris, postLogoutRedirectUris
        case backchannelLogoutUri, grantTypes, scopes, requirePkce, resourceServer, idTokenSignedResponseAlg, disabled,
            previousSecretExpiresAt
        case createdBy, registeredBy, lastUsedAt, createdAt, updatedAt
    }

    /// Every field is always present; an unset one is `null`, never missing.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(clientId, forKey: .clientId)
        try container.encode(name, forKey: .name)
        try container.encode(description, forKey: .description)
        try container.encode(logoUrl, forKey: .logoUrl)
        try container.encode(homepageUrl, forKey: .homepageUrl)
        try container.encode(type, forKey: .type)
        try container.encode(redirectUris, forKey: .redirectUris)
        try container.encode(postLogoutRedirectUris, forKey: .postLogoutRedirectUris)
        try container.encode(backchannelLogoutUri, forKey: .backchannelLogoutUri)
        try container.encode(grantTypes, forKey: .grantTypes)
        try container.encode(scopes, forKey: .scopes)
        try container.encode(requirePkce, forKey: .requirePkce)
        try container.encode(resourceServer, forKey: .resourceServer)
        try container.encode(idTokenSignedResponseAlg, forKey: .idTokenSignedResponseAlg)
        try container.encode(disabled, forKey: .disabled)
        try container.encode(previousSecretExpiresAt, forKey: .previousSecretExpiresAt)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(registeredBy, forKey: .registeredBy)
        try container.encode(lastUsedAt, forKey: .lastUsedAt)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}

/// The answer to registering a client or rotating its secret: the client plus `client_secret`, the one time
/// the secret is shown (absent for public clients).
struct ClientWithSecret: ResponseEncodable {
    let client: ClientRepresentation
    let secret: String?

    func encode(to encoder: any Encoder) throws {
        try client.encode(to: encoder)
        var container = encoder.container(keyedBy: DynamicKey.self)
        if let secret { try container.encode(secret, forKey: DynamicKey("client_secret")) }
    }
}

struct ScopeRepresentation: ResponseEncodable {
    let name: String
    let description: String
    let roles: [String]
    let builtIn: Bool

    init(_ definition: ScopeDefinition) {
        name = definition.scope.name
        description = definition.description
        roles = definition.roles.map(\.rawValue).sorted()
        builtIn = BuiltInScopes.holders[definition.scope] != nil
    }
}

struct AuditEventRepresentation: Encodable {
    struct Actor: Encodable {
        let userId: String?
        let credential: String

        enum CodingKeys: CodingKey { case userId, credential }

        /// `user_id` is `null` for actors without a user (service keys, the command line), never missing.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(userId, forKey: .userId)
            try container.encode(credential, forKey: .credential)
        }
    }

    let sequence: Int64?
    let action: String
    let actor: Actor
    let targetType: String
    let targetId: String
    let address: String?
    let details: [String: String]
    let occurredAt: Date

    init(_ event: AuditEvent) {
        sequence = event.sequence
        action = event.action
        actor = Actor(userId: event.actor.user.map { "\($0)" }, credential: event.actor.credential)
        targetType = event.targetKind
        targetId = event.targetID
        address = event.address
        details = event.details
        occurredAt = event.occurredAt
    }
}

/// A listing: `{"<name>": [...]}` plus, for paged ones, where the next page starts (absent on the last).
struct Listing<Item: Encodable>: ResponseEncodable {
    let items: [Item]
    let name: String
    var nextBefore: Int64? = nil
    var nextCursor: String? = nil

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        try container.encode(items, forKey: DynamicKey(name))
        if let nextBefore { try container.encode(nextBefore, forKey: DynamicKey("next_before")) }
        if let nextCursor { try container.encode(nextCursor, forKey: DynamicKey("next_cursor")) }
    }
}

struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer {
    /// For PATCH fields that cannot be cleared: absent is nil, `null` is refused (`valueNotFound`).
    func decodeUnlessAbsent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key) else { return nil }
        return try decode(T.self, forKey: key)
    }

    /// Three states for PATCH bodies: absent (nil), null (`.some(nil)`), or a value.
    func decodePatch<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T?? {
        guard contains(key) else { return nil }
        if try decodeNil(forKey: key) { return .some(nil) }
        return .some(try decode(T.self, forKey: key))
    }
}

extension Parameters {
    /// A path identifier as a typed id; anything that is not a UUID names nothing, so it is 404.
    func id<Entity>(_ name: String, of: Entity.Type = Entity.self) throws -> Identifier<Entity> {
        guard let text = get(name), let uuid = UUID(uuidString: text) else { throw APIError.notFound() }
        return Identifier(uuid)
    }
}
