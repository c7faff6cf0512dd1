import Foundation

/// A record's identity, typed by what it identifies so a `UserID` can never be passed where a
/// `WorkspaceID` is wanted.
///
/// New identifiers are UUIDv7 (RFC 9562 §5.7): they start with the time they were made, so records made one
/// after another sit side by side in every index, and inserting one touches the index's last page rather than
/// a random one. They are names, not secrets.
package struct Identifier<Entity>: Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: UUID
    package init(_ rawValue: UUID = .timeOrdered()) { self.rawValue = rawValue }
    /// Lowercase UUID text, as stored and shown.
    package var description: String { rawValue.lowercasedText }
}

/// Identifies a workspace, the tenant boundary.
package typealias WorkspaceID = Identifier<Workspace>
/// Identifies a user.
package typealias UserID = Identifier<User>
/// Identifies a department.
package typealias DepartmentID = Identifier<Department>

extension UUID {
    /// A UUIDv7: 48 bits of Unix milliseconds, then 74 random bits (RFC 9562 §5.7). The time is the system's,
    /// only for ordering; no rule of Gatehouse reads it back.
    package static func timeOrdered(at date: Date = Date()) -> UUID {
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var bytes = SecretGenerator.randomBytes(16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64(index))) }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)  // version 7
        bytes[8] = 0x80 | (bytes[8] & 0x3F)  // variant 10
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// Parses the 36-character text form (`8-4-4-4-12` hex digits, either case), as `init(uuidString:)` does,
    /// without the `sscanf` Foundation parses with on Linux: the store reads several ids a request.
    package init?(text: String) {
        var bytes = [UInt8](repeating: 0, count: 16)
        let parsed = text.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            guard utf8.count == 36 else { return false }
            var byte = 0
            var index = 0
            while index < 36 {
                if index == 8 || index == 13 || index == 18 || index == 23 {
                    guard utf8[index] == UInt8(ascii: "-") else { return false }
                    index += 1
                    continue
                }
                guard let high = hexDigitValue(utf8[index]), let low = hexDigitValue(utf8[index + 1]) else {
                    return false
                }
                bytes[byte] = high << 4 | low
                byte += 1
                index += 2
            }
            return true
        }
        switch parsed {
        case true?:
            self.init(
                uuid: (
                    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                    bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
                ))
        case false?: return nil
        case nil: self.init(uuidString: text)
        }
    }

    /// The lowercase 36-character text form, as the store keeps ids: what `uuidString.lowercased()` gives,
    /// without the `sprintf` and the second string Foundation takes for it on Linux.
    package var lowercasedText: String {
        String(unsafeUninitializedCapacity: 36) { text in
            withUnsafeBytes(of: uuid) { bytes in
                var index = 0
                for (offset, byte) in bytes.enumerated() {
                    if offset == 4 || offset == 6 || offset == 8 || offset == 10 {
                        text[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    text[index] = lowercaseHexDigits[Int(byte >> 4)]
                    text[index + 1] = lowercaseHexDigits[Int(byte & 0x0F)]
                    index += 2
                }
            }
            return 36
        }
    }
}
