import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import Testing

@testable import GatehouseServer

/// A seeded fuzz pass over every parser that reads untrusted input: form bodies, HTTP Basic credentials, the
/// API-key format, JWTs presented as Bearer tokens, redirect URIs and JSON bodies. Each starts from valid
/// inputs and mutates them (bit flips, awkward bytes such as `%`, `+`, NUL, `é`, splices, truncations); each
/// input must get a well-formed answer that holds the parser's promise, and no crash or 5xx.
///
/// Bounded and repeatable: `GATEHOUSE_FUZZ_ROUNDS` inputs per parser (default 1500) from
/// `GATEHOUSE_FUZZ_SEED` (default 20261126). A failure names the seed and the input; what a longer run finds
/// becomes a test of its own.
@Suite("Fuzzing the parsers of untrusted input")
struct FuzzTests {
    static let seed = UInt64(ProcessInfo.processInfo.environment["GATEHOUSE_FUZZ_SEED"] ?? "") ?? 20_261_126
    static let rounds = Int(ProcessInfo.processInfo.environment["GATEHOUSE_FUZZ_ROUNDS"] ?? "") ?? 1500

    @Test func formBodiesDecodeToWhatTheySayOrAreRefused() async throws {
        var mutator = Mutator(seed: Self.seed)
        let corpus = [
            "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback",
            "grant_type=refresh_token&refresh_token=r-1_2.3~4&scope=openid+profile", "token=a%2Bb%3Dc&x=%C3%A9",
        ]
        for _ in 0..<Self.rounds * 4 {
            let text = mutator.mutatedText(of: corpus)
            guard let pairs = try? FormEncoded(parsing: text).pairs else { continue }
            // What was decoded, encoded again, decodes to the same pairs.
            let again = pairs.map { "\(formEncoded($0.name))=\(formEncoded($0.value))" }.joined(separator: "&")
            let decoded = try? FormEncoded(parsing: again).pairs
            #expect(decoded?.map(\.name) == pairs.map(\.name), "seed \(Self.seed): \(text.debugDescription)")
            #expect(decoded?.map(\.value) == pairs.map(\.value), "seed \(Self.seed): \(text.debugDescription)")
        }
        try await OAuthWorld.run { world in
            var mutator = Mutator(seed: Self.seed)
            for _ in 0..<Self.rounds {
                let body = mutator.mutatedText(of: corpus)
                let answer = try await world.api.send(
                    .post, "/oauth/token", headers: [.contentType: "application/x-www-form-urlencoded"], body: body)
                #expect(
                    [.badRequest, .unauthorized].contains(answer.status), "seed \(Self.seed): \(body.debugDescription)")
                #expect(answer.json["error"] is String && answer.json["error_description"] is String, "\(answer.text)")
            }
        }
    }

    @Test func basicCredentialsAuthenticateOnlyAsTheRealClient() async throws {
        try await OAuthWorld.run { world in
            var mutator = Mutator(seed: Self.seed)
            let pair = "acme-web:\(formEncoded(world.secret))"
            let corpus = ["Basic " + Data(pair.utf8).base64EncodedString()]
            for round in 0..<Self.rounds {
                // Half the inputs mutate the header as sent; half mutate the credentials inside the base64.
                let header =
                    round.isMultiple(of: 2)
                    ? mutator.mutatedText(of: corpus)
                    : "Basic " + Data(mutator.mutatedText(of: [pair]).utf8).base64EncodedString()
                guard Mutator.fitsAHeader(header) else { continue }
                var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                headers[.authorization] = header
                let answer = try await world.api.send(.post, "/oauth/introspect", headers: headers, body: "token=x")
                let isTheClient = Self.carries(header, id: "acme-web", secret: world.secret)
                #expect(
                    answer.status == (isTheClient ? .ok : .unauthorized),
                    "seed \(Self.seed): \(header.debugDescription)")
                if answer.status == .unauthorized { #expect(answer.json["error"] as? String == "invalid_client") }
            }
        }
    }

    /// Whether an `Authorization` header carries these client credentials, read as RFC 7617 and RFC 6749
    /// §2.3.1 say with Foundation alone: the oracle of the Basic fuzz test, independent of the server's parser.
    static func carries(_ header: String, id: String, secret: String) -> Bool {
        let blanks = CharacterSet(charactersIn: " \t")
        let value = header.trimmingCharacters(in: blanks)
        guard let space = value.firstIndex(of: " "), value[..<space].lowercased() == "basic",
            let data = Data(base64Encoded: value[space...].trimmingCharacters(in: blanks)),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return false }
        func decoded(_ part: Substring) -> String? {
            part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return decoded(text[..<colon]) == id && decoded(text[text.index(after: colon)...]) == secret
    }

    @Test func anAPIKeyWithAnyChangeIsRefused() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, key) = try await api.key(for: owner, rateLimit: 100_000)
            var mutator = Mutator(seed: Self.seed)
            for _ in 0..<Self.rounds {
                let mutated = mutator.mutatedText(of: [key])
                let parsed = PlaintextKey(parsing: mutated)
                #expect(
                    mutated == key ? parsed != nil : parsed == nil, "seed \(Self.seed): \(mutated.debugDescription)")
                guard Mutator.fitsAHeader(mutated), Mutator.trimmed(mutated) != key else { continue }
                let answer = try await api.call(.get, "/api/v1/me", key: mutated)
                #expect(answer.status == .unauthorized, "seed \(Self.seed): \(mutated.debugDescription)")
                #expect(answer.error?.error == "unauthorized", "\(answer.text)")
            }
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .ok)
        }
    }

    @Test func anAccessTokenWithAnyChangeIsRefused() async throws {
        try await OAuthWorld.run { world in
            let token = try #require(try await world.tokens().json["access_token"] as? String)
            var mutator = Mutator(seed: Self.seed)
            for _ in 0..<Self.rounds {
                let mutated = mutator.mutatedText(of: [token])
                guard Mutator.fitsAHeader(mutated) else { continue }
                let answer = try await world.api.call(.get, "/api/v1/me", key: mutated)
                // The signature covers the header and claims as written; the signature itself may be spelt two
                // ways, since base64url leaves its last few bits unused.
                let sent = Mutator.trimmed(mutated)
                let segments = { (token: String) in token.split(separator: ".", omittingEmptySubsequences: false) }
                let same =
                    segments(sent).count == 3 && segments(sent).prefix(2) == segments(token).prefix(2)
                    && Self.segmentBytes(sent)?.last == Self.segmentBytes(token)?.last
                #expect(answer.status == (same ? .ok : .unauthorized), "seed \(Self.seed): \(mutated.debugDescription)")
            }
            #expect(try await world.api.call(.get, "/api/v1/me", key: token).status == .ok)
        }
    }

    @Test func aRedirectURIIsAcceptedOnlyWhenItKeepsTheRules() throws {
        var mutator = Mutator(seed: Self.seed)
        let corpus = [
            "https://app.example.com/oauth/callback?tenant=1", "http://127.0.0.1:53682/callback", "http://[::1]/cb",
            "http://localhost/cb", "com.example.app:/oauth2redirect", "https://a.example/cb#frag",
            "https://user@evil.example/cb",
        ]
        let registered = try RedirectURI("https://app.example.com/oauth/callback?tenant=1")
        for _ in 0..<Self.rounds * 4 {
            let raw = mutator.mutatedText(of: corpus)
            #expect(registered.matches(raw) == (raw == registered.value), "seed \(Self.seed): \(raw.debugDescription)")
            guard let uri = try? RedirectURI(raw) else { continue }
            let scheme = uri.value.prefix { $0 != ":" }.lowercased()
            #expect(!uri.value.contains("#") && !uri.value.contains("*"), "\(raw.debugDescription)")
            #expect(
                !uri.value.unicodeScalars.contains { $0.value < 0x21 || $0.value == 0x7F }, "\(raw.debugDescription)")
            #expect(scheme == "https" || scheme == "http" || scheme.contains("."), "\(raw.debugDescription)")
            if scheme == "http" {
                let authority = uri.value.dropFirst("http://".count).prefix { $0 != "/" && $0 != "?" }
                let host =
                    authority.hasPrefix("[")
                    ? String(authority.prefix { $0 != "]" }) + "]" : String(authority.prefix { $0 != ":" })
                #expect(["127.0.0.1", "[::1]", "localhost"].contains(host.lowercased()), "\(raw.debugDescription)")
            }
            #expect(uri.matches(uri.value), "\(raw.debugDescription)")
            #expect((try? RedirectURI(uri.value))?.value == uri.value, "\(raw.debugDescription)")
        }
    }

    @Test func aJSONBodyIsEitherReadOrRefusedWithA400() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, key) = try await api.key(for: owner, rateLimit: 100_000)
            let ann = try await api.user("ann@acme.test", in: acme)
            let targets: [(HTTPRequest.Method, String, String)] = [
                (
                    .post, "/api/v1/clients",
                    #"{"client_id":"acme-sync","name":"Sync","type":"confidential","redirect_uris":["https://a.example/cb"],"scopes":["profile"],"require_pkce":true,"description":null}"#
                ),
                (.post, "/api/v1/users", #"{"email":"x@acme.test","name":"X Y","role":"user","title":"Ops"}"#),
                (
                    .patch, "/api/v1/users/\(ann.id)",
                    #"{"name":"Ann","title":null,"employee_id":"E-1","department_id":null,"active":true}"#
                ),
                (
                    .post, "/api/v1/users/\(ann.id)/api-keys",
                    #"{"name":"k","scopes":["profile"],"expires_at":"2030-01-31T12:00:00Z","rate_limit_per_minute":120}"#
                ),
            ]
            var mutator = Mutator(seed: Self.seed)
            for round in 0..<Self.rounds {
                let (method, path, valid) = targets[round % targets.count]
                let body = mutator.mutatedText(of: [valid])
                let answer = try await api.call(method, path, key: key, json: body)
                #expect(
                    [.ok, .created, .badRequest, .conflict].contains(answer.status),
                    "seed \(Self.seed): \(method) \(path) \(body.debugDescription): \(answer.text)")
                if answer.status.code >= 400 {
                    #expect(answer.error != nil, "\(answer.text)")
                    #expect(Set(answer.json.keys).isSubset(of: ["error", "message"]), "\(answer.text)")
                }
            }
        }
    }

    /// The bytes each dot-separated segment of a JWT stands for, ignoring the bits base64url leaves unused.
    static func segmentBytes(_ token: String) -> [[UInt8]]? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var segments: [[UInt8]] = []
        for segment in token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            var bytes: [UInt8] = []
            var buffer: UInt32 = 0
            var bits = 0
            for character in segment {
                guard let value = alphabet.firstIndex(of: character) else { return nil }
                buffer = buffer << 6 | UInt32(value)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    bytes.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
                }
            }
            // A last group of one character carries no byte: not base64url at all.
            guard bits < 6 else { return nil }
            segments.append(bytes)
        }
        return segments
    }
}

