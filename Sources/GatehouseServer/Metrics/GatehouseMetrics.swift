import CoreMetrics
import Foundation
import GatehouseCore
import Prometheus
import Synchronization

/// What an operator watches, in Prometheus's text format at `/metrics`: requests by route and status with their
/// latency, tokens issued and refused, credentials refused, rate limits hit, sign-ins failed, the credential
/// cache's hits and the database's load. Made with swift-metrics over swift-prometheus, on a registry of this
/// application's own (nothing global), and only when the operator asks for metrics: otherwise nothing is counted.
///
/// Labels never hold what a caller made up: a client id is a label only once the client has authenticated, and
/// only for the first `clientLabelLimit` clients seen (apps that register themselves could otherwise grow the
/// series without end); the rest are `other`.
package final class GatehouseMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let counters = Mutex<[CounterKey: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[[String]: CoreMetrics.Timer]>([:])
    private let clientLabels = Mutex<Set<String>>([])
    private let clientLabelLimit: Int
    /// What the store and the credential cache report, read at each scrape.
    private let sampled = Mutex<SampledState>(SampledState())

    private struct CounterKey: Hashable {
        let name: String
        let labels: [String]
    }

    private struct SampledState {
        var cacheHits = 0
        var cacheMisses = 0
    }

    package init(clientLabelLimit: Int = 1000) {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5),
        ]
        self.factory = factory
        self.clientLabelLimit = clientLabelLimit
    }

    // MARK: What is counted

    /// One answered request: its route (the pattern, never the path a caller typed), method, status and time.
    package func request(route: String, method: String, status: Int, duration: Duration) {
        increment("gatehouse_http_requests_total", ["route": route, "method": method, "status": "\(status)"])
        let key = [route, method]
        let timer = timers.withLock { timers in
            if let timer = timers[key] { return timer }
            let timer = CoreMetrics.Timer(
                label: "gatehouse_http_request_duration_seconds", dimensions: [("route", route), ("method", method)],
                factory: factory)
            timers[key] = timer
            return timer
        }
        timer.recordMilliseconds(duration.milliseconds)
    }

    /// Tokens the token endpoint issued, by grant type and client.
    package func tokensIssued(grantType: String, client: ClientID) {
        increment("gatehouse_tokens_issued_total", ["grant_type": grantType, "client_id": clientLabel(client)])
    }

    /// An RFC 6749 error the token endpoint answered, and the client when it had authenticated.
    package func tokenError(_ code: String, client: ClientID?) {
        increment(
            "gatehouse_token_errors_total",
            ["error": code, "client_id": client.map(clientLabel) ?? "unauthenticated"])
    }

    /// A bearer credential (API key or access token) refused at `/api/v1`, by why.
    package func credentialRefused(_ reason: String) {
        increment("gatehouse_credential_refusals_total", ["reason": reason])
    }

    /// A request refused for its rate limit: `api` (a key's or token's per-minute limit) or `introspection`.
    package func rateLimited(_ limit: String) {
        increment("gatehouse_rate_limited_total", ["limit": limit])
    }

    /// A sign-in that failed: `invalid_credentials`, `deactivated`, `throttled` or `wrong_second_factor`.
    package func signInFailed(_ reason: String) {
        increment("gatehouse_sign_in_failures_total", ["reason": reason])
    }

    // MARK: Sampled at each scrape

    /// The credential cache's lookups since start, made counters by the difference since the last scrape.
    package func sample(cacheHits: Int, cacheMisses: Int) {
        let (hits, misses) = sampled.withLock { state in
            defer {
                state.cacheHits = max(state.cacheHits, cacheHits)
                state.cacheMisses = max(state.cacheMisses, cacheMisses)
            }
            return (max(0, cacheHits - state.cacheHits), max(0, cacheMisses - state.cacheMisses))
        }
        increment("gatehouse_credential_cache_lookups_total", ["result": "hit"], by: hits)
        increment("gatehouse_credential_cache_lookups_total", ["result": "miss"], by: misses)
    }

    /// The database's load: operations waiting for or holding a connection, and how many connections there are.
    package func sample(database: StoreLoad) {
        registry.makeGauge(name: "gatehouse_database_operations_in_flight", labels: [("backend", database.backend)])
            .set(Double(database.inFlight))
        registry.makeGauge(name: "gatehouse_database_connections_max", labels: [("backend", database.backend)])
            .set(Double(database.connections))
    }

    /// The text Prometheus scrapes.
    package func exposition() -> String { registry.emitToString() }

    // MARK: Helpers

    private func clientLabel(_ client: ClientID) -> String {
        clientLabels.withLock { labels in
            if labels.contains(client.value) { return client.value }
            guard labels.count < clientLabelLimit else { return "other" }
            labels.insert(client.value)
            return client.value
        }
    }

    private func increment(_ name: String, _ labels: KeyValuePairs<String, String>, by amount: Int = 1) {
        guard amount > 0 else { return }
        let key = CounterKey(name: name, labels: labels.flatMap { [$0.key, $0.value] })
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = CoreMetrics.Counter(
                label: name, dimensions: labels.map { ($0.key, $0.value) }, factory: factory)
            counters[key] = counter
            return counter
        }
        counter.increment(by: amount)
    }
}
