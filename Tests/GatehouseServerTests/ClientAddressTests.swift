import Testing

@testable import GatehouseServer

/// Which address a request comes from, behind trusted proxies or not.
@Suite("The client's address")
struct ClientAddressTests {
    static func address(_ peer: String, _ forwarded: [String], trusted: Set<String>) -> String {
        ClientAddressMiddleware.clientAddress(peer: peer, forwardedFor: forwarded, trusted: trusted)
    }

    @Test func anUntrustedPeerIsTheClientWhateverItForwards() {
        #expect(Self.address("192.0.2.1", ["203.0.113.9"], trusted: ["10.0.0.1"]) == "192.0.2.1")
        #expect(Self.address("192.0.2.1", [], trusted: []) == "192.0.2.1")
    }

    @Test func aTrustedProxyVouchesForTheHopBeforeItOnly() {
        let trusted: Set = ["10.0.0.1", "10.0.0.2"]
        #expect(Self.address("10.0.0.1", ["203.0.113.9"], trusted: trusted) == "203.0.113.9")
        // A client may put anything at the front of the header; only what the trusted hops appended counts.
        #expect(Self.address("10.0.0.1", ["198.51.100.7, 203.0.113.9"], trusted: trusted) == "203.0.113.9")
        #expect(Self.address("10.0.0.1", ["198.51.100.7, 203.0.113.9, 10.0.0.2"], trusted: trusted) == "203.0.113.9")
        #expect(Self.address("10.0.0.1", ["198.51.100.7", "203.0.113.9"], trusted: trusted) == "203.0.113.9")
        #expect(Self.address("10.0.0.1", [], trusted: trusted) == "10.0.0.1")
        #expect(Self.address("10.0.0.1", ["10.0.0.2"], trusted: trusted) == "10.0.0.2")
    }

    @Test func somethingThatIsNotAnAddressEndsTheWalk() {
        let trusted: Set = ["10.0.0.1"]
        #expect(Self.address("10.0.0.1", ["unknown"], trusted: trusted) == "10.0.0.1")
        #expect(Self.address("10.0.0.1", ["203.0.113.9, _hidden"], trusted: trusted) == "10.0.0.1")
        #expect(Self.address("10.0.0.1", [""], trusted: trusted) == "10.0.0.1")
        #expect(Self.address("10.0.0.1", ["2001:DB8::1"], trusted: trusted) == "2001:db8::1")
    }

    @Test func trustedProxiesMustBeAddresses() throws {
        #expect(throws: (any Error).self) { try ServerConfiguration(trustedProxies: ["proxy.internal"]) }
        #expect(throws: (any Error).self) { try ServerConfiguration(trustedProxies: ["10.0.0.0/8"]) }
        #expect(try ServerConfiguration(trustedProxies: ["10.0.0.1", "::1"]).trustedProxies == ["10.0.0.1", "::1"])
    }
}
