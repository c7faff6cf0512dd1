/// A whole storage backend: every store protocol, plus its lifecycle.
///
/// `GatehouseStore` provides SQLite and PostgreSQL implementations; one conformance suite runs on both.
package protocol GatehouseStorage: DirectoryStore, AccessStore, RateLimitStore, SignInAttemptStore,
    KeyVerificationStore, OAuthStore, PasswordLinkStore, SecondFactorStore, ResourceServerStore,
    InitialAccessTokenStore, DeviceCodeStore, RetentionStore, ReadinessProbe
{
    /// Applies every migration not yet recorded, in order, and returns the versions it applied.
    /// Safe to call on every start and from several processes at once.
    @discardableResult func migrate() async throws -> [Int]
    /// Runs the backend's background work (connection pools) until the task is cancelled.
    func run() async
    /// Tells `signal` of each rise of the credential epoch as it happens, and whenever some may have been
    /// missed (before listening starts, and after a lost connection), until the task is cancelled. A backend
    /// that only one process serves (SQLite) has nothing to tell and just waits.
    func watchCredentialEpoch(_ signal: @escaping @Sendable (CredentialEpochSignal) async -> Void) async
    /// How busy the backend is right now, for the operator's metrics.
    var load: StoreLoad { get }
}

/// How busy a store is: the operations holding or waiting for a connection, and how many connections it has.
package struct StoreLoad: Equatable, Sendable {
    /// `sqlite` or `postgres`.
    package var backend: String
    package var inFlight: Int
    package var connections: Int

    package init(backend: String, inFlight: Int, connections: Int) {
        self.backend = backend
        self.inFlight = inFlight
        self.connections = connections
    }
}

/// What a store says about the credential epoch as it happens.
package enum CredentialEpochSignal: Equatable, Sendable {
    /// It rose to this value.
    case raised(Int64)
    /// Rises may have gone unheard: caches must forget everything.
    case mayHaveMissed
}

/// Answers whether the backend can serve requests right now; what `/readyz` asks.
package protocol ReadinessProbe: Sendable {
    /// Throws `StoreUnavailable` when the backend cannot answer a trivial query right now.
    func checkReachable() async throws
}
