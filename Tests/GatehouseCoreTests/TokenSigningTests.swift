import Foundation
import GatehouseCore
import GatehouseTestSupport
import Synchronization
import Testing

/// Tokens are written and signed by Gatehouse itself and verified by JWTKit: what one signs, the other must
/// accept, with every claim intact.
@Suite("Token signing")
struct TokenSigningTests {
    private final class Keys: SigningKeyStore {
        let stored = Mutex<[StoredSigningKey]>([])
        func signingKeys() async throws -> [StoredSigningKey] { stored.withLock { $0 } }
        func rotateSigningKeys(to key: StoredSigningKey) async throws {
            stored.withLock { keys in
                for index in keys.indices where keys[index].algorithm == key.algorithm && keys[index].retiredAt == nil {
                    keys[index].retiredAt = key.createdAt
                }
                keys.append(key)
            }
        }
    }

    private func ring() async throws -> SigningKeyRing {
        let keys = Keys()
        let secret = try Fixture.signingKeySecret()
        try await SigningKeys(store: keys, secret: secret, clock: SystemClock()).prepare()
        return SigningKeyRing(store: keys, secret: secret, clock: SystemClock(), tokenLifetime: 900)
    }

    private static func part(_ token: String, _ index: Int) throws -> [String: Any] {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        let data = try #require(Data(base64URLEncoded: String(parts[index])))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func anAccessTokenVerifiesWithJWTKitAndItsClaimsComeBackAsSigned() async throws {
        let ring = try await ring()
        for authTime: Int64? in [1_795_000_000, nil] {
            let claims = AccessTokenClaims(
                iss: "https://id.example.com/tenant", sub: "0198a5c2-0000-7000-8000-000000000001",
                aud: "https://id.example.com", clientID: "reports-app", scope: "clients:read openid",
                exp: 1_795_000_900, iat: 1_795_000_000, jti: "0198a5c2-0000-7000-8000-0000000000ff",
                workspaceID: "0198a5c2-0000-7000-8000-000000000002", authTime: authTime)
            let token = try await ring.sign(claims, type: "at+jwt")
            #expect(try await ring.verify(token, as: AccessTokenClaims.self, type: "at+jwt") == claims)
            let header = try Self.part(token, 0)
            #expect(header["alg"] as? String == "ES256")
            #expect(header["typ"] as? String == "at+jwt")
            #expect(header["kid"] as? String == (try await ring.publishedKeys()).last { $0.algorithm == .es256 }?.kid)
            // An absent optional claim is left out, not written as null.
            #expect((try Self.part(token, 1)["auth_time"] != nil) == (authTime != nil))
            #expect(!token.contains("=") && !token.contains("+") && !token.contains("/"))
        }
    }

