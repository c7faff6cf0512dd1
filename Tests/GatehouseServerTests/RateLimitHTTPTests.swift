import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// Per-key limits as a client sees them: the fields on every response, 429 past the limit, the reset.
@Suite("Rate limits over HTTP")
struct RateLimitHTTPTests {
    // The manual clock starts 20 s into a UTC minute, so the window resets in 40 s.

    @Test func everyKeyAuthenticatedResponseSaysWhereTheClientStands() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let ann = try await api.user("ann@acme.test", in: acme)
            let (_, key) = try await api.key(for: ann)
            let ok = try await api.call(.get, "/api/v1/me", key: key)
            #expect(ok.headers[.rateLimitPolicy] == #""key";q=60;w=60"#)
            #expect(ok.headers[.rateLimit] == #""key";r=59;t=40"#)
            let forbidden = try await api.call(.get, "/api/v1/users", key: key)
            #expect(forbidden.status == .forbidden)
            #expect(forbidden.headers[.rateLimit] == #""key";r=58;t=40"#)
            let missing = try await api.call(.get, "/api/v1/users/\(UUID())", key: try await api.key(for: owner).1)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.rateLimit] == #""key";r=59;t=40"#)
        }
    }

    @Test func pastTheLimitIs429WithRetryAfterUntilTheMinuteTurns() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, key) = try await api.key(for: owner)
            for _ in 0..<60 { #expect(try await api.call(.get, "/api/v1/me", key: key).status == .ok) }
            let refused = try await api.call(.get, "/api/v1/me", key: key)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] == "40")
            #expect(refused.json["retry_after_seconds"] as? Int == 40)
            #expect(refused.error?.error == "rate_limit_exceeded")
            #expect(refused.headers[.rateLimit] == #""key";r=0;t=40"#)

            api.clock.advance(by: 30)
            let later = try await api.call(.get, "/api/v1/me", key: key)
            #expect(later.status == .tooManyRequests)
            #expect(later.headers[.retryAfter] == "10")
            #expect(later.json["retry_after_seconds"] as? Int == 10)

            api.clock.advance(by: 10)
            let fresh = try await api.call(.get, "/api/v1/me", key: key)
            #expect(fresh.status == .ok)
            #expect(fresh.headers[.rateLimit] == #""key";r=59;t=60"#)
        }
    }

    @Test func aKeysOwnLimitOverridesTheDefault() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let (limited, key) = try await api.key(for: owner)
            let patched = try await api.call(
                .patch, "/api/v1/api-keys/\(limited.id)", key: admin, json: #"{"rate_limit_per_minute": 2}"#)
            #expect(patched.json["rate_limit_per_minute"] as? Int == 2)
            #expect(try await api.call(.get, "/api/v1/me", key: key).headers[.rateLimitPolicy] == #""key";q=2;w=60"#)
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .ok)
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .tooManyRequests)
            // Other keys of the same user count apart.
            #expect(try await api.call(.get, "/api/v1/me", key: admin).status == .ok)
        }
    }

    @Test func aHundredConcurrentRequestsOnASixtyAMinuteKeyGiveExactlySixtySuccesses() async throws {
        try await withAPI(framework: .live) { api in
            let (_, owner) = try await api.workspace()
            let (_, key) = try await api.key(for: owner)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await api.call(.get, "/api/v1/me", key: key).status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 60)
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 40)
        }
    }
}
