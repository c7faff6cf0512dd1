import Foundation

/// A person in a workspace, with the role that bounds everything their keys and tokens may do.
package struct User: Equatable, Sendable {
    package var id: UserID
    package var workspaceID: WorkspaceID
    package var email: EmailAddress
    package var name: String
    package var employeeID: String?
    package var title: String?
    package var departmentID: DepartmentID?
    package var managerID: UserID?
    package var role: Role
    package var isActive: Bool
    /// When the user accepted the privacy notice; until then their credentials are refused.
    package var privacyNoticeAcceptedAt: Date?
    /// Absent until the user (or an admin for them) sets a password.
    package var passwordHash: PasswordHash?
    package var createdAt: Date
    package var updatedAt: Date

    package init(
        id: UserID = UserID(), workspaceID: WorkspaceID, email: EmailAddress, name: String,
        employeeID: String? = nil, title: String? = nil, departmentID: DepartmentID? = nil,
        managerID: UserID? = nil, role: Role, isActive: Bool = true, privacyNoticeAcceptedAt: Date? = nil,
        passwordHash: PasswordHash? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.email = email
        self.name = name
        self.employeeID = employeeID
        self.title = title
        self.departmentID = departmentID
        self.managerID = managerID
        self.role = role
        self.isActive = isActive
        self.privacyNoticeAcceptedAt = privacyNoticeAcceptedAt
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// An email address as Gatehouse keys users by it: trimmed and lower-cased, so `Ann@X.com` and
/// `ann@x.com` are one account.
package struct EmailAddress: Hashable, Sendable, CustomStringConvertible {
    package let value: String
    package var description: String { value }

    /// Parses `raw`, or says why it is not an address.
    package init(_ raw: String) throws(DomainError) {
        let normalized = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = normalized.split(separator: "@", omittingEmptySubsequences: false)
        let forbidden = CharacterSet.whitespacesAndNewlines.union(.controlCharacters)
        guard
            normalized.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !normalized.unicodeScalars.contains(where: { forbidden.contains($0) })
        else {
            throw .invalidInput(field: "email", message: "'\(raw)' is not a valid email address.")
        }
        self.value = normalized
    }

    /// An address as the store keeps it: it passed `init(_:)` before it was stored, so it is not checked again
    /// on every read.
    package init(stored value: String) {
        self.value = value
    }
}

/// What a user is allowed to do, from most to least powerful.
package enum Role: String, CaseIterable, Codable, Sendable {
    case superAdmin = "super_admin"
    case admin = "admin"
    case hrAdmin = "hr_admin"
    case user = "user"

    /// Parses a role name as the API and CLI spell it, or lists the valid ones.
    package init(parsing raw: String) throws(DomainError) {
        guard let role = Role(rawValue: raw) else {
            let names = Role.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidInput(field: "role", message: "'\(raw)' is not a role; use one of \(names).")
        }
        self = role
    }

    /// The role a credential bounded by both `self` and `other` acts with, for the one rule that goes by role
    /// (only a super admin grants administrator roles): a super admin bounded by another role is that role;
    /// two different lesser roles meet at a plain user.
    package func bounded(by other: Role) -> Role {
        if self == other || other == .superAdmin { return self }
        if self == .superAdmin { return other }
        return .user
    }
}
