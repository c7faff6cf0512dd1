import Foundation
import GatehouseCore
import GatehouseTestSupport
import Synchronization
import Testing

@Suite("Client ids and redirect URIs")
struct ClientValueTests {
    @Test(arguments: ["abc", "acme-sync", "okr.tool_v2", String(repeating: "a", count: 64)])
    func clientIDsOfLowercaseLettersDigitsAndPunctuationAreAccepted(_ raw: String) throws {
        #expect(try ClientID(raw).value == raw)
    }

    @Test(arguments: ["", "ab", String(repeating: "a", count: 65), "Acme", "acme sync", "acme/x", "ümlaut", "a:b"])
    func otherClientIDsAreRefusedNamingTheRule(_ raw: String) {
        #expect {
            try ClientID(raw)
        } throws: { error in
            guard case DomainError.invalidInput(let field, let message) = error else { return false }
            return field == "client_id" && message.contains("3 to 64 lowercase letters")
        }
    }

    @Test(arguments: [
        "https://app.example.com/callback", "https://app.example.com:8443/cb?tenant=1", "http://127.0.0.1/cb",
        "http://127.0.0.1:8080/cb", "http://[::1]:3000/cb", "http://localhost/cb", "com.example.app:/callback",
        "com.example.app://oauth/callback",
    ])
    func acceptedRedirectURIs(_ raw: String) throws {
        #expect(try RedirectURI(raw).value == raw)
    }

    @Test(arguments: [
        ("http://app.example.com/cb", "loopback"), ("https://app.example.com/cb#done", "fragment"),
        ("https://*.example.com/cb", "wildcard"), ("https://app.example.com/*", "wildcard"),
        ("/callback", "absolute URI"), ("app.example.com/cb", "absolute URI"), ("javascript:alert(1)", "scheme"),
        ("myapp:/cb", "reverse domain"), ("https://user:pw@app.example.com/cb", "user name or password"),
        ("https:///cb", "no host"), ("https://app.example.com/a b", "spaces"),
        ("https://app.example.com:80x/cb", "port"), ("https://app.example.com/\u{e9}", "non-ASCII"),
        ("https://app.example.com/" + String(repeating: "a", count: 2000), "longer than 2000"),
    ])
    func refusedRedirectURIsNameTheURIAndTheRule(_ raw: String, _ rule: String) {
        #expect {
            try RedirectURI(raw)
        } throws: { error in
            guard case DomainError.invalidInput(let field, let message) = error else { return false }
            return field == "redirect_uris" && message.contains(String(raw.prefix(200))) && message.contains(rule)
        }
    }

    @Test func everyRefusedURIOfARegistrationIsNamed() throws {
        #expect {
            try RedirectURI.parseAll(["https://ok.example/cb", "http://a.example/cb", "https://b.example/#x"])
        } throws: { error in
            guard case DomainError.invalidInput("redirect_uris", let message) = error else { return false }
            return message.contains("'http://a.example/cb' uses http")
                && message.contains("'https://b.example/#x' has a fragment")
                && !message.contains("ok.example")
        }
        #expect(try RedirectURI.parseAll(["https://ok.example/cb"]).map(\.value) == ["https://ok.example/cb"])
    }

    @Test func redirectURIsMatchExactly() throws {
        let uri = try RedirectURI("https://app.example.com/cb")
        #expect(uri.matches("https://app.example.com/cb"))
        for other in [
            "https://app.example.com/cb/", "https://app.example.com/cb?x=1", "https://app.example.com:443/cb",
            "https://APP.example.com/cb", "http://app.example.com/cb", "https://app.example.com/cb#x",
            "https://app.example.com.evil.test/cb",
        ] {
            #expect(!uri.matches(other), "\(other)")
        }
    }

    @Test func loopbackRedirectURIsMatchOnAnyPortButNothingElse() throws {
        let uri = try RedirectURI("http://127.0.0.1/cb")
        #expect(uri.isLoopback)
        #expect(uri.matches("http://127.0.0.1/cb"))
        #expect(uri.matches("http://127.0.0.1:51234/cb"))
        for other in [
            "http://127.0.0.1:51234/other", "http://localhost:51234/cb", "https://127.0.0.1/cb",
            "http://127.0.0.1:abc/cb", "http://evil@127.0.0.1:5000/cb", "http://127.0.0.1:5000/cb?x=1",
        ] {
            #expect(!uri.matches(other), "\(other)")
        }
        #expect(try RedirectURI("http://[::1]:8000/cb").matches("http://[::1]:9000/cb"))
    }

    @Test func aClientFindsTheRegisteredURIARequestNames() throws {
        let (client, _) = try Fixture.client(
            "acme-web", in: try Fixture.workspace(), redirectURIs: ["https://a.example/cb", "http://localhost/cb"])
        #expect(client.redirectURI(matching: "https://a.example/cb")?.value == "https://a.example/cb")
        #expect(client.redirectURI(matching: "http://localhost:7777/cb")?.value == "http://localhost/cb")
        #expect(client.redirectURI(matching: "https://b.example/cb") == nil)
    }
}

