import Foundation
import GatehouseCore
import Hummingbird

/// `/api/v1/client-registration`: whether apps may register themselves (RFC 7591) in the caller's workspace,
/// and the initial access tokens admins issue for them.
struct RegistrationAdminController {
    let administration: RegistrationAdministration

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.get("client-registration") { _, context in
            let caller = try context.caller()
            return RegistrationPolicyRepresentation(
                policy: try await administration.policy(in: try workspace(of: caller), by: caller))
        }
        api.put("client-registration") { request, context in
            let caller = try context.caller()
            let body = try await request.decodeBody(as: RegistrationPolicyBody.self, context: context)
            let changed = try await administration.setPolicy(
                try ClientRegistrationPolicy(parsing: body.policy), in: try workspace(of: caller), by: caller)
            return RegistrationPolicyRepresentation(policy: changed.clientRegistration)
        }
        api.get("client-registration/tokens") { _, context in
            let caller = try context.caller()
            let tokens = try await administration.tokens(in: try workspace(of: caller), by: caller)
            return Listing(items: tokens.map(InitialAccessTokenRepresentation.init), name: "tokens")
        }
        api.post("client-registration/tokens") { request, context in
            let caller = try context.caller()
            let body = try await request.decodeBody(as: NewInitialAccessTokenBody.self, context: context)
            let (token, secret) = try await administration.issueToken(
                label: try DisplayName(body.label, field: "label"),
                scopes: try body.scopes.map { Set(try $0.map { try Scope($0) }) }, singleUse: body.singleUse ?? true,
                lifetime: body.expiresIn.map(TimeInterval.init), in: try workspace(of: caller), by: caller)
            return try IssuedInitialAccessToken(details: .init(token), token: secret.value)
                .showingSecret(status: .created, request: request, context: context)
        }
        api.delete("client-registration/tokens/{id}") { _, context in
            guard let text = context.parameters.get("id"), let uuid = UUID(text: text) else {
                throw APIError.notFound("There is no such initial access token.")
            }
            _ = try await administration.revokeToken(InitialAccessTokenID(uuid), by: try context.caller())
            return Response(status: .noContent)
        }
    }
}

struct RegistrationPolicyBody: RequestBody {
    static let fields = ["policy"]
    let policy: String
}

struct RegistrationPolicyRepresentation: ResponseEncodable {
    let policy: String

    init(policy: ClientRegistrationPolicy) { self.policy = policy.rawValue }
}

struct NewInitialAccessTokenBody: RequestBody {
    static let fields = ["label", "scopes", "single_use", "expires_in"]

    let label: String
    let scopes: [String]?
    let singleUse: Bool?
    let expiresIn: Int?
}

struct InitialAccessTokenRepresentation: ResponseEncodable {
    let id: String
    let label: String
    let scopes: [String]
    let singleUse: Bool
    let expiresAt: Date?
    let createdBy: String?
    let createdAt: Date
    let uses: Int
    let lastUsedAt: Date?
    let revokedAt: Date?

    init(_ token: InitialAccessToken) {
        id = "\(token.id)"
        label = token.label
        scopes = token.scopes.map(\.name).sorted()
        singleUse = token.singleUse
        expiresAt = token.expiresAt
        createdBy = token.createdBy.map { "\($0)" }
        createdAt = token.createdAt
        uses = token.uses
        lastUsedAt = token.lastUsedAt
        revokedAt = token.revokedAt
    }

    enum CodingKeys: CodingKey {
        case id, label, scopes, singleUse, expiresAt, createdBy, createdAt, uses, lastUsedAt, revokedAt
    }

    /// Every field is always present; an unset one is `null`.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(label, forKey: .label)
        try container.encode(scopes, forKey: .scopes)
        try container.encode(singleUse, forKey: .singleUse)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(uses, forKey: .uses)
        try container.encode(lastUsedAt, forKey: .lastUsedAt)
        try container.encode(revokedAt, forKey: .revokedAt)
    }
}

/// A new initial access token: its details, and the token itself, shown this once.
struct IssuedInitialAccessToken: ResponseEncodable {
    let details: InitialAccessTokenRepresentation
    let token: String

    func encode(to encoder: any Encoder) throws {
        try details.encode(to: encoder)
        var container = encoder.container(keyedBy: DynamicKey.self)
        try container.encode(token, forKey: DynamicKey("token"))
    }
}
