import Foundation

/// Identifies a workspace, the tenant boundary.
package struct WorkspaceID: Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: UUID
    package init(_ rawValue: UUID = UUID()) { self.rawValue = rawValue }
    package var description: String { rawValue.uuidString.lowercased() }
}

/// Identifies a user.
package struct UserID: Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: UUID
    package init(_ rawValue: UUID = UUID()) { self.rawValue = rawValue }
    package var description: String { rawValue.uuidString.lowercased() }
}

/// Identifies a department.
package struct DepartmentID: Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: UUID
    package init(_ rawValue: UUID = UUID()) { self.rawValue = rawValue }
    package var description: String { rawValue.uuidString.lowercased() }
}
