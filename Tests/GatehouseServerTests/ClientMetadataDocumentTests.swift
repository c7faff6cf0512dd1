import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import NIOCore
import Testing

@testable import GatehouseServer

/// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): an app's client_id is the https
/// URL of its metadata document, fetched (here from a stand-in) and kept while HTTP caching allows.
@Suite("Client metadata documents")
struct ClientMetadataDocumentTests {
    static let url = "https://app.example.com/oauth/client.json"

    /// Serves documents by URL, counting the fetches.
    final class Documents: MetadataDocumentFetching, @unchecked Sendable {
        private let lock = NSLock()
        private var documents: [String: FetchedMetadataDocument] = [:]
        private var refusals: [String: String] = [:]
        private(set) var fetches = 0

        func serve(_ url: String, _ json: String, maxAge: TimeInterval? = nil) {
            lock.withLock { documents[url] = FetchedMetadataDocument(body: Array(json.utf8), maxAge: maxAge) }
        }

        func refuse(_ url: String, _ reason: String) { lock.withLock { refusals[url] = reason } }

        func fetch(_ url: String) async throws -> FetchedMetadataDocument {
            try lock.withLock {
                fetches += 1
                if let reason = refusals[url] { throw MetadataDocumentRefusal(reason) }
                guard let document = documents[url] else { throw MetadataDocumentRefusal("not found") }
                return document
            }
        }
    }

    static func document(_ id: String = url, redirect: String = OAuthWorld.redirect, extra: String = "") -> String {
        #"{"client_id":"\#(id)","client_name":"Calendar Sync","redirect_uris":["\#(redirect)"],"client_uri":"https://app.example.com"\#(extra)}"#
    }

    static func run(_ documents: Documents, _ test: @escaping @Sendable (OAuthWorld) async throws -> Void) async throws
    {
        let acme = try WorkspaceSlug("acme")
        try await OAuthWorld.run(metadataDocuments: documents, configure: { $0.registrationWorkspace = acme }) {
            world in
            var workspace = try #require(try await world.api.store.workspace(id: world.workspace.id))
            workspace.clientRegistration = .open
            try await world.api.store.apply(
                .updateWorkspace(workspace),
                recording: AuditEvent(
                    workspaceID: workspace.id, actor: .commandLine, action: "workspace.client_registration_changed",
                    targetKind: "workspace", targetID: "\(workspace.id)", address: nil, occurredAt: Fixture.epoch))
            try await test(world)
        }
    }

