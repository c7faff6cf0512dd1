import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import Testing

/// The credential cache over HTTP, on both backends: a change written to the store by anyone else (another
/// instance, the command line) is obeyed on the very next request, though the credential was cached.
@Suite("Credential cache over HTTP")
struct CredentialCacheHTTPTests {
    static func event(_ workspace: Workspace) -> AuditEvent {
        AuditEvent(
            workspaceID: workspace.id, actor: .commandLine, action: "test.changed", targetKind: "x", targetID: "x",
            address: nil, occurredAt: Fixture.epoch)
    }

    @Test func aCachedKeyRevokedBehindTheServersBackIsRefusedOnTheNextRequest() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            var (key, plaintext) = try await api.key(for: owner)
            for _ in 0..<3 { #expect(try await api.call(.get, "/api/v1/me", key: plaintext).status == .ok) }
            key.status = .revoked
            try await api.store.apply(.updateKey(key), recording: Self.event(acme))
            #expect(try await api.call(.get, "/api/v1/me", key: plaintext).status == .unauthorized)
            key.status = .active
            try await api.store.apply(.updateKey(key), recording: Self.event(acme))
            #expect(try await api.call(.get, "/api/v1/me", key: plaintext).status == .ok)
        }
    }

    @Test func aCachedUsersDemotionNarrowsTheNextRequest() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, plaintext) = try await api.key(for: owner)
            #expect(try await api.call(.get, "/api/v1/users", key: plaintext).status == .ok)
            var demoted = owner
            demoted.role = .user
            try await api.store.apply(.updateUser(demoted), recording: Self.event(acme))
            #expect(try await api.call(.get, "/api/v1/users", key: plaintext).status == .forbidden)
        }
    }

    @Test func aCachedKeysNewLimitCountsFromTheNextRequest() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            var (key, plaintext) = try await api.key(for: owner, rateLimit: 100)
            #expect(try await api.call(.get, "/api/v1/me", key: plaintext).status == .ok)
            #expect(try await api.call(.get, "/api/v1/me", key: plaintext).status == .ok)
            key.rateLimitPerMinute = 2
            try await api.store.apply(.updateKey(key), recording: Self.event(acme))
            let third = try await api.call(.get, "/api/v1/me", key: plaintext)
            #expect(third.status == .tooManyRequests)
        }
    }
}
