/// One versioned schema change, written once per backend.
package struct Migration: Sendable {
    /// Applied in ascending order; recorded in `gatehouse_migrations` once applied.
    package let version: Int
    /// A short description, recorded with the version.
    package let name: String
    /// The statements, run in order in one transaction.
    package let statements: [String]
}
