import Foundation
import GatehouseCore

/// How both backends spell domain values in columns, so they read back identically.
enum StoredForm {
    /// Scopes as one space-separated, sorted string; nil for a key that carries its owner's rights.
    static func scopes(_ scopes: KeyScopes) -> String? {
        scopes.names?.joined(separator: " ")
    }

    static func scopes(_ text: String?) throws -> KeyScopes {
        try KeyScopes(names: text.map { $0.split(separator: " ").map(String.init) })
    }

    /// A set of scopes (a client's) as one space-separated, sorted string.
    static func scopeSet(_ scopes: Set<Scope>) -> String {
        scopes.sorted().map(\.name).joined(separator: " ")
    }

    static func scopeSet(_ text: String) throws -> Set<Scope> {
        Set(try text.split(separator: " ").map { try Scope(String($0)) })
    }

    static func grantTypes(_ grants: Set<GrantType>) -> String {
        grants.sorted().map(\.rawValue).joined(separator: " ")
    }

    static func grantTypes(_ text: String) throws -> Set<GrantType> {
        Set(try text.split(separator: " ").map { try GrantType(parsing: String($0)) })
    }

    /// Redirect URIs one per line, in the order they were registered (they never contain whitespace).
    static func redirectURIs(_ uris: [RedirectURI]) -> String {
        uris.map(\.value).joined(separator: "\n")
    }

    static func redirectURIs(_ text: String) throws -> [RedirectURI] {
        try text.split(separator: "\n").map { try RedirectURI(String($0)) }
    }

    /// A consent's terms as its `client_redirect_uris` (one per line), `client_grant_types` and `client_scopes`
    /// columns hold them; all nil for a consent stored before terms were kept.
    static func terms(_ terms: ConsentTerms?) -> (redirectURIs: String?, grantTypes: String?, scopes: String?) {
        guard let terms else { return (nil, nil, nil) }
        return (
            terms.redirectURIs.sorted().joined(separator: "\n"), grantTypes(terms.grantTypes), scopeSet(terms.scopes)
        )
    }

    static func terms(redirectURIs: String?, grantTypes: String?, scopes: String?) throws -> ConsentTerms? {
        guard let redirectURIs, let grantTypes, let scopes else { return nil }
        return ConsentTerms(
            redirectURIs: Set(redirectURIs.split(separator: "\n").map(String.init)),
            grantTypes: try Self.grantTypes(grantTypes), scopes: try scopeSet(scopes))
    }

    /// A key's owner as the `owner_kind`, `owner_user_id` and `owner_client_id` columns hold it.
    static func owner(_ owner: KeyOwner) -> (kind: String, user: UserID?, client: ClientID?) {
        switch owner {
        case .user(let id): ("user", id, nil)
        case .client(let id): ("client", nil, id)
        }
    }

    static func owner(kind: String, user: UUID?, client: String?) throws -> KeyOwner {
        switch (kind, user, client) {
        case ("user", let user?, _): .user(UserID(user))
        case ("client", _, let client?): .client(try ClientID(client))
        default: throw StoreUnavailable("malformed API key owner in the database")
        }
    }

    /// Authentication methods (`amr`) as one space-separated string, in the order they were used.
    static func amr(_ methods: [String]?) -> String? {
        methods.map { $0.joined(separator: " ") }
    }

    static func amr(_ text: String?) -> [String]? {
        text.map { $0.split(separator: " ").map(String.init) }
    }

    static func roles(_ roles: Set<Role>) -> String {
        roles.map(\.rawValue).sorted().joined(separator: " ")
    }

    static func roles(_ text: String) throws -> Set<Role> {
        Set(try text.split(separator: " ").map { try Role(parsing: String($0)) })
    }

    /// Audit details as a JSON object with sorted keys.
    static func details(_ details: [String: String]) -> String {
        (try? JSONWriter().string(details)) ?? "{}"
    }

    static func details(_ text: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
    }

    /// A rate-limit window start as whole seconds since 1970.
    static func windowStart(_ date: Date) -> Int64 {
        Int64(date.timeIntervalSince1970.rounded(.down))
    }
}
