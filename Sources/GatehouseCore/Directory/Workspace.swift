import Foundation

/// A tenant: its users, clients, keys and tokens never reach another workspace.
package struct Workspace: Equatable, Sendable {
    package var id: WorkspaceID
    package var name: String
    package var slug: WorkspaceSlug
    package var createdAt: Date
    /// Whether super admins, admins and HR admins must sign in with a second factor: one who has none sets it
    /// up at their next sign-in, before any other page.
    package var requiresAdminTwoFactor: Bool
    /// Whether apps may register themselves here (RFC 7591).
    package var clientRegistration: ClientRegistrationPolicy = .off

    package init(
        id: WorkspaceID = WorkspaceID(), name: String, slug: WorkspaceSlug, createdAt: Date,
        requiresAdminTwoFactor: Bool = false
    ) {
        self.id = id
        self.name = name
        self.slug = slug
        self.createdAt = createdAt
        self.requiresAdminTwoFactor = requiresAdminTwoFactor
    }

    /// The roles the two-factor requirement covers.
    package static let administratorRoles: Set<Role> = [.superAdmin, .admin, .hrAdmin]

    /// Whether `user` of this workspace must have a second factor.
    package func requiresTwoFactor(of user: User) -> Bool {
        requiresAdminTwoFactor && Self.administratorRoles.contains(user.role)
    }
}

/// Whether apps may register themselves in a workspace (RFC 7591).
package enum ClientRegistrationPolicy: String, CaseIterable, Sendable {
    /// Only admins register clients. The default.
    case off
    /// An app needs an initial access token an admin issued.
    case token
    /// Any app may register a public client with PKCE and no administrative scope; an initial access token
    /// still works, for more.
    case open

    package init(parsing raw: String) throws(DomainError) {
        guard let policy = ClientRegistrationPolicy(rawValue: raw) else {
            throw .invalidInput(
                field: "client_registration", message: "'\(raw.prefix(32))' is not a policy; use off, token or open.")
        }
        self = policy
    }
}

/// A workspace's short name in URLs and commands: 2 to 63 lowercase letters, digits and inner hyphens.
package struct WorkspaceSlug: Hashable, Sendable, CustomStringConvertible {
    package let value: String
    package var description: String { value }

    /// Parses `raw`, or says which rule it breaks.
    package init(_ raw: String) throws(DomainError) {
        let allowed = raw.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
        }
        guard (2...63).contains(raw.count), allowed, raw.first != "-", raw.last != "-" else {
            throw .invalidInput(
                field: "slug",
                message: "The slug '\(raw)' must be 2 to 63 lowercase letters, digits or hyphens, "
                    + "and may not start or end with a hyphen.")
        }
        self.value = raw
    }

    private init(verbatim: String) { self.value = verbatim }

    /// The workspace the first start makes: `default`.
    package static let firstRun = WorkspaceSlug(verbatim: FirstRun.defaultWorkspaceSlug)
}

/// Whether `text` is at most `characters` characters long, and at most four bytes of UTF-8 for each. A
/// character is a grapheme cluster, which may hold any number of scalars (one letter with 400,000 combining
/// accents is one character), so the character count alone bounds nothing.
package func isWithin(_ text: String, characters: Int) -> Bool {
    text.utf8.count <= characters * 4 && text.count <= characters
}

/// A display name: trimmed, 1 to 200 characters (and at most 800 bytes), no control characters.
package struct DisplayName: Hashable, Sendable {
    package let value: String

    /// Parses `raw` for the field called `field`, or says which rule it breaks.
    package init(_ raw: String, field: String = "name") throws(DomainError) {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .invalidInput(field: field, message: "The \(field) must not be empty.") }
        guard isWithin(trimmed, characters: 200) else {
            throw .invalidInput(
                field: field, message: "The \(field) must be at most 200 characters (and 800 bytes) long.")
        }
        guard !trimmed.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            throw .invalidInput(field: field, message: "The \(field) must not contain control characters.")
        }
        self.value = trimmed
    }
}