@Suite("Client secrets")
struct ClientSecretTests {
    @Test func secretsHaveAtLeast256BitsAndAreURLSafe() {
        let secrets = (0..<50).map { _ in ClientSecret.generate().value }
        #expect(Set(secrets).count == 50)
        for secret in secrets {
            #expect(secret.count == 43)  // 32 bytes, base64url without padding
            #expect(secret.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        }
    }

    @Test func thePreviousSecretWorksOnlyUntilItsGraceEnds() {
        let old = ClientSecret.generate()
        let new = ClientSecret.generate()
        let ends = Fixture.epoch.addingTimeInterval(3600)
        let digests = ClientSecretDigests(current: new.digest, previous: old.digest, previousExpiresAt: ends)
        #expect(digests.accept(new.value, at: Fixture.epoch))
        #expect(digests.accept(old.value, at: Fixture.epoch))
        #expect(digests.accept(old.value, at: ends.addingTimeInterval(-0.001)))
        #expect(!digests.accept(old.value, at: ends))
        #expect(digests.accept(new.value, at: ends.addingTimeInterval(86400)))
        #expect(!digests.accept("not-the-secret", at: Fixture.epoch))
        #expect(!digests.accept("", at: Fixture.epoch))
    }

    @Test func theStoredDigestIsNotTheSecret() {
        let secret = ClientSecret.generate()
        let digests = ClientSecretDigests(current: secret.digest)
        #expect(digests.current.hex != secret.value)
        #expect(!digests.accept(digests.current.hex, at: Fixture.epoch))
    }
}

/// Serves clients from memory.
final class MemoryClientStore: ClientStore {
    private let clients: Mutex<[ClientID: ClientApplication]>
    private let readCount = Mutex(0)
    /// How many times a client was read by id.
    var reads: Int { readCount.withLock { $0 } }

    init(_ clients: [ClientApplication]) {
        self.clients = Mutex(Dictionary(uniqueKeysWithValues: clients.map { ($0.id, $0) }))
    }

    func client(id: ClientID) async throws -> ClientApplication? {
        readCount.withLock { $0 += 1 }
        return clients.withLock { $0[id] }
    }

    func replace(_ client: ClientApplication) { clients.withLock { $0[client.id] = client } }

    func clients(in workspace: WorkspaceID, after cursor: ClientID?, limit: Int) async throws -> [ClientApplication] {
        clients.withLock { all in
            Array(
                all.values.filter { client in
                    client.workspaceID == workspace && cursor.map { client.id > $0 } ?? true
                }
                .sorted { $0.id < $1.id }.prefix(limit))
        }
    }
}

@Suite("Authenticating clients")
struct ClientAuthenticatorTests {
    /// Each rule holds with and without the cache of authentications.
    static func authenticator(_ store: MemoryClientStore, clock: ManualClock, cached: Bool) -> ClientAuthenticator {
        let cache = cached ? EpochCache(cache: CredentialCache(), store: MemoryRateLimitStore()) : nil
        return ClientAuthenticator(store: store, clock: clock, cache: cache)
    }

