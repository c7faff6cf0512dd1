import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `/metrics`: closed unless the operator opens it, behind its bearer token on the main listener, and counting
/// what an operator watches.
@Suite("Metrics")
struct MetricsTests {
    static let token = "metrics-token-of-at-least-32-characters"

    /// The value of the sample whose name and labels are these (labels in any order), or nil.
    static func sample(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            let parts = line.split(separator: " ")
            guard let value = parts.last.flatMap({ Double($0) }) else { continue }
            let head = String(parts.dropLast().joined(separator: " "))
            var found: [String: String] = [:]
            if let open = head.firstIndex(of: "{"), let close = head.lastIndex(of: "}") {
                guard head[..<open] == name else { continue }
                for pair in head[head.index(after: open)..<close].split(separator: ",") {
                    let halves = pair.split(separator: "=", maxSplits: 1)
                    guard halves.count == 2 else { continue }
                    found[String(halves[0])] = String(halves[1]).trimmingCharacters(
                        in: CharacterSet(charactersIn: "\""))
                }
            } else if head != name {
                continue
            }
            if labels.allSatisfy({ found[$0.key] == $0.value }) { return value }
        }
        return nil
    }

    @Test func metricsAreClosedUnlessTheOperatorOpensThem() async throws {
        try await withAPI { api async throws in
            #expect(try await api.call(.get, "/metrics", key: nil).status == .notFound)
        }
    }

    @Test func theTokenOpensThemAndNothingElseDoes() async throws {
        try await withAPI(configure: { $0.metricsToken = SecretDigest(of: Self.token) }) { api async throws in
            let (workspace, owner) = try await api.workspace()
            _ = workspace
            let (_, key) = try await api.key(for: owner)
            #expect(try await api.call(.get, "/metrics", key: nil).status == .unauthorized)
            #expect(try await api.call(.get, "/metrics", key: Self.token + "x").status == .unauthorized)
            // An API key, even a super admin's, is not the metrics token.
            #expect(try await api.call(.get, "/metrics", key: key).status == .unauthorized)
            let answer = try await api.call(.get, "/metrics", key: Self.token)
            #expect(answer.status == .ok)
            #expect(answer.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
        }
    }

    @Test func whatAnOperatorWatchesIsCounted() async throws {
        try await OAuthWorld.run(configure: { $0.metricsToken = SecretDigest(of: Self.token) }) { world async throws in
            let api = world.api
            // Requests by route and status.
            for _ in 0..<3 { #expect(try await api.call(.get, "/healthz", key: nil).status == .ok) }
            // Tokens issued and refused, by grant type, error and client.
            let issued = try await api.form(
                "/oauth/token", [("grant_type", "client_credentials")], basic: ("acme-web", world.secret))
            #expect(issued.status == .ok)
            let wrongCode = try await world.exchange("not-a-code")
            #expect(wrongCode.status == .badRequest)
            let wrongSecret = try await api.form(
                "/oauth/token", [("grant_type", "client_credentials")], basic: ("acme-web", "wrong"))
            #expect(wrongSecret.status == .unauthorized)
            let made = try await api.form(
                "/oauth/token", [("grant_type", "client_credentials")], basic: ("made-up-client-id", "x"))
            #expect(made.status == .unauthorized)
            // Credentials refused at /api/v1, by why.
            #expect(try await api.call(.get, "/api/v1/me", key: nil).status == .unauthorized)
            #expect(try await api.call(.get, "/api/v1/me", key: "gate_not-a-key").status == .unauthorized)
            // A rate limit hit.
            let (_, limited) = try await api.key(for: world.ann, rateLimit: 1)
            #expect(try await api.call(.get, "/api/v1/me", key: limited).status == .ok)
            #expect(try await api.call(.get, "/api/v1/me", key: limited).status == .tooManyRequests)
            // A failed sign-in.
            #expect(
                try await world.browser().signIn("ann@acme.test", password: "not-her-password").status == .unauthorized)
            // The key path again: served from the credential cache.
            let (_, key) = try await api.key(for: world.ann)
            for _ in 0..<3 { #expect(try await api.call(.get, "/api/v1/me", key: key).status == .ok) }

            let text = try await api.call(.get, "/metrics", key: Self.token).text
            let healthz = try #require(
                Self.sample(
                    text, "gatehouse_http_requests_total", ["route": "/healthz", "method": "GET", "status": "200"]))
            #expect(healthz == 3)
            #expect(Self.sample(text, "gatehouse_http_requests_total", ["route": "/api/v1/me", "status": "429"]) == 1)
            #expect(
                try #require(Self.sample(text, "gatehouse_http_request_duration_seconds_count", ["route": "/healthz"]))
                    == 3)
            #expect(
                Self.sample(
                    text, "gatehouse_tokens_issued_total",
                    ["grant_type": "client_credentials", "client_id": "acme-web"]) == 1)
            #expect(
                Self.sample(text, "gatehouse_token_errors_total", ["error": "invalid_grant", "client_id": "acme-spa"])
                    == 1)
            // A client that failed to authenticate, or does not exist, is never a label.
            #expect(
                Self.sample(
                    text, "gatehouse_token_errors_total", ["error": "invalid_client", "client_id": "unauthenticated"])
                    == 2)
            #expect(!text.contains("made-up-client-id"))
            #expect(Self.sample(text, "gatehouse_credential_refusals_total", ["reason": "missing"]) == 1)
            #expect(Self.sample(text, "gatehouse_credential_refusals_total", ["reason": "invalid"]) == 1)
            #expect(Self.sample(text, "gatehouse_rate_limited_total", ["limit": "api"]) == 1)
            #expect(Self.sample(text, "gatehouse_sign_in_failures_total", ["reason": "invalid_credentials"]) == 1)
            #expect(try #require(Self.sample(text, "gatehouse_credential_cache_lookups_total", ["result": "hit"])) >= 2)
            #expect(Self.sample(text, "gatehouse_database_connections_max") ?? 0 >= 1)
            #expect(Self.sample(text, "gatehouse_database_operations_in_flight") != nil)
            // The sample Grafana dashboard asks only for what is served.
            let dashboard = try String(
                contentsOfFile: URL(fileURLWithPath: templatesDirectory).deletingLastPathComponent()
                    .appendingPathComponent("docs/grafana-dashboard.json").path, encoding: .utf8)
            let asked = Set(dashboard.matches(of: /gatehouse_[a-z_]+/).map { String($0.output) })
            #expect(asked.count >= 9)
            for name in asked {
                let family = name.replacing(/_(bucket|count|sum)$/, with: "")
                #expect(text.contains("# TYPE \(family) "), "the dashboard asks for \(name)")
            }
            // No secret, ever.
            for secret in [world.secret, key, limited, Self.token] { #expect(!text.contains(secret)) }
            // The cache's counts are sampled at each scrape: a second scrape adds only what happened since.
            let again = try await api.call(.get, "/metrics", key: Self.token).text
            #expect(
                Self.sample(again, "gatehouse_credential_cache_lookups_total", ["result": "hit"])
                    == Self.sample(text, "gatehouse_credential_cache_lookups_total", ["result": "hit"]))
        }
    }
}
