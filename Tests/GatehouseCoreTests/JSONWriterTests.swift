import Foundation
import GatehouseTestSupport
import Testing

@testable import GatehouseCore

/// The one JSON writer writes exactly what Foundation's `JSONEncoder` writes with the settings every body uses:
/// snake_case keys, ISO 8601 dates, sorted keys, slashes unescaped. (What each API body holds is pinned against
/// the OpenAPI document, in the server's tests.)
@Suite("JSON writer")
struct JSONWriterTests {
    static func foundation(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func ours(_ value: some Encodable) throws -> String {
        try JSONWriter().string(value)
    }

    static func expectSame(_ value: some Encodable, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try ours(value) == foundation(value), sourceLocation: sourceLocation)
    }

    struct Names: Encodable {
        var plain = 1
        var camelCase = 2
        var myURLValue = 3
        var clientID = 4
        var HTTPStatus = 5
        var already_snake = 6
        var a1B2 = 7
        var x = 8
        var endsWithURL = 9
        var _leading = 10
        var naïveÉcole = 11
    }

    struct Everything: Encodable {
        var text =
            "quote \" backslash \\ slash / tab \t newline \n return \r bell \u{7} nul \u{0} unit \u{1F} é 🎉 \u{2028}"
        var empty = ""
        var flag = true
        var nothing: String? = nil
        var something: String? = "here"
        var noDate: Date? = nil
        var someDate: Date? = Date(timeIntervalSince1970: 1_790_000_000.5)
        var optionalNumber: Int? = 7
        var int8 = Int8.min
        var uint64 = UInt64.max
        var int64 = Int64.min
        var whole = 3.0
        var fraction = 0.1
        var small = 1e-5
        var large = 1e21
        var negative = -2.5
        var url = URL(string: "https://app.example/callback?x=1&y=/z") ?? URL(fileURLWithPath: "/")
        var data = Data([0, 1, 2, 250, 251, 252])
        var list = [1, 2, 3]
        var nested = [Names(), Names()]
        var optionals: [String?] = ["a", nil]
        var details = ["redirectUris": "https://a/b", "zeta": "z", "alpha": "a", "": "empty"]
        var noFields = NoFields()
        var deep = ["outerKey": [["innerKey": [1, 2]]]]
    }

    struct NoFields: Encodable {}

    /// Optionals encoded as `null` when absent, as the API's representations do.
    struct ExplicitOptionals: Encodable {
        var noText: String? = nil
        var someText: String? = "x/y"
        var noDate: Date? = nil
        var someDate: Date? = Date(timeIntervalSince1970: 1_790_000_000.5)
        var noNumber: Int? = nil
        var someNumber: Int? = 7

        enum CodingKeys: CodingKey { case noText, someText, noDate, someDate, noNumber, someNumber }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(noText, forKey: .noText)
            try container.encode(someText, forKey: .someText)
            try container.encode(noDate, forKey: .noDate)
            try container.encode(someDate, forKey: .someDate)
            try container.encode(noNumber, forKey: .noNumber)
            try container.encode(someNumber, forKey: .someNumber)
        }
    }

    @Test func keysAreConvertedAndSortedAsFoundationDoes() throws {
        try Self.expectSame(Names())
        #expect(try Self.ours(Names()).contains(#""my_url_value":3"#))
    }

    @Test func everyKindOfValueIsWrittenAsFoundationWritesIt() throws {
        try Self.expectSame(Everything())
        try Self.expectSame(ExplicitOptionals())
        #expect(try Self.ours(ExplicitOptionals()).contains(#""no_date":null"#))
        try Self.expectSame([Everything()])
        try Self.expectSame("top-level string")
        try Self.expectSame(42)
        try Self.expectSame([String: Int]())
        try Self.expectSame([Int]())
    }

    struct Page: Encodable {
        struct Row: Encodable {
            let clientID: String
            let active: Bool
        }

        let canWrite: Bool
        let next: String?
        let count: Int
        let rows: [Row]
    }

    @Test func templateValuesHaveTheKeysTheJSONHasAndLeaveNullsOut() throws {
        let values = try JSONWriter().templateValues(
            Page(canWrite: true, next: nil, count: 2, rows: [.init(clientID: "a", active: false)]))
        #expect(Set(values.keys) == ["can_write", "count", "rows"], "a nil optional is a missing key")
        #expect(values["can_write"] as? Bool == true)
        #expect(values["count"] as? Int == 2)
        let rows = try #require(values["rows"] as? [Any])
        let row = try #require(rows.first as? [String: Any])
        #expect(row["client_id"] as? String == "a")
        #expect(row["active"] as? Bool == false)
    }

    @Test func tokenClaimsAreWrittenFromTheirOwnCodingKeys() throws {
        let access = AccessTokenClaims(
            iss: "https://gatehouse.example/", sub: "u-1", aud: "https://gatehouse.example/", clientID: "acme-web",
            scope: "openid profile", exp: 1_790_000_900, iat: 1_790_000_000, jti: "j-1", workspaceID: "w-1",
            authTime: nil, grantType: nil, grantID: "g-1")
        try Self.expectSame(access)
        #expect(try Self.ours(access).contains(#""client_id":"acme-web""#))
        #expect(try !Self.ours(access).contains("auth_time"), "an absent claim is left out, not null")
        let id = IDTokenClaims(
            iss: "https://gatehouse.example/", sub: "u-1", aud: "acme-web", azp: "acme-web", exp: 1_790_000_900,
            iat: 1_790_000_000, authTime: 1_789_999_000, nonce: "n\"/", name: "Ada", email: nil)
        try Self.expectSame(id)
    }

    @Test func datesAreWrittenAsFoundationWritesThemAcrossTheCalendar() throws {
        var dates = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1), Date(timeIntervalSince1970: -86_401.5),
            Date(timeIntervalSince1970: 951_782_400),  // 2000-02-29
            Date(timeIntervalSince1970: 4_107_542_399.999),  // 2100-02-28T23:59:59
            Date(timeIntervalSince1970: 1_790_000_000.123_456), Date(timeIntervalSince1970: 253_402_300_799),
        ]
        // Seeded, so a failure names a date that fails again.
        var generator = SplitMix64(seed: 20_261_202)
        for _ in 0..<500 {
            dates.append(
                Date(timeIntervalSince1970: Double.random(in: -2_000_000_000...5_000_000_000, using: &generator)))
        }
        for date in dates {
            #expect(ISO8601.string(date) == (try Self.foundation([date]).dropFirst(2).dropLast(2)), "\(date)")
        }
        try Self.expectSame(dates)
    }
}
