import Foundation
import GatehouseCore
import GatehouseStore
import GatehouseTestSupport
import Synchronization
import Testing

/// Keys, scopes, rate-limit windows and the audit trail, on every backend.
@Suite("Access store conformance")
struct AccessStoreConformanceTests {
    /// A workspace with one user, stored.
    static func seeded(_ store: any GatehouseStorage, slug: String = "acme") async throws -> (Workspace, User) {
        let workspace = try Fixture.workspace(slug)
        let owner = try Fixture.user("owner@\(slug).test", in: workspace, role: .admin)
        try await store.insert(workspace, firstUser: owner)
        return (workspace, owner)
    }

    static func key(
        for user: User, name: String = "ci", scopes: KeyScopes = .ownerRights, at date: Date = Fixture.epoch
    ) throws -> APIKey {
        let plaintext = PlaintextKey.generate(prefix: .standard)
        return APIKey(
            workspaceID: user.workspaceID, owner: .user(user.id), name: name, prefix: plaintext.prefix,
            lastFour: plaintext.lastFour, digest: try Fixture.peppers().current.digest(plaintext), scopes: scopes,
            rateLimitPerMinute: 10, createdBy: user.id, createdAt: date, updatedAt: date,
            expiresAt: date.addingTimeInterval(86400))
    }

