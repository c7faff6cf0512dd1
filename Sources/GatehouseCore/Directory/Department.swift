import Foundation

/// A group of users inside one workspace; names are unique per workspace.
package struct Department: Equatable, Sendable {
    package var id: DepartmentID
    package var workspaceID: WorkspaceID
    package var name: String
    package var createdAt: Date

    package init(id: DepartmentID = DepartmentID(), workspaceID: WorkspaceID, name: String, createdAt: Date) {
        self.id = id
        self.workspaceID = workspaceID
        self.name = name
        self.createdAt = createdAt
    }
}
