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

    static func roles(_ roles: Set<Role>) -> String {
        roles.map(\.rawValue).sorted().joined(separator: " ")
    }

    static func roles(_ text: String) throws -> Set<Role> {
        Set(try text.split(separator: " ").map { try Role(parsing: String($0)) })
    }

    /// Audit details as a JSON object with sorted keys.
    static func details(_ details: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(details)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func details(_ text: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
    }

    /// A rate-limit window start as whole seconds since 1970.
    static func windowStart(_ date: Date) -> Int64 {
        Int64(date.timeIntervalSince1970.rounded(.down))
    }
}
