/// A named permission a credential can carry, such as `users:read`.
package struct Scope: Hashable, Sendable, Comparable, CustomStringConvertible {
    package let name: String
    package var description: String { name }

    /// Parses a scope token (RFC 6749 §3.3: printable ASCII without space, `"` or `\`), kept to
    /// 1–64 lowercase letters, digits and `:_.-` so that scopes read the same everywhere.
    package init(_ raw: String) throws(DomainError) {
        let allowed = raw.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || ":_.-".unicodeScalars.contains($0)
        }
        guard (1...64).contains(raw.count), allowed else {
            throw .invalidInput(
                field: "scope",
                message: "'\(raw)' is not a valid scope: use 1 to 64 lowercase letters, digits, ':', '_', '.' or '-'.")
        }
        self.name = raw
    }

    private init(builtIn name: String) { self.name = name }

    package static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.name < rhs.name }

    /// OpenID Connect: an ID token and `/oauth/userinfo`.
    package static let openid = Scope(builtIn: "openid")
    package static let profile = Scope(builtIn: "profile")
    /// OpenID Connect: the user's email address in the ID token and userinfo.
    package static let email = Scope(builtIn: "email")
    package static let usersRead = Scope(builtIn: "users:read")
    package static let usersWrite = Scope(builtIn: "users:write")
    package static let departmentsRead = Scope(builtIn: "departments:read")
    package static let clientsRead = Scope(builtIn: "clients:read")
    package static let clientsWrite = Scope(builtIn: "clients:write")
    package static let apiKeysRead = Scope(builtIn: "api_keys:read")
    package static let apiKeysWrite = Scope(builtIn: "api_keys:write")
    package static let auditRead = Scope(builtIn: "audit:read")
    /// Standard OpenID Connect scopes that Gatehouse does not grant (`BuiltInScopes.unheldOpenIDScopes`).
    package static let address = Scope(builtIn: "address")
    package static let phone = Scope(builtIn: "phone")
    package static let offlineAccess = Scope(builtIn: "offline_access")
}

/// The scopes Gatehouse itself defines, and which roles hold each.
package enum BuiltInScopes {
    /// Every built-in scope with the roles that hold it.
    package static let holders: [Scope: Set<Role>] = [
        .openid: Set(Role.allCases),
        .profile: Set(Role.allCases),
        .email: Set(Role.allCases),
        .usersRead: [.superAdmin, .admin, .hrAdmin],
        .usersWrite: [.superAdmin, .hrAdmin],
        .departmentsRead: [.superAdmin, .admin, .hrAdmin],
        .clientsRead: [.superAdmin, .admin],
        .clientsWrite: [.superAdmin, .admin],
        .apiKeysRead: [.superAdmin, .admin],
        .apiKeysWrite: [.superAdmin, .admin],
        .auditRead: [.superAdmin],
    ]

    /// The scopes about the signed-in person themselves, which every role holds.
    package static let personal: Set<Scope> = [.openid, .profile, .email]

    /// Standard OpenID Connect scopes Gatehouse holds nothing for: `address` and `phone` (Core §5.4; a user has
    /// neither), and `offline_access` (§11; refresh tokens come from a client's `refresh_token` grant type
    /// instead). Discovery does not offer them, and an OpenID Connect request that asks for them gets the rest,
    /// as Core §3.1.2.1 says scope values not understood are ignored. A workspace may still define its own
    /// scope by one of these names, which then means that.
    package static let unheldOpenIDScopes: Set<Scope> = [.address, .phone, .offlineAccess]

    /// The scopes that manage Gatehouse itself; a new client does not get them unless asked for.
    package static let administrative: Set<Scope> = Set(holders.keys).subtracting(personal)

    /// The built-in scopes `role` holds.
    package static func scopes(of role: Role) -> Set<Scope> {
        Set(holders.compactMap { scope, roles in roles.contains(role) ? scope : nil })
    }

    /// What each built-in scope allows, for listings.
    package static let descriptions: [Scope: String] = [
        .openid: "Sign you in to the application with OpenID Connect.",
        .profile: "Read your name and profile (GET /api/v1/me).",
        .email: "Read your email address.",
        .usersRead: "List and read users.",
        .usersWrite: "Create and change users.",
        .departmentsRead: "List departments.",
        .clientsRead: "List and read client applications.",
        .clientsWrite: "Register, change and delete client applications.",
        .apiKeysRead: "List and read API keys.",
        .apiKeysWrite: "Create, change, revoke and reactivate API keys, and define scopes.",
        .auditRead: "Read the audit trail.",
    ]
}
