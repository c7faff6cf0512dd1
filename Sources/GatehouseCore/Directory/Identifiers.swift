import Foundation

/// A record's identity, typed by what it identifies so a `UserID` can never be passed where a
/// `WorkspaceID` is wanted.
package struct Identifier<Entity>: Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: UUID
    package init(_ rawValue: UUID = UUID()) { self.rawValue = rawValue }
    /// Lowercase UUID text, as stored and shown.
    package var description: String { rawValue.uuidString.lowercased() }
}

/// Identifies a workspace, the tenant boundary.
package typealias WorkspaceID = Identifier<Workspace>
/// Identifies a user.
package typealias UserID = Identifier<User>
/// Identifies a department.
package typealias DepartmentID = Identifier<Department>