    @Test(arguments: Backend.all) func aKeyIsFoundByIdAndByDigestWithEveryField(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let (_, owner) = try await Self.seeded(store)
            let key = try Self.key(for: owner, scopes: .only([.usersRead, .profile]))
            try await store.insert(key)
            #expect(try await store.apiKey(id: key.id) == key)
            #expect(try await store.apiKey(digest: key.digest) == key)
            let otherPepper = KeyDigest(hex: key.digest.hex, pepperVersion: key.digest.pepperVersion + 1)
            #expect(try await store.apiKey(digest: otherPepper) == nil)
            #expect(try await store.apiKey(id: APIKeyID()) == nil)
        }
    }

    @Test(arguments: Backend.all) func aKeyUpdateChangesStatusScopesExpiryAndLimit(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let (_, owner) = try await Self.seeded(store)
            var key = try Self.key(for: owner)
            try await store.insert(key)
            key.status = .revoked
            key.scopes = .only([.departmentsRead])
            key.expiresAt = nil
            key.rateLimitPerMinute = nil
            key.name = "renamed"
            key.updatedAt = Fixture.epoch.addingTimeInterval(5)
            try await store.update(key)
            #expect(try await store.apiKey(id: key.id) == key)
            var missing = try Self.key(for: owner)
            missing.name = "never stored"
            await #expect(throws: RecordNotFound.self) { try await store.update(missing) }
        }
    }

    @Test(arguments: Backend.all) func keysAreListedNewestFirstAndFilteredByStatusAndOwner(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store async throws in
            let (acme, owner) = try await Self.seeded(store)
            let ann = try Fixture.user("ann@acme.test", in: acme)
            try await store.insert(ann)
            let old = try Self.key(for: owner, name: "old")
            var revoked = try Self.key(for: ann, name: "revoked", at: Fixture.epoch.addingTimeInterval(1))
            revoked.status = .revoked
            let new = try Self.key(for: ann, name: "new", at: Fixture.epoch.addingTimeInterval(2))
            for key in [old, revoked, new] { try await store.insert(key) }
            let (_, stranger) = try await Self.seeded(store, slug: "globex")
            try await store.insert(try Self.key(for: stranger, name: "theirs"))

            #expect(
                try await store.apiKeys(in: acme.id, status: nil, owner: nil).map(\.name) == ["new", "revoked", "old"])
            #expect(try await store.apiKeys(in: acme.id, status: .active, owner: nil).map(\.name) == ["new", "old"])
            #expect(
                try await store.apiKeys(in: acme.id, status: nil, owner: .user(ann.id)).map(\.name) == [
                    "new", "revoked",
                ])
            #expect(try await store.apiKeys(in: acme.id, status: .revoked, owner: .user(owner.id)).isEmpty)
        }
    }

    @Test(arguments: Backend.all) func lastUseOnlyMovesForward(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let (_, owner) = try await Self.seeded(store)
            let first = try Self.key(for: owner, name: "first")
            let second = try Self.key(for: owner, name: "second")
            try await store.insert(first)
            try await store.insert(second)
            let later = Fixture.epoch.addingTimeInterval(120)
            try await store.recordLastUse([first.id: later, second.id: Fixture.epoch.addingTimeInterval(60)])
            try await store.recordLastUse([first.id: Fixture.epoch.addingTimeInterval(90)])
            #expect(try await store.apiKey(id: first.id)?.lastUsedAt == later)
            #expect(try await store.apiKey(id: second.id)?.lastUsedAt == Fixture.epoch.addingTimeInterval(60))
        }
    }

    @Test(arguments: Backend.all) func aDigestIsUnique(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let (_, owner) = try await Self.seeded(store)
            let key = try Self.key(for: owner)
            try await store.insert(key)
            var copy = try Self.key(for: owner)
            copy.digest = key.digest
            await #expect(throws: UniqueViolation(.apiKeyDigest)) { try await store.insert(copy) }
        }
    }

    @Test(arguments: Backend.all) func scopeDefinitionsAreUniquePerWorkspace(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let (acme, _) = try await Self.seeded(store)
            let (globex, _) = try await Self.seeded(store, slug: "globex")
            let okrs = ScopeDefinition(
                workspaceID: acme.id, scope: try Scope("okrs:read"), description: "Read OKRs", roles: [.user, .admin],
                createdAt: Fixture.epoch)
            let kpis = ScopeDefinition(
                workspaceID: acme.id, scope: try Scope("kpis:write"), description: "Write KPIs", roles: [.admin],
                createdAt: Fixture.epoch)
            try await store.insert(okrs)
            try await store.insert(kpis)
            var theirs = okrs
            theirs.workspaceID = globex.id
            try await store.insert(theirs)
            #expect(try await store.scopeDefinitions(in: acme.id) == [kpis, okrs])
            #expect(try await store.scopeDefinitions(in: globex.id) == [theirs])
            await #expect(throws: UniqueViolation(.scopeName)) { try await store.insert(okrs) }
        }
    }

    @Test(arguments: Backend.all) func quotaIsLeasedATenthOfWhatIsLeftPerBucketAndWindow(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store async throws in
            let minute = Date(timeIntervalSince1970: 1_790_000_040)
            func lease(_ bucket: String, _ window: Date = minute, limit: Int = 100) async throws -> RequestLease {
                try await store.leaseRequests(bucket: bucket, windowStart: window, limit: limit)
            }
            #expect(try await lease("a") == RequestLease(granted: 10, count: 10))
            #expect(try await lease("a") == RequestLease(granted: 9, count: 19))
            #expect(try await lease("b") == RequestLease(granted: 10, count: 10), "another bucket")
            let next = minute.addingTimeInterval(60)
            #expect(try await lease("a", next) == RequestLease(granted: 10, count: 10), "another window")
            // Down to one at a time near the limit, then none: the count stops at the limit.
            #expect(try await lease("c", limit: 12) == RequestLease(granted: 1, count: 1))
            var count = 1
            while count < 12 {
                let leased = try await lease("c", limit: 12)
                #expect(leased.granted == 1)
                count = leased.count
            }
            #expect(try await lease("c", limit: 12) == RequestLease(granted: 0, count: 12))
            #expect(try await lease("c", limit: 12) == RequestLease(granted: 0, count: 12))
            // A limit raised within the window leases what the new one leaves.
            #expect(try await lease("c", limit: 32) == RequestLease(granted: 2, count: 14))
        }
    }

    @Test(arguments: Backend.all) func concurrentLeasesNeverPassTheLimit(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let minute = Date(timeIntervalSince1970: 1_790_000_040)
            let leases = try await withThrowingTaskGroup(of: RequestLease.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await store.leaseRequests(bucket: "busy", windowStart: minute, limit: 60) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(leases.map(\.granted).reduce(0, +) == 60)
            // Each lease saw the count the one before it left: the counts after them are all different.
            let granting = leases.filter { $0.granted > 0 }
            #expect(Set(granting.map(\.count)).count == granting.count)
            #expect(granting.map(\.count).max() == 60)
        }
    }

    @Test(arguments: Backend.all) func theCredentialEpochRisesWithEveryChangeThatCanAlterACredentialAndOnlyThen(
        _ backend: Backend
    ) async throws {
        try await backend.withStore { store async throws in
            let (acme, owner) = try await Self.seeded(store)
            let event = AuditEvent(
                workspaceID: acme.id, actor: .commandLine, action: "x", targetKind: "x", targetID: "x", address: nil,
                occurredAt: Fixture.epoch)
            var epoch = try await store.credentialEpoch()
            func changed() async throws -> Bool {
                let now = try await store.credentialEpoch()
                defer { epoch = now }
                if now > epoch, let postgres = store as? PostgresStore {
                    #expect(
                        postgres.lastAwaitedEpoch.load(ordering: .relaxed) == now,
                        "a change that raises the epoch waits for the instances to acknowledge it")
                }
                return now > epoch
            }
            var key = try Self.key(for: owner)
            try await store.apply(.insertKey(key), recording: event)
            #expect(try await changed() == false, "a new key changes no credential in use")
            try await store.recordLastUse([key.id: Fixture.epoch.addingTimeInterval(5)])
            #expect(try await changed() == false, "recording a key's last use is not a change to it")
            let minute = Date(timeIntervalSince1970: 1_790_000_040)
            _ = try await store.leaseRequests(bucket: "k", windowStart: minute, limit: 60)
            #expect(try await changed() == false, "counting a request is not a change")
            key.status = .revoked
            try await store.apply(.updateKey(key), recording: event)
            #expect(try await changed(), "revoking a key")
            var user = owner
            user.role = .user
            try await store.apply(.updateUser(user), recording: event)
            #expect(try await changed(), "demoting a user")
            try await store.insert(
                ScopeDefinition(
                    workspaceID: acme.id, scope: try Scope("okrs:read"), description: "OKRs", roles: [.user],
                    createdAt: Fixture.epoch))
            #expect(try await changed(), "a new scope for a role")
            var (client, _) = try Fixture.client("acme-web", in: acme)
            try await store.apply(.insertClient(client), recording: event)
            #expect(try await changed() == false, "a new client")
            client.isDisabled = true
            try await store.apply(.updateClient(client), recording: event)
            #expect(try await changed(), "disabling a client")
            let expiry = Fixture.epoch.addingTimeInterval(900)
            try await store.revokeAccessToken(id: "jti-1", of: client.id, expiresAt: expiry, at: Fixture.epoch)
            #expect(try await changed(), "revoking an access token")
            try await store.revokeAccessToken(id: "jti-1", of: client.id, expiresAt: expiry, at: Fixture.epoch)
            #expect(try await changed() == false, "revoking it again changes nothing")
        }
    }

    @Test(arguments: Backend.all) func eachRiseOfTheCredentialEpochIsToldAsItHappensOnPostgreSQL(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store async throws in
            let (acme, owner) = try await Self.seeded(store)
            let heard = Mutex<[CredentialEpochSignal]>([])
            let watching = Task { await store.watchCredentialEpoch { signal in heard.withLock { $0.append(signal) } } }
            defer { watching.cancel() }
            guard backend == .postgres else {
                // One process serves an SQLite file: nothing to hear, and the watch just waits.
                try await Task.sleep(for: .milliseconds(50))
                #expect(heard.withLock { $0 }.isEmpty)
                return
            }
            // Listening has started once it says rises before it may have been missed.
            try await Self.waitUntil { heard.withLock { $0.first } == .mayHaveMissed }
            var key = try Self.key(for: owner)
            let event = AuditEvent(
                workspaceID: acme.id, actor: .commandLine, action: "x", targetKind: "x", targetID: "x", address: nil,
                occurredAt: Fixture.epoch)
            try await store.apply(.insertKey(key), recording: event)
            key.status = .revoked
            try await store.apply(.updateKey(key), recording: event)
            let epoch = try await store.credentialEpoch()
            try await Self.waitUntil { heard.withLock { $0.contains(.raised(epoch)) } }
        }
    }

    /// Waits up to five seconds for `condition`, and records an issue if it never holds.
    static func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition())
    }

    @Test(arguments: Backend.all) func auditEventsAreReadNewestFirstFilteredAndPaged(_ backend: Backend) async throws {
        try await backend.withStore { store async throws in
            let (acme, owner) = try await Self.seeded(store)
            let (globex, _) = try await Self.seeded(store, slug: "globex")
            let actor = AuditActor(user: owner.id, credential: "api_key:x")
            for (index, action) in ["user.created", "api_key.created", "api_key.revoked"].enumerated() {
                try await store.append(
                    AuditEvent(
                        workspaceID: acme.id, actor: actor, action: action, targetKind: "thing", targetID: "t\(index)",
                        address: "10.0.0.1", details: ["n": "\(index)", "quote": #"a "b""#],
                        occurredAt: Fixture.epoch.addingTimeInterval(Double(index))))
            }
            try await store.append(
                AuditEvent(
                    workspaceID: globex.id, actor: .commandLine, action: "user.created", targetKind: "user",
                    targetID: "g", address: nil, occurredAt: Fixture.epoch))

            let all = try await store.auditEvents(in: acme.id, matching: AuditQuery())
            #expect(all.map(\.action) == ["api_key.revoked", "api_key.created", "user.created"])
            #expect(all.first?.actor == actor)
            #expect(all.first?.details == ["n": "2", "quote": #"a "b""#])
            #expect(all.first?.address == "10.0.0.1")
            #expect(all.first?.occurredAt == Fixture.epoch.addingTimeInterval(2))
            #expect(try await store.auditEvents(in: acme.id, matching: AuditQuery(action: "user.created")).count == 1)
            #expect(try await store.auditEvents(in: acme.id, matching: AuditQuery(actorUser: owner.id)).count == 3)
            #expect(
                try await store.auditEvents(in: acme.id, matching: AuditQuery(targetID: "t1")).map(\.action) == [
                    "api_key.created"
                ])
            let page = try await store.auditEvents(in: acme.id, matching: AuditQuery(limit: 2))
            #expect(page.count == 2)
            let rest = try await store.auditEvents(
                in: acme.id, matching: AuditQuery(before: page.last?.sequence, limit: 2))
            #expect(rest.map(\.action) == ["user.created"])
            #expect(try await store.auditEvents(in: globex.id, matching: AuditQuery()).first?.actor == .commandLine)
        }
    }

    @Test(arguments: Backend.all) func aChangeAndItsAuditEventAreStoredTogetherOrNotAtAll(_ backend: Backend)
        async throws
    {
        try await backend.withStore { store async throws in
            let (acme, owner) = try await Self.seeded(store)
            func event(_ action: String) -> AuditEvent {
                AuditEvent(
                    workspaceID: acme.id, actor: .commandLine, action: action, targetKind: "x", targetID: "y",
                    address: nil, occurredAt: Fixture.epoch)
            }
            let key = try Self.key(for: owner)
            try await store.apply(.insertKey(key), recording: event("api_key.created"))
            #expect(try await store.apiKey(id: key.id) == key)

            var copy = try Self.key(for: owner)
            copy.digest = key.digest
            await #expect(throws: UniqueViolation(.apiKeyDigest)) {
                try await store.apply(.insertKey(copy), recording: event("api_key.duplicated"))
            }
            var stranger = try Fixture.user("nobody@acme.test", in: acme)
            stranger.name = "never stored"
            await #expect(throws: RecordNotFound.self) {
                try await store.apply(.updateUser(stranger), recording: event("user.ghost"))
            }
            let taken = try Fixture.user(owner.email.value, in: acme)
            await #expect(throws: UniqueViolation(.userEmail)) {
                try await store.apply(.insertUser(taken), recording: event("user.taken"))
            }
            let copy2 = try Fixture.workspace("acme")
            await #expect(throws: UniqueViolation(.workspaceSlug)) {
                try await store.apply(
                    .insertWorkspace(copy2, firstUser: try Fixture.user("new@copy.test", in: copy2)),
                    recording: event("workspace.copied"))
            }
            #expect(try await store.user(email: EmailAddress("new@copy.test")) == nil)
            let globex = try Fixture.workspace("globex")
            let boss = try Fixture.user("boss@globex.test", in: globex, role: .superAdmin)
            let created = AuditEvent(
                workspaceID: globex.id, actor: .commandLine, action: "workspace.created", targetKind: "workspace",
                targetID: "\(globex.id)", address: nil, occurredAt: Fixture.epoch)
            try await store.apply(.insertWorkspace(globex, firstUser: boss), recording: created)
            #expect(try await store.user(id: boss.id) == boss)
            #expect(
                try await store.auditEvents(in: globex.id, matching: AuditQuery()).map(\.action) == [
                    "workspace.created"
                ])

            var renamed = owner
            renamed.name = "Renamed"
            try await store.apply(.updateUser(renamed), recording: event("user.updated"))
            #expect(try await store.user(id: owner.id)?.name == "Renamed")

            let actions = try await store.auditEvents(in: acme.id, matching: AuditQuery()).map(\.action)
            #expect(actions == ["user.updated", "api_key.created"])
        }
    }
}