/// Makes inputs from valid ones, repeatably: SplitMix64 for the randomness, and the mutations a fuzzer makes.
struct Mutator {
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    /// Bytes that trip parsers: escapes, separators, quotes, control characters, multi-byte UTF-8.
    static let awkward: [[UInt8]] = [
        "%", "%0", "%zz", "%FF", "%C3", "%00", "+", "&", "=", ":", "\u{0}", "\u{7F}", "é", "🎉", "\r\n", " ", "\t",
        "\"", "\\", "{", "}", "[", "]", ",", "null", "1e999", "-1", "0", ".", "/", "#", "?", "@", "[::1]", "..",
        "//", "*", "\u{2028}", "=====", "Basic ", "Bearer ",
    ].map { Array($0.utf8) }

    /// Whether `text` can be a header value at all: HTTP has no way to send control characters in one.
    static func fitsAHeader(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }
    }

    /// A header value as HTTP reads it: without the spaces and tabs around it.
    static func trimmed(_ text: String) -> String {
        text.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
    }

    mutating func next() -> UInt64 { generator.next() }

    mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }

    /// One of `corpus`, changed one to four times, as text (bytes that are not UTF-8 become U+FFFD).
    mutating func mutatedText(of corpus: [String]) -> String {
        var bytes = Array(corpus[below(corpus.count)].utf8)
        for _ in 0...below(4) { bytes = mutated(bytes, corpus: corpus) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func mutated(_ input: [UInt8], corpus: [String]) -> [UInt8] {
        var bytes = input
        let position = below(bytes.count + 1)
        switch below(8) {
        case 0 where !bytes.isEmpty: bytes[min(position, bytes.count - 1)] ^= UInt8(1 << below(8))
        case 1 where !bytes.isEmpty: bytes[min(position, bytes.count - 1)] = UInt8(truncatingIfNeeded: next())
        case 2: bytes.insert(contentsOf: Self.awkward[below(Self.awkward.count)], at: position)
        case 3 where !bytes.isEmpty:
            let end = min(bytes.count, position + 1 + below(8))
            bytes.removeSubrange(min(position, bytes.count - 1)..<end)
        case 4 where position < bytes.count:
            let end = min(bytes.count, position + 1 + below(16))
            bytes.insert(contentsOf: bytes[position..<end], at: end)
        case 5: bytes = Array(bytes.prefix(position))
        case 6:
            let other = Array(corpus[below(corpus.count)].utf8)
            bytes = Array(bytes.prefix(position)) + Array(other.dropFirst(below(other.count + 1)))
        default:
            bytes.insert(UInt8(0x20 + below(0x5F)), at: position)
        }
        return bytes
    }
}