    @Test func anAppNamedByItsDocumentSignsAUserIn() async throws {
        let documents = Documents()
        documents.serve(Self.url, Self.document(), maxAge: 600)
        try await Self.run(documents) { world in
            let browser = try await world.signedIn()
            let consent = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery(client: Self.url))
            #expect(consent.status == .ok, "\(consent.text.prefix(500))")
            // The consent page names the host the document came from, whatever name it claims.
            #expect(consent.text.contains("described by <strong>app.example.com</strong>"))
            #expect(consent.text.contains("registered itself"))
            let answer = try await browser.decide("allow", on: consent)
            let code = try #require(answer.redirectParameters["code"])
            let tokens = try await world.exchange(code, client: Self.url)
            #expect(tokens.status == .ok, "\(tokens.text)")
            let claims = try OpenIDBasicTests.claims(of: try #require(tokens.string("access_token")))
            #expect(claims["client_id"] as? String == Self.url)
            let stored = try #require(try await world.api.store.client(id: try ClientID(Self.url)))
            #expect(stored.registeredBy == .metadataDocument && stored.type == .public)
            // Admins find it like any client, its URL as one path segment.
            let (_, key) = try await world.api.key(for: world.owner)
            let encoded = try #require(
                Self.url.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~")))
            )
            let shown = try await world.api.call(.get, "/api/v1/clients/\(encoded)", key: key)
            #expect(shown.status == .ok, "\(shown.text)")
            #expect(shown.string("registered_by") == "metadata_document")
            var owner = world.owner
            owner.passwordHash = await Fixture.fastPasswords.hash(try Password(OAuthWorld.password))
            try await world.api.store.update(owner)
            let admin = try await world.signedIn(owner.email.value)
            let list = try await admin.get("/admin/clients")
            #expect(list.text.contains(#"href="/admin/clients/\#(encoded)""#))
            #expect(list.text.contains("described by the app"), "\(list.text)")
            #expect(try await admin.get("/admin/clients/\(encoded)").status == .ok)
            // Within its cache time, the copy is used: one fetch for the whole flow.
            #expect(documents.fetches == 1)
            world.api.clock.advance(by: 601)
            _ = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery(client: Self.url))
            #expect(documents.fetches == 2)
        }
    }

    @Test func aDocumentMustNameItselfAndFollowTheRulesOfSelfRegisteredApps() async throws {
        let documents = Documents()
        let cases: [(String, String, String)] = [
            ("https://a.example.com/c.json", Self.document("https://other.example.com/c.json"), "own URL"),
            (
                "https://b.example.com/c.json",
                Self.document("https://b.example.com/c.json", redirect: "http://b.example.com/cb"), "https"
            ),
            (
                "https://c.example.com/c.json",
                Self.document(
                    "https://c.example.com/c.json", extra: #","token_endpoint_auth_method":"private_key_jwt""#),
                "public clients"
            ),
            (
                "https://d.example.com/c.json",
                Self.document("https://d.example.com/c.json", extra: #","grant_types":["client_credentials"]"#),
                "not allowed"
            ),
            ("https://e.example.com/c.json", "[]", "JSON object"),
        ]
        for (url, json, _) in cases { documents.serve(url, json) }
        documents.refuse(
            "https://f.example.com/c.json", "The client_id URL redirects; Gatehouse does not follow redirects for it.")
        try await Self.run(documents) { world in
            let browser = try await world.signedIn()
            for (url, _, reason) in cases + [("https://f.example.com/c.json", "", "redirects")] {
                var query = OAuthWorld.authorizeQuery(client: url)
                query.removeAll { $0.0 == "redirect_uri" }
                query.append(("redirect_uri", "http://b.example.com/cb"))
                let answer = try await browser.get("/oauth/authorize", query)
                // An error page, never a redirect: nothing about the app can be trusted.
                #expect(answer.status == .badRequest, "\(url): \(answer.status)")
                #expect(answer.headers[.location] == nil)
                #expect(answer.text.contains(reason), "\(url): \(answer.text.prefix(600))")
                #expect(try await world.api.store.client(id: try ClientID(url)) == nil)
            }
        }
    }

    @Test func documentsAreRefusedUnlessTheWorkspaceIsOpen() async throws {
        let documents = Documents()
        documents.serve(Self.url, Self.document())
        try await OAuthWorld.run(metadataDocuments: documents) { world in
            let browser = try await world.signedIn()
            let answer = try await browser.get("/oauth/authorize", OAuthWorld.authorizeQuery(client: Self.url))
            #expect(answer.status == .badRequest)
            #expect(answer.text.contains("metadata document"))
            #expect(documents.fetches == 0)
            let metadata = try await world.api.call(.get, "/.well-known/oauth-authorization-server", key: nil)
            #expect(metadata.json["client_id_metadata_document_supported"] as? Bool == true)
        }
    }

    @Test func adminsCannotTakeAURLAsAClientID() async throws {
        try await OAuthWorld.run { world in
            let (_, key) = try await world.api.key(for: world.owner)
            let answer = try await world.api.registerClient(
                #"{"client_id":"https://app.example.com/c.json","name":"X","type":"public","redirect_uris":["https://app.example.com/cb"]}"#,
                key: key)
            #expect(answer.status == .badRequest)
        }
    }

    @Test func clientIDURLsFollowTheDraftsRules() throws {
        for good in ["https://app.example.com/c.json", "https://app.example.com:8443/oauth/client", "https://[::1]/c"] {
            #expect(try ClientID(good).isMetadataDocument, "\(good)")
        }
        for bad in [
            "https://app.example.com", "https://app.example.com/", "https://app.example.com/a/../c",
            "https://app.example.com/./c", "https://user@app.example.com/c", "https://app.example.com/c#x",
            "https://app.example.com/c?x=1", "https://app.example.com/ c",
        ] {
            #expect(throws: DomainError.self, "\(bad)") { try ClientID(bad) }
        }
    }

    @Test func onlyPublicAddressesAreFetched() throws {
        for address in [
            "10.1.2.3", "127.0.0.1", "169.254.169.254", "172.20.0.1", "192.168.1.1", "100.64.0.1", "0.0.0.0",
            "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1",
            "64:ff9b::a00:1", "2001:db8::1", "ff02::1",
        ] {
            #expect(!PublicAddress.isPublic(try SocketAddress(ipAddress: address, port: 443)), "\(address)")
        }
        for address in ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            #expect(PublicAddress.isPublic(try SocketAddress(ipAddress: address, port: 443)), "\(address)")
        }
    }

    @Test func cachingHeadersAreRead() {
        #expect(MetadataDocumentFetcher.maxAge(["public, max-age=600"]) == 600)
        #expect(MetadataDocumentFetcher.maxAge(["no-store"]) == 0)
        #expect(MetadataDocumentFetcher.maxAge(["max-age=60, no-cache"]) == 0)
        #expect(MetadataDocumentFetcher.maxAge([]) == nil)
        #expect(MetadataDocumentFetcher.maxAge(["max-age=abc"]) == nil)
    }
}
