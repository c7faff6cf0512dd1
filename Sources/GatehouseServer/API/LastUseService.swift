import GatehouseCore
import Logging
import ServiceLifecycle

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
