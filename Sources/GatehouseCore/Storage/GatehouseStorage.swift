/// A whole storage backend: every store protocol, plus its lifecycle.
///
/// `GatehouseStore` provides SQLite and PostgreSQL implementations; one conformance suite runs on both.
package protocol GatehouseStorage: DirectoryStore, AccessStore, RateLimitStore, KeyVerificationStore, OAuthStore,
    ReadinessProbe
{
    /// Applies every migration not yet recorded, in order, and returns the versions it applied.
    /// Safe to call on every start and from several processes at once.
    @discardableResult func migrate() async throws -> [Int]
    /// Runs the backend's background work (connection pools) until the task is cancelled.
    func run() async
}

/// Answers whether the backend can serve requests right now; what `/readyz` asks.
package protocol ReadinessProbe: Sendable {
    /// Throws `StoreUnavailable` when the backend cannot answer a trivial query right now.
    func checkReachable() async throws
}
