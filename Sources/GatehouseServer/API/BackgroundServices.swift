import GatehouseCore
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// Writes the keys' last-use times every few seconds, and everything still pending at shutdown.
struct LastUseService: Service {
    let recorder: LastUseRecorder
    let logger: Logger
    var interval: Duration = .seconds(5)

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            await flush(everything: false)
        }
        await flush(everything: true)
    }

    private func flush(everything: Bool) async {
        do {
            try await recorder.flush(everything: everything)
        } catch {
            logger.warning("could not record API key use; will retry", metadata: ["error": "\(error)"])
        }
    }
}

/// Keeps the credential cache in step with the store between requests: drops it the moment the credential epoch
/// rises anywhere (PostgreSQL `NOTIFY`), and forgets everything whenever a rise may have been missed (on start
/// and on reconnect). On PostgreSQL it is also what holds this instance's lease: while it runs and the lease is
/// live, requests take the epoch from the cache instead of reading it (`RateLimitStore.pushedEpochIsCurrent`);
/// without it, each request reads the epoch, and is exact all the same.
struct CredentialEpochService: Service {
    let store: any GatehouseStorage
    let cache: CredentialCache

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await store.watchCredentialEpoch { [cache] signal in
                switch signal {
                case .raised(let epoch): cache.observe(epoch)
                case .mayHaveMissed: cache.reset()
                }
            }
        }
    }
}

/// Deletes what outlived its use (`Retention`) every ten minutes, a batch at a time, and the clients that
/// registered themselves openly and have gone 30 days without a token (`ClientRegistration.deleteUnusedClients`).
/// On PostgreSQL instances take turns through an advisory lock; whoever finds it taken skips that round.
struct RetentionService: Service {
    let retention: Retention
    let registration: ClientRegistration
    let logger: Logger
    var interval: Duration = .seconds(600)

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Waiting first lets the store migrate before the first sweep.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            guard !Task.isCancelled && !Task.isShuttingDownGracefully else { return }
            do {
                let deleted = try await retention.sweep(shouldStop: { Task.isShuttingDownGracefully })
                if let deleted, deleted.values.contains(where: { $0 > 0 }) {
                    logger.info(
                        "deleted expired rows",
                        metadata: Logger.Metadata(
                            uniqueKeysWithValues: deleted.filter { $0.value > 0 }.map {
                                ($0.key.rawValue, "\($0.value)")
                            }))
                }
                // A full batch may mean more are waiting: go on at once.
                while try await registration.deleteUnusedClients() == 100, !Task.isShuttingDownGracefully {}
            } catch {
                logger.warning("could not delete expired rows; will retry", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Runs `app` until SIGTERM or SIGINT, then drains it; says in the log when a stop begins and when it is done,
/// so an operator sees the signal was heard.
package func runUntilSignalled(_ app: some ApplicationProtocol & Service, logger: Logger) async throws {
    let group = ServiceGroup(
        configuration: .init(
            services: [app, ShutdownNotice(logger: logger)], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
    try await group.run()
    logger.info("stopped")
}

/// Logs the start of a graceful shutdown. The last of its group, so the first to hear of it.
private struct ShutdownNotice: Service {
    let logger: Logger

    func run() async throws {
        try await gracefulShutdown()
        logger.info("stopping: no new connections; finishing the requests in flight")
    }
}
