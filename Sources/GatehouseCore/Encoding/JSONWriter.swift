import Foundation
import Synchronization

/// The one JSON writer of Gatehouse: every response body, every error, every token's header and claims, and the
/// audit details the stores keep. snake_case keys, sorted; ISO 8601 dates in UTC to the second; slashes not
/// escaped.
///
/// The output is byte for byte what Foundation's `JSONEncoder` writes with `.convertToSnakeCase`, `.iso8601`,
/// `.sortedKeys` and `.withoutEscapingSlashes` (a test holds it to that), at a fraction of the cost: a user's
/// representation in about 10 µs where Foundation takes 29 µs, or 16 µs with snake_case coding keys and no key
/// strategy (`swift run -c release GatehouseBenchmarks`). It builds a small tree, sorts each object's keys and
/// writes bytes; keys that are already snake_case are taken as they are, others converted once and remembered.
package struct JSONWriter: Sendable {
    package init() {}

    /// The JSON text of `value`.
    package func encode(_ value: some Encodable) throws -> [UInt8] {
        let node = try JSONNode.of(value, codingPath: [])
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        node.write(to: &bytes)
        return bytes
    }

    /// The JSON text of `value`, as a string.
    package func string(_ value: some Encodable) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }

    /// `value` as the plain values a template reads: an object as `[String: Any]` under the same snake_case keys
    /// its JSON has, an array as `[Any]`, strings, `Bool`s and numbers. `null`s are left out, so a template sees
    /// an absent optional as a missing key.
    package func templateValues(_ value: some Encodable) throws -> [String: Any] {
        try JSONNode.of(value, codingPath: []).plain as? [String: Any] ?? [:]
    }
}

/// A value on its way to JSON text.
private enum JSONNode {
    /// Written as it is: `null`, `true`, a number.
    case literal(String)
    case string(String)
    case array(JSONArray)
    case object(JSONObject)

    static var null: JSONNode { .literal("null") }

    static func of<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> JSONNode {
        // Types Foundation writes its own way, told apart by their type: cheaper than a cast per value.
        if T.self == String.self, let string = value as? String { return .string(string) }
        if T.self == Date.self, let date = value as? Date { return .string(ISO8601.string(date)) }
        if T.self == URL.self, let url = value as? URL { return .string(url.absoluteString) }
        if T.self == Data.self, let data = value as? Data { return .string(data.base64EncodedString()) }
        // Optional fields, which every representation has and which would otherwise each take an encoder.
        if T.self == String?.self, let string = value as? String? { return string.map { .string($0) } ?? .null }
        if T.self == Date?.self, let date = value as? Date? { return date.map { .string(ISO8601.string($0)) } ?? .null }
        if let dictionary = value as? any StringKeyedDictionary {
            // Foundation leaves a dictionary's own keys as they are: they are data, not property names.
            let object = JSONObject()
            try dictionary.encodeMembers(into: object, codingPath: codingPath)
            return .object(object)
        }
        let encoder = NodeEncoder(codingPath: codingPath)
        try value.encode(to: encoder)
        // A value that encodes nothing is an empty object, as with Foundation.
        return encoder.node ?? .object(JSONObject())
    }

    static func number(_ value: some BinaryInteger) -> JSONNode { .literal(String(value)) }

    /// The node as plain values (`templateValues`); nil for `null`.
    var plain: Any? {
        switch self {
        case .literal("null"): nil
        case .literal("true"): true
        case .literal("false"): false
        case .literal(let number): Int(number).map { $0 as Any } ?? Double(number) ?? number
        case .string(let text): text
        case .array(let array): array.elements.compactMap(\.plain)
        case .object(let object):
            Dictionary(object.members.compactMap { member in member.value.plain.map { (member.key, $0) } }) { $1 }
        }
    }

