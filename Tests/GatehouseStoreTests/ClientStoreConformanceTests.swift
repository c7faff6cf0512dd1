import Foundation
import GRDB
import GatehouseCore
import GatehouseTestSupport
import PostgresNIO
import Testing

@testable import GatehouseStore

/// Client applications and their service keys, on every backend.
@Suite("Client store conformance")
struct ClientStoreConformanceTests {
    static func event(_ action: String, _ client: ClientApplication) -> AuditEvent {
        AuditEvent(
            workspaceID: client.workspaceID, actor: .commandLine, action: action, targetKind: "client",
            targetID: client.id.value, address: nil, occurredAt: Fixture.epoch)
    }

    /// A client with every optional field set.
    static func fullClient(in workspace: Workspace) throws -> ClientApplication {
        var (client, _) = try Fixture.client(
            "acme-sync", in: workspace,
            redirectURIs: ["https://sync.example.com/cb", "http://127.0.0.1/cb", "com.example.sync:/cb"],
            scopes: [.profile, .usersRead])
        client.description = "Keeps the HR system in step."
        client.logoURL = "https://sync.example.com/logo.png"
        client.homepageURL = "https://sync.example.com"
        client.createdBy = UserID()
        client.secret?.previous = ClientSecret.generate().digest
        client.secret?.previousExpiresAt = Fixture.epoch.addingTimeInterval(600)
        client.postLogoutRedirectURIs = [
            try RedirectURI("https://sync.example.com/bye"), try RedirectURI("com.example.sync:/bye"),
        ]
        client.backchannelLogoutURI = try RedirectURI("https://sync.example.com/backchannel")
        client.idTokenSigningAlgorithm = .es256
        return client
    }