    @Test func anIDTokenKeepsNamesThatNeedEscapingIntact() async throws {
        let ring = try await ring()
        let claims = IDTokenClaims(
            iss: "https://id.example.com", sub: "user", aud: "app", azp: "app", exp: 200, iat: 100, authTime: 90,
            nonce: "n-0S6_WzA2Mj", name: "Zoë \"Z\" O'Brien \\ 東京 \u{1}\n\t😀", email: "zoe@example.com")
        let token = try await ring.sign(claims, type: "JWT")
        #expect(try await ring.verify(token, as: IDTokenClaims.self, type: "jwt") == claims)
        // Another type is refused, so an ID token is never taken for an access token.
        await #expect(throws: TokenRejected.self) {
            try await ring.verify(token, as: AccessTokenClaims.self, type: "at+jwt")
        }
        let bare = IDTokenClaims(
            iss: "i", sub: "s", aud: "a", azp: "a", exp: 2, iat: 1, authTime: 1, nonce: nil, name: nil, email: nil)
        let payload = try Self.part(try await ring.sign(bare, type: "JWT"), 1)
        #expect(Set(payload.keys) == ["iss", "sub", "aud", "azp", "exp", "iat", "auth_time"])
    }

    @Test func anRS256TokenVerifiesWhereRS256IsAcceptedAndOnlyThere() async throws {
        let ring = try await ring()
        let claims = IDTokenClaims(
            iss: "https://id.example.com", sub: "user", aud: "app", azp: "app", exp: 200, iat: 100, authTime: 90,
            nonce: "n", name: "Zoë", email: "zoe@example.com")
        let token = try await ring.sign(claims, type: "JWT", algorithm: .rs256)
        let header = try Self.part(token, 0)
        let published = try await ring.publishedKeys()
        let rsaKey = try #require(published.first { $0.algorithm == .rs256 })
        #expect(header["alg"] as? String == "RS256")
        #expect(header["kid"] as? String == rsaKey.kid)
        // A 2048-bit signature is 256 bytes.
        let signature = try #require(Data(base64URLEncoded: String(token.split(separator: ".")[2])))
        #expect(signature.count == 256)
        #expect(
            try await ring.verify(token, as: IDTokenClaims.self, type: "jwt", algorithms: [.rs256, .es256]) == claims)
        // Where only ES256 is taken (access tokens), an RS256 token is refused.
        await #expect(throws: TokenRejected.self) { try await ring.verify(token, as: IDTokenClaims.self, type: "jwt") }
    }

    @Test func aTokenCannotChooseAnotherAlgorithmForItsKey() async throws {
        // The RS256 key's kid under an ES256 header, signed by the ES256 key: the header's algorithm must be
        // the key's own, so the kid and the algorithm cannot be mixed and matched.
        let ring = try await ring()
        let claims = IDTokenClaims(
            iss: "i", sub: "s", aud: "a", azp: "a", exp: 2, iat: 1, authTime: 1, nonce: nil, name: nil, email: nil)
        let es256 = try await ring.sign(claims, type: "JWT")
        let rsaKid = try #require(try await ring.publishedKeys().first { $0.algorithm == .rs256 }?.kid)
        var header: [UInt8] = []
        Base64URL.append(Array(#"{"alg":"ES256","kid":"\#(rsaKid)","typ":"JWT"}"#.utf8), to: &header)
        let parts = es256.split(separator: ".").map(String.init)
        let forged = [String(decoding: header, as: UTF8.self), parts[1], parts[2]].joined(separator: ".")
        await #expect(throws: TokenRejected.self) {
            try await ring.verify(forged, as: IDTokenClaims.self, type: "jwt", algorithms: [.rs256, .es256])
        }
        // And "none" or HS256 are no algorithm at all here.
        for alg in ["none", "HS256"] {
            var other: [UInt8] = []
            Base64URL.append(Array(#"{"alg":"\#(alg)","kid":"\#(rsaKid)","typ":"JWT"}"#.utf8), to: &other)
            let token = [String(decoding: other, as: UTF8.self), parts[1], ""].joined(separator: ".")
            await #expect(throws: TokenRejected.self) {
                try await ring.verify(token, as: IDTokenClaims.self, type: "jwt", algorithms: [.rs256, .es256])
            }
        }
    }

    @Test func preparingMakesTheMissingAlgorithmAndRotatingMakesOneOfEach() async throws {
        let keys = Keys()
        let secret = try Fixture.signingKeySecret()
        let clock = ManualClock()
        // An installation from before RS256: one ES256 key.
        let old = try secret.generateKey(.es256, at: clock.now())
        try await keys.rotateSigningKeys(to: old)
        let signingKeys = SigningKeys(store: keys, secret: secret, clock: clock)
        try await signingKeys.prepare()
        var stored = try await keys.signingKeys()
        #expect(stored.map(\.algorithm) == [.es256, .rs256])
        #expect(stored.allSatisfy { $0.retiredAt == nil })
        #expect(stored.first == old, "the ES256 key it had keeps signing")
        // Preparing again adds nothing.
        try await signingKeys.prepare()
        #expect(try await keys.signingKeys().count == 2)
        clock.advance(by: 60)
        let added = try await signingKeys.rotate()
        #expect(Set(added.map(\.algorithm)) == [.es256, .rs256])
        stored = try await keys.signingKeys()
        #expect(stored.filter { $0.retiredAt == nil }.map(\.kid).sorted() == added.map(\.kid).sorted())
        #expect(stored.filter { $0.retiredAt != nil }.count == 2)
    }

    @Test func aTamperedTokenIsRefused() async throws {
        let ring = try await ring()
        let claims = AccessTokenClaims(
            iss: "i", sub: "s", aud: "a", clientID: "c", scope: "profile", exp: 2, iat: 1, jti: "j", workspaceID: "w",
            authTime: nil)
        let token = try await ring.sign(claims, type: "at+jwt")
        var parts = token.split(separator: ".").map(String.init)
        var payload = [UInt8]()
        Base64URL.append(
            Array(#"{"iss":"i","sub":"admin","aud":"a","client_id":"c","scope":"admin","#.utf8)
                + Array(#""exp":2,"iat":1,"jti":"j","workspace_id":"w"}"#.utf8), to: &payload)
        parts[1] = String(decoding: payload, as: UTF8.self)
        await #expect(throws: TokenRejected.self) {
            try await ring.verify(parts.joined(separator: "."), as: AccessTokenClaims.self, type: "at+jwt")
        }
    }

    /// A key store whose reads can be held at a gate, to see what the ring does while one read is under way.
    private final class GatedKeys: SigningKeyStore {
        private struct State {
            var stored: [StoredSigningKey] = []
            var reads = 0
            var holding = false
            var held: CheckedContinuation<Void, Never>?
        }
        private let state = Mutex(State())

        var reads: Int { state.withLock { $0.reads } }
        var isHeld: Bool { state.withLock { $0.held != nil } }
        func holdNextRead() { state.withLock { $0.holding = true } }
        func release() { state.withLock { $0.held.take() }?.resume() }

        func signingKeys() async throws -> [StoredSigningKey] {
            let hold = state.withLock { state in
                state.reads += 1
                defer { state.holding = false }
                return state.holding
            }
            if hold { await withCheckedContinuation { continuation in state.withLock { $0.held = continuation } } }
            return state.withLock { $0.stored }
        }

        func rotateSigningKeys(to key: StoredSigningKey) async throws { state.withLock { $0.stored.append(key) } }
    }

    @Test func whileOneRequestReadsTheKeysAgainTheOthersSignWithTheKeysTheyHave() async throws {
        let keys = GatedKeys()
        let secret = try Fixture.signingKeySecret()
        let clock = ManualClock()
        try await keys.rotateSigningKeys(to: try secret.generateKey(.es256, at: clock.now()))
        let ring = SigningKeyRing(store: keys, secret: secret, clock: clock, tokenLifetime: 900)
        let claims = IDTokenClaims(
            iss: "i", sub: "s", aud: "a", azp: "a", exp: 2, iat: 1, authTime: 1, nonce: nil, name: nil, email: nil)
        _ = try await ring.sign(claims, type: "JWT")
        #expect(keys.reads == 1)

        clock.advance(by: SigningKeyRing.refreshInterval)
        keys.holdNextRead()
        let reloading = Task { try await ring.sign(claims, type: "JWT") }
        while !keys.isHeld { await Task.yield() }
        // The keys are due, one request is reading them, and twenty more sign meanwhile without a read of their own.
        for _ in 0..<20 { _ = try await ring.sign(claims, type: "JWT") }
        #expect(keys.reads == 2)
        keys.release()
        _ = try await reloading.value
        _ = try await ring.sign(claims, type: "JWT")
        #expect(keys.reads == 2, "the keys read again are used until they are due once more")
    }

    @Test func base64URLFollowsRFC4648() {
        func encoded(_ bytes: [UInt8]) -> String {
            var output: [UInt8] = []
            Base64URL.append(bytes, to: &output)
            return String(decoding: output, as: UTF8.self)
        }
        // RFC 4648 §10, without padding.
        let vectors = [
            "": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy",
        ]
        for (text, expected) in vectors {
            #expect(encoded(Array(text.utf8)) == expected)
            #expect(Base64URL.decode(expected) == Array(text.utf8))
        }
        // The two characters that differ from base64 (§5).
        #expect(encoded([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.decode("-_-_") == [0xFB, 0xFF, 0xBF])
        // Both ways agree with Foundation's base64, its alphabet changed and its padding dropped, on every length
        // up to 40 and every byte value (a fixed linear sequence, so a failure repeats).
        var state: UInt32 = 20_261_202
        for length in 0..<40 {
            let bytes = (0..<length).map { _ in
                state = state &* 1_664_525 &+ 1_013_904_223
                return UInt8(truncatingIfNeeded: state >> 24)
            }
            let foundation = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(encoded(bytes) == foundation)
            #expect(Base64URL.decode(foundation) == bytes)
        }
        #expect(Base64URL.decode(encoded(Array(0...255))) == Array(0...255))
    }

    @Test func base64URLDecodingRefusesWhatNoEncoderWrites() {
        // Padding, the base64 characters `+` and `/`, white space, a length no encoding has, and left-over bits
        // that are not zero ("Zh" would be "f" with a stray bit).
        for text in ["Zg==", "Zm8=", "+/+/", "Zm 9v", "Z", "Zm9vY", "Zh", "Zm9", "é"] {
            #expect(Base64URL.decode(text) == nil, "\(text)")
        }
        #expect(Base64URL.decode("Zm8") == Array("fo".utf8))
    }
}
