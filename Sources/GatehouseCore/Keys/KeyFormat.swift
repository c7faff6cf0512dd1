import Foundation

/// The installation-wide start of every API key, such as `gate` in `gate_…`.
///
/// It tells a reader (and a secret scanner) what the string is; it is not a secret.
package struct KeyPrefix: Hashable, Sendable, CustomStringConvertible {
    package let value: String
    package var description: String { value }

    package static let standard = KeyPrefix(checked: "gate")

    /// Parses a prefix: 2 to 16 lowercase letters or digits, starting with a letter.
    package init(_ raw: String) throws(DomainError) {
        let scalars = raw.unicodeScalars
        guard (2...16).contains(scalars.count), let first = scalars.first, ("a"..."z").contains(first),
            scalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) })
        else {
            throw .invalidInput(
                field: "key_prefix",
                message:
                    "'\(raw)' is not a key prefix: use 2 to 16 lowercase letters or digits, starting with a letter.")
        }
        self.value = raw
    }

    private init(checked: String) { self.value = checked }
}

/// An API key's full text, `<prefix>_<30 random base62><6 base62 of a CRC32>`, with its checksum checked.
///
/// Exists only in memory: it is shown once when made and arrives in `Authorization` headers; the store only
/// ever sees its keyed digest.
package struct PlaintextKey: Sendable {
    /// 30 base62 characters carry 178.6 bits from the CSPRNG.
    package static let randomLength = 30
    package static let checksumLength = 6

    package let value: String
    package let prefix: String

    /// Makes a new key under `prefix`.
    package static func generate(prefix: KeyPrefix) -> PlaintextKey {
        let body = "\(prefix.value)_\(SecretGenerator.base62(length: randomLength))"
        return PlaintextKey(value: body + checksum(of: body), prefix: prefix.value)
    }

    /// Accepts `raw` only if it has the key shape and its checksum matches, so typos and invented strings are
    /// refused before anything is looked up. Returns nil for anything else.
    package init?(parsing raw: String) {
        // Bytes, not characters: this runs for every key presented, before any cache or store is asked.
        let bytes = Array(raw.utf8)
        guard bytes.count <= 64, let separator = bytes.firstIndex(of: UInt8(ascii: "_")) else { return nil }
        let rest = bytes[(separator + 1)...]
        guard rest.count == Self.randomLength + Self.checksumLength, rest.allSatisfy(Self.isBase62) else { return nil }
        let prefix = String(decoding: bytes[..<separator], as: UTF8.self)
        guard (try? KeyPrefix(prefix)) != nil else { return nil }
        let presented = Array(bytes.suffix(Self.checksumLength))
        guard constantTimeEquals(presented, Self.checksum(of: bytes.dropLast(Self.checksumLength))) else {
            return nil
        }
        self.value = raw
        self.prefix = prefix
    }

    private static func isBase62(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "a")...UInt8(ascii: "z"):
            true
        default: false
        }
    }

    private init(value: String, prefix: String) {
        self.value = value
        self.prefix = prefix
    }

    /// The last four characters, which listings show so a person can tell their keys apart.
    package var lastFour: String { String(value.suffix(4)) }

    /// The CRC32 of `body` as 6 base62 digits, zero-padded (62⁶ > 2³²).
    static func checksum(of body: String) -> String {
        String(decoding: checksum(of: Array(body.utf8)[...]), as: UTF8.self)
    }

    private static let base62Digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    private static func checksum(of body: ArraySlice<UInt8>) -> [UInt8] {
        var number = UInt64(CRC32.checksum(body))
        var digits = [UInt8](repeating: 0, count: checksumLength)
        for position in stride(from: checksumLength - 1, through: 0, by: -1) {
            digits[position] = base62Digits[Int(number % 62)]
            number /= 62
        }
        return digits
    }
}

/// CRC-32 (IEEE 802.3, as zlib computes it), for the checksum at the end of API keys.
package enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    package static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