    static func number(_ value: some BinaryFloatingPoint & LosslessStringConvertible, codingPath: [any CodingKey])
        throws -> JSONNode
    {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: codingPath, debugDescription: "JSON has no infinite or NaN numbers."))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return .literal(text)
    }

    func write(to bytes: inout [UInt8]) {
        switch self {
        case .literal(let text): bytes.append(contentsOf: text.utf8)
        case .string(let text): JSONText.writeString(text, to: &bytes)
        case .array(let array):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in array.elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                element.write(to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            // Sorted by their UTF-8 bytes, as Foundation's `.sortedKeys` sorts them on Linux.
            let members = object.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (index, member) in members.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                JSONText.writeString(member.key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                member.value.write(to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }
}

private final class JSONArray {
    var elements: [JSONNode] = []
}

private final class JSONObject {
    var members: [(key: String, value: JSONNode)] = []

    func set(_ key: String, _ value: JSONNode) {
        // A key encoded twice keeps its last value, as in a dictionary.
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].value = value
        } else {
            members.append((key, value))
        }
    }
}

/// `[String: V]`, whose keys are written as they are.
private protocol StringKeyedDictionary {
    func encodeMembers(into object: JSONObject, codingPath: [any CodingKey]) throws
}

extension Dictionary: StringKeyedDictionary where Key == String, Value: Encodable {
    fileprivate func encodeMembers(into object: JSONObject, codingPath: [any CodingKey]) throws {
        for (key, value) in self {
            object.set(key, try JSONNode.of(value, codingPath: codingPath + [JSONKey(key)]))
        }
    }
}

private struct JSONKey: CodingKey {
    let stringValue: String
    let intValue: Int?
    init(_ string: String) {
        stringValue = string
        intValue = nil
    }
    init(stringValue: String) { self.init(stringValue) }
    init(intValue: Int) {
        stringValue = "Index \(intValue)"
        self.intValue = intValue
    }
}

/// Property names to snake_case, the way Foundation's `.convertToSnakeCase` does it, each name converted once.
enum SnakeCase {
    private static let converted = Mutex<[String: String]>([:])

    static func key(_ name: String) -> String {
        // Most keys are snake_case already (claims, raw-valued coding keys): nothing to convert, nothing to lock.
        if name.utf8.allSatisfy({ $0 < 0x80 && !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) {
            return name
        }
        if let known = converted.withLock({ $0[name] }) { return known }
        let key = convert(name)
        converted.withLock { $0[name] = key }
        return key
    }

    /// Words start at an uppercase letter; a run of capitals is a word of its own up to the capital before the
    /// next lowercase letter ("myURLValue" → "my_url_value"). Each word is lowercased and joined with "_".
    static func convert(_ name: String) -> String {
        let scalars = Array(name.unicodeScalars)
        guard !scalars.isEmpty else { return name }
        var words: [Range<Int>] = []
        var wordStart = 0
        var search = 1
        while let upper = scalars[search...].firstIndex(where: { $0.properties.isUppercase }) {
            words.append(wordStart..<upper)
            guard let lower = scalars[upper...].firstIndex(where: { $0.properties.isLowercase }) else {
                wordStart = upper
                search = scalars.count
                break
            }
            if lower == upper + 1 {
                wordStart = upper
            } else {
                words.append(upper..<(lower - 1))
                wordStart = lower - 1
            }
            search = lower + 1
            if search > scalars.count { break }
        }
        words.append(wordStart..<scalars.count)
        return words.map { range in
            var word = String.UnicodeScalarView()
            word.append(contentsOf: scalars[range])
            return String(word).lowercased()
        }.joined(separator: "_")
    }
}

/// Dates as Foundation's `.iso8601` strategy writes them: `2026-11-23T09:41:07Z`, whole seconds, UTC.
enum ISO8601 {
    static func string(_ date: Date) -> String {
        let seconds = Int64((date.timeIntervalSince1970).rounded(.down))
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil date from days since 1970 (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)

        var text = [UInt8](repeating: 0, count: 20)
        func put(_ value: Int64, at offset: Int, digits: Int) {
            var value = value
            for position in stride(from: offset + digits - 1, through: offset, by: -1) {
                text[position] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(year, at: 0, digits: 4)
        text[4] = UInt8(ascii: "-")
        put(month, at: 5, digits: 2)
        text[7] = UInt8(ascii: "-")
        put(day, at: 8, digits: 2)
        text[10] = UInt8(ascii: "T")
        put(secondOfDay / 3600, at: 11, digits: 2)
        text[13] = UInt8(ascii: ":")
        put(secondOfDay / 60 % 60, at: 14, digits: 2)
        text[16] = UInt8(ascii: ":")
        put(secondOfDay % 60, at: 17, digits: 2)
        text[19] = UInt8(ascii: "Z")
        return String(decoding: text, as: UTF8.self)
    }
}

/// The `Encoder` that builds one `JSONNode`.
private final class NodeEncoder: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var node: JSONNode?

    init(codingPath: [any CodingKey]) {
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: JSONObject
        if case .object(let existing) = node {
            object = existing
        } else {
            object = JSONObject()
            node = .object(object)
        }
        return KeyedEncodingContainer(KeyedContainer(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: JSONArray
        if case .array(let existing) = node {
            array = existing
        } else {
            array = JSONArray()
            node = .array(array)
        }
        return UnkeyedContainer(array: array, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(encoder: self)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]

    private func set(_ key: Key, _ node: JSONNode) {
        object.set(SnakeCase.key(key.stringValue), node)
    }

    mutating func encodeNil(forKey key: Key) throws { set(key, .literal("null")) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(key, .literal(value ? "true" : "false")) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        set(key, try JSONNode.number(value, codingPath: codingPath))
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        set(key, try JSONNode.number(value, codingPath: codingPath))
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(key, JSONNode.number(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(key, JSONNode.number(value)) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(key, JSONNode.number(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(key, JSONNode.number(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(key, JSONNode.number(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(key, JSONNode.number(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(key, JSONNode.number(value)) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(key, JSONNode.number(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(key, JSONNode.number(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(key, JSONNode.number(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(key, try JSONNode.of(value, codingPath: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = JSONObject()
        set(key, .object(nested))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(object: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = JSONArray()
        set(key, .array(nested))
        return UnkeyedContainer(array: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        // A key type without "super" cannot hold one; what is encoded then goes nowhere, as it has nowhere to go.
        guard let key = Key(stringValue: "super") else { return NodeEncoder(codingPath: codingPath) }
        return superEncoder(forKey: key)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let nested = JSONObject()
        set(key, .object(nested))
        let encoder = NodeEncoder(codingPath: codingPath + [key])
        encoder.node = .object(nested)
        return encoder
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let array: JSONArray
    let codingPath: [any CodingKey]
    var count: Int { array.elements.count }

    private var nextKey: JSONKey { JSONKey(intValue: array.elements.count) }

    mutating func encodeNil() throws { array.elements.append(.literal("null")) }
    mutating func encode(_ value: Bool) throws { array.elements.append(.literal(value ? "true" : "false")) }
    mutating func encode(_ value: String) throws { array.elements.append(.string(value)) }
    mutating func encode(_ value: Double) throws {
        array.elements.append(try JSONNode.number(value, codingPath: codingPath))
    }
    mutating func encode(_ value: Float) throws {
        array.elements.append(try JSONNode.number(value, codingPath: codingPath))
    }
    mutating func encode(_ value: Int) throws { array.elements.append(JSONNode.number(value)) }
    mutating func encode(_ value: Int8) throws { array.elements.append(JSONNode.number(value)) }
    mutating func encode(_ value: Int16) throws { array.elements.append(JSONNode.number(value)) }
    mutating func encode(_ value: Int32) throws { array.elements.append(JSONNode.number(value)) }
    mutating func encode(_ value: Int64) throws { array.elements.append(JSONNode.number(value)) }
    mutating func encode(_ value: UInt) throws { array.elements.append(JSONNode.number(value)) }
    mutating func encode(_ value: UInt8) throws { array.elements.append(JSONNode.number(value)) }
    mutating func encode(_ value: UInt16) throws { array.elements.append(JSONNode.number(value)) }
    mutating func encode(_ value: UInt32) throws { array.elements.append(JSONNode.number(value)) }
    mutating func encode(_ value: UInt64) throws { array.elements.append(JSONNode.number(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        array.elements.append(try JSONNode.of(value, codingPath: codingPath + [nextKey]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let nested = JSONObject()
        let key = nextKey
        array.elements.append(.object(nested))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(object: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = JSONArray()
        let key = nextKey
        array.elements.append(.array(nested))
        return UnkeyedContainer(array: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        let nested = JSONObject()
        let encoder = NodeEncoder(codingPath: codingPath + [nextKey])
        array.elements.append(.object(nested))
        encoder.node = .object(nested)
        return encoder
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let encoder: NodeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.node = .literal("null") }
    mutating func encode(_ value: Bool) throws { encoder.node = .literal(value ? "true" : "false") }
    mutating func encode(_ value: String) throws { encoder.node = .string(value) }
    mutating func encode(_ value: Double) throws { encoder.node = try JSONNode.number(value, codingPath: codingPath) }
    mutating func encode(_ value: Float) throws { encoder.node = try JSONNode.number(value, codingPath: codingPath) }
    mutating func encode(_ value: Int) throws { encoder.node = JSONNode.number(value) }
    mutating func encode(_ value: Int8) throws { encoder.node = JSONNode.number(value) }
    mutating func encode(_ value: Int16) throws { encoder.node = JSONNode.number(value) }
    mutating func encode(_ value: Int32) throws { encoder.node = JSONNode.number(value) }
    mutating func encode(_ value: Int64) throws { encoder.node = JSONNode.number(value) }
    mutating func encode(_ value: UInt) throws { encoder.node = JSONNode.number(value) }
    mutating func encode(_ value: UInt8) throws { encoder.node = JSONNode.number(value) }
    mutating func encode(_ value: UInt16) throws { encoder.node = JSONNode.number(value) }
    mutating func encode(_ value: UInt32) throws { encoder.node = JSONNode.number(value) }
    mutating func encode(_ value: UInt64) throws { encoder.node = JSONNode.number(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.node = try JSONNode.of(value, codingPath: codingPath)
    }
}

/// A JSON string written straight to bytes.
enum JSONText {
    /// Writes `string` as a JSON string, quotes included, by handing `emit` the runs of bytes in order:
    /// quotes, backslashes and control characters escaped, everything else as its UTF-8.
    static func writeString(_ string: String, to bytes: inout [UInt8]) {
        writeString(string) { bytes.append(contentsOf: $0) }
    }

    static func writeString(_ string: String, _ emit: (UnsafeRawBufferPointer) -> Void) {
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
