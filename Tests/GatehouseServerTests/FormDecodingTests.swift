import Foundation
import GatehouseTestSupport
import Testing

@testable import GatehouseServer

/// Form decoding reads bytes for speed; it must say what Foundation's `removingPercentEncoding` said, except that
/// escapes decoding to bytes that are not UTF-8 are always refused, where Foundation sometimes puts U+FFFD in.
@Suite("Form decoding")
struct FormDecodingTests {
    static func foundation(_ text: String) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    @Test func decodingAgreesWithFoundation() {
        var samples = [
            "", "plain", "a+b", "a%20b", "%41%42%43", "%e2%82%ac", "%E2%82%AC euro", "100%", "%4", "%zz", "%%41",
            "%C3%28", "%FF", "%00x", "é+%C3%A9", "a%2Bb", "+%2B+", "%f0%9f%8e%89", "%F0%9F%8E", "key%3Dvalue%26x",
            "https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1",
        ]
        var generator = SplitMix64(seed: FuzzTests.seed)
        let alphabet = Array("aZ09+%%%fFeE2C8-._~é")
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<12, using: &generator)
            samples.append(
                String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }))
        }
        for sample in samples {
            let expected = Self.foundation(sample)
            if let expected, expected.contains("\u{FFFD}") {
                #expect(FormEncoded.decode(sample[...]) == nil, "\(sample): not UTF-8, refused")
            } else {
                #expect(FormEncoded.decode(sample[...]) == expected, "\(sample)")
            }
        }
        #expect(FormEncoded.decode("a%FEb"[...]) == nil)
        #expect(FormEncoded.decode("é%FE"[...]) == nil)
    }

    @Test func blanksAreTrimmedFromBothEnds() {
        #expect(FormEncoded.trimmedBlanks(" \t a b \t ") == "a b")
        #expect(FormEncoded.trimmedBlanks("ab") == "ab")
        #expect(FormEncoded.trimmedBlanks(" \t ") == "")
        #expect(FormEncoded.trimmedBlanks("") == "")
    }
}
