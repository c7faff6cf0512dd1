/// JSON text written straight to bytes: the string escaping every JSON writer here shares, and a small writer
/// for flat objects of strings and integers (token claims).
package enum JSONText {
    /// Writes `string` as a JSON string, quotes included, by handing `emit` the runs of bytes in order:
    /// quotes, backslashes and control characters escaped, everything else as its UTF-8.
    package static func writeString(_ string: String, _ emit: (UnsafeRawBufferPointer) -> Void) {
        emitStatic("\"", emit)
        var string = string
        string.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                emit(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<index]))
                start = index + 1
                switch byte {
                case 0x22: emitStatic("\\\"", emit)
                case 0x5C: emitStatic("\\\\", emit)
                case 0x08: emitStatic("\\b", emit)
                case 0x0C: emitStatic("\\f", emit)
                case 0x0A: emitStatic("\\n", emit)
                case 0x0D: emitStatic("\\r", emit)
                case 0x09: emitStatic("\\t", emit)
                default:
                    let escape: [UInt8] =
                        Array("\\u00".utf8) + [lowercaseHexDigits[Int(byte >> 4)], lowercaseHexDigits[Int(byte & 0xF)]]
                    escape.withUnsafeBytes(emit)
                }
            }
            emit(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...]))
        }
        emitStatic("\"", emit)
    }

    private static func emitStatic(_ text: StaticString, _ emit: (UnsafeRawBufferPointer) -> Void) {
        emit(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}

/// A flat JSON object written member by member, as JWT claims are: names as given, absent optionals left out
/// (as `Codable` leaves them out).
package struct JSONObjectWriter {
    private var bytes: [UInt8]
    private var empty = true

    package init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    package mutating func member(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        startMember(name)
        JSONText.writeString(value) { bytes.append(contentsOf: $0) }
    }

    package mutating func member(_ name: StaticString, _ value: Int64?) {
        guard let value else { return }
        startMember(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// The object's text.
    package consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private mutating func startMember(_ name: StaticString) {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(contentsOf: "\":".utf8)
    }
}