    @Test(arguments: Backend.all) func aClientIsReadBackWithEveryField(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let (workspace, _) = try await AccessStoreConformanceTests.seeded(store)
            let client = try Self.fullClient(in: workspace)
            try await store.apply(.insertClient(client), recording: Self.event("client.created", client))
            #expect(try await store.client(id: client.id) == client)
            let (publicClient, _) = try Fixture.client("acme-spa", in: workspace, type: .public)
            try await store.apply(.insertClient(publicClient), recording: Self.event("client.created", publicClient))
            #expect(try await store.client(id: publicClient.id) == publicClient)
            #expect(try await store.client(id: try ClientID("nobody")) == nil)
        }
    }

    @Test(arguments: Backend.all) func aClientIDIsUniqueAcrossWorkspaces(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let (acme, _) = try await AccessStoreConformanceTests.seeded(store)
            let (globex, _) = try await AccessStoreConformanceTests.seeded(store, slug: "globex")
            let (first, _) = try Fixture.client("shared-name", in: acme)
            try await store.apply(.insertClient(first), recording: Self.event("client.created", first))
            let (second, _) = try Fixture.client("shared-name", in: globex)
            await #expect(throws: UniqueViolation(.clientID)) {
                try await store.apply(.insertClient(second), recording: Self.event("client.created", second))
            }
            #expect(try await store.client(id: first.id)?.workspaceID == acme.id)
            let events = try await store.auditEvents(in: globex.id, matching: AuditQuery(action: "client.created"))
            #expect(events.isEmpty)
        }
    }

    @Test(arguments: Backend.all) func anUpdateReplacesSettingsAndSecrets(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let (workspace, _) = try await AccessStoreConformanceTests.seeded(store)
            var client = try Self.fullClient(in: workspace)
            try await store.apply(.insertClient(client), recording: Self.event("client.created", client))
            client.name = "Renamed"
            client.description = nil
            client.logoURL = nil
            client.redirectURIs = [try RedirectURI("https://new.example.com/cb")]
            client.grantTypes = [.clientCredentials]
            client.scopes = [.auditRead]
            client.isDisabled = true
            client.secret = ClientSecretDigests(current: ClientSecret.generate().digest)
            client.updatedAt = Fixture.epoch.addingTimeInterval(60)
            try await store.apply(.updateClient(client), recording: Self.event("client.updated", client))
            #expect(try await store.client(id: client.id) == client)

            let (ghost, _) = try Fixture.client("never-stored", in: workspace)
            await #expect(throws: RecordNotFound.self) {
                try await store.apply(.updateClient(ghost), recording: Self.event("client.updated", ghost))
            }
            #expect(
                try await store.auditEvents(in: workspace.id, matching: AuditQuery(targetID: "never-stored")).isEmpty)
        }
    }

    @Test(arguments: Backend.all) func deletingAClientDeletesItsServiceKeysAndNothingElse(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store async throws in
            let (workspace, owner) = try await AccessStoreConformanceTests.seeded(store)
            let (client, _) = try Fixture.client("acme-sync", in: workspace)
            try await store.apply(.insertClient(client), recording: Self.event("client.created", client))
            var serviceKey = try AccessStoreConformanceTests.key(for: owner)
            serviceKey.owner = .client(client.id)
            try await store.insert(serviceKey)
            let userKey = try AccessStoreConformanceTests.key(for: owner)
            try await store.insert(userKey)
            #expect(try await store.apiKey(digest: serviceKey.digest) == serviceKey)
            #expect(try await store.apiKeys(in: workspace.id, status: nil, owner: .client(client.id)) == [serviceKey])
            #expect(try await store.apiKeys(in: workspace.id, status: nil, owner: .user(owner.id)) == [userKey])

            try await store.apply(.deleteClient(client), recording: Self.event("client.deleted", client))
            #expect(try await store.client(id: client.id) == nil)
            #expect(try await store.apiKey(id: serviceKey.id) == nil)
            #expect(try await store.apiKey(id: userKey.id) == userKey)
            let deleted = try await store.auditEvents(in: workspace.id, matching: AuditQuery(action: "client.deleted"))
            #expect(deleted.map(\.targetID) == ["acme-sync"])

            await #expect(throws: RecordNotFound.self) {
                try await store.apply(.deleteClient(client), recording: Self.event("client.deleted", client))
            }
            // The id is free again, and the new client starts with no keys.
            try await store.apply(.insertClient(client), recording: Self.event("client.created", client))
            #expect(try await store.apiKeys(in: workspace.id, status: nil, owner: .client(client.id)).isEmpty)
        }
    }

    @Test(arguments: Backend.all) func clientsArePagedInClientIDOrderWithinTheirWorkspace(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store async throws in
            let (acme, _) = try await AccessStoreConformanceTests.seeded(store)
            let (globex, _) = try await AccessStoreConformanceTests.seeded(store, slug: "globex")
            // Byte order: digits, then '-', '.', '_' and letters as ASCII sorts them.
            let ids = ["zeta", "alpha", "a-b", "a.b", "a_b", "beta", "b10", "b9x", "0ab"]
            for id in ids {
                let (client, _) = try Fixture.client(id, in: acme)
                try await store.apply(.insertClient(client), recording: Self.event("client.created", client))
            }
            let (foreign, _) = try Fixture.client("aaa-foreign", in: globex)
            try await store.apply(.insertClient(foreign), recording: Self.event("client.created", foreign))

            var seen: [String] = []
            var cursor: ClientID?
            repeat {
                let page = try await store.clients(in: acme.id, after: cursor, limit: 3)
                #expect(page.count <= 3)
                seen += page.map(\.id.value)
                cursor = page.count == 3 ? page.last?.id : nil
            } while cursor != nil
            #expect(seen == ids.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
            #expect(try await store.clients(in: globex.id, after: nil, limit: 10).map(\.id.value) == ["aaa-foreign"])
        }
    }

    /// Rows written before migration 10, which knew nothing of ID-token algorithms or logout: the clients keep
    /// the ES256 ID tokens their apps verify, with no logout URIs, and the signing keys are ES256.
    @Test(arguments: Backend.all) func rowsFromBeforeRS256ReadBackAsES256(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let (workspace, _) = try await AccessStoreConformanceTests.seeded(store)
            let client = """
                INSERT INTO clients (client_id, workspace_id, name, type, redirect_uris, grant_types, scopes,
                    is_disabled, created_at, updated_at)
                """
            let key = "INSERT INTO signing_keys (kid, public_key, sealed_private_key, created_at)"
            let workspaceID = workspace.id.rawValue.lowercasedText
            switch store {
            case let sqlite as SQLiteStore:
                try await sqlite.write { db in
                    try db.execute(
                        sql: client
                            + " VALUES ('legacy-app', ?, 'Legacy', 'public', '', 'authorization_code', 'openid', 0, 0, 0)",
                        arguments: [workspaceID])
                    try db.execute(sql: key + " VALUES ('old-kid', 'x', 'y', 0)")
                }
            case let postgres as PostgresStore:
                _ = try await postgres.rows(
                    PostgresQuery(
                        unsafeSQL: client
                            + " VALUES ('legacy-app', '\(workspaceID)', 'Legacy', 'public', '', 'authorization_code', "
                            + "'openid', false, now(), now())"))
                _ = try await postgres.rows(PostgresQuery(unsafeSQL: key + " VALUES ('old-kid', 'x', 'y', now())"))
            default:
                Issue.record("a backend this test does not know: \(type(of: store))")
            }
            let legacy = try #require(try await store.client(id: try ClientID("legacy-app")))
            #expect(legacy.idTokenSigningAlgorithm == .es256)
            #expect(legacy.postLogoutRedirectURIs.isEmpty && legacy.backchannelLogoutURI == nil)
            #expect(try await store.signingKeys().first { $0.kid == "old-kid" }?.algorithm == .es256)
        }
    }
}