    @Test(arguments: [false, true]) func aConfidentialClientNeedsItsSecret(cached: Bool) async throws {
        let workspace = try Fixture.workspace()
        let (client, secret) = try Fixture.client("acme-sync", in: workspace)
        var disabled = try Fixture.client("acme-off", in: workspace)
        disabled.0.isDisabled = true
        let authenticator = Self.authenticator(
            MemoryClientStore([client, disabled.0]), clock: ManualClock(), cached: cached)
        let value = try #require(secret?.value)
        #expect(try await authenticator.authenticate("acme-sync", secret: value).id == client.id)
        #expect(try await authenticator.authenticate("acme-sync", secret: value).id == client.id)
        for (id, presented) in [
            ("acme-sync", "wrong"), ("acme-sync", nil), ("acme-sync", value + "x"), ("nobody", value),
            ("NOT A CLIENT ID", value), ("acme-off", disabled.1?.value),
        ] as [(String, String?)] {
            await #expect(throws: ClientAuthenticationFailed.self, "\(id)") {
                try await authenticator.authenticate(id, secret: presented)
            }
        }
    }

    @Test(arguments: [false, true]) func aPublicClientIsKnownByItsIdAndMustSendNoSecret(cached: Bool) async throws {
        let (client, _) = try Fixture.client("acme-spa", in: try Fixture.workspace(), type: .public)
        let authenticator = Self.authenticator(MemoryClientStore([client]), clock: ManualClock(), cached: cached)
        #expect(try await authenticator.authenticate("acme-spa", secret: nil).type == .public)
        #expect(try await authenticator.authenticate("acme-spa", secret: nil).type == .public)
        await #expect(throws: ClientAuthenticationFailed.self) {
            try await authenticator.authenticate("acme-spa", secret: "anything")
        }
    }

    @Test(arguments: [false, true]) func theOldSecretStopsWhenTheGracePeriodEnds(cached: Bool) async throws {
        let clock = ManualClock()
        var (client, first) = try Fixture.client("acme-sync", in: try Fixture.workspace())
        let second = ClientSecret.generate()
        client.secret = ClientSecretDigests(
            current: second.digest, previous: try #require(first).digest,
            previousExpiresAt: clock.now().addingTimeInterval(600))
        let authenticator = Self.authenticator(MemoryClientStore([client]), clock: clock, cached: cached)
        let old = try #require(first?.value)
        _ = try await authenticator.authenticate("acme-sync", secret: old)
        clock.advance(by: 599)
        _ = try await authenticator.authenticate("acme-sync", secret: old)
        clock.advance(by: 1)
        await #expect(throws: ClientAuthenticationFailed.self) {
            try await authenticator.authenticate("acme-sync", secret: old)
        }
        _ = try await authenticator.authenticate("acme-sync", secret: second.value)
    }

    @Test func aCachedAuthenticationIsReadOnceAndAgainWhenTheEpochRises() async throws {
        var (client, secret) = try Fixture.client("acme-sync", in: try Fixture.workspace())
        let store = MemoryClientStore([client])
        let epochs = MemoryRateLimitStore()
        let authenticator = ClientAuthenticator(
            store: store, clock: ManualClock(), cache: EpochCache(cache: CredentialCache(), store: epochs))
        let value = try #require(secret?.value)
        for _ in 0..<3 { _ = try await authenticator.authenticate("acme-sync", secret: value) }
        #expect(store.reads == 1)
        await #expect(throws: ClientAuthenticationFailed.self) {
            try await authenticator.authenticate("acme-sync", secret: value + "x")
        }
        #expect(store.reads == 2, "a wrong secret never finds the kept authentication")

        client.isDisabled = true
        store.replace(client)
        epochs.raiseEpoch()
        await #expect(throws: ClientAuthenticationFailed.self) {
            try await authenticator.authenticate("acme-sync", secret: value)
        }
    }
}
