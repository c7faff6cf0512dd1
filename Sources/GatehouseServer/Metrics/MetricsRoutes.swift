import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Logging

/// Counts every answered request by its route pattern, method and status, with its latency. The outermost
/// middleware but for the request id, so it sees every answer as the client gets it.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: GatehouseMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code, since: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, context, status: status, since: started)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, since started: ContinuousClock.Instant) {
        // The pattern (`/api/v1/users/{id}`), never the path a caller typed: that would grow without end.
        metrics.request(
            route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: status,
            duration: ContinuousClock.now - started)
    }
}

/// Serves `GET /metrics` in Prometheus's text format: on the main listener only to a scraper presenting the
/// configured bearer token, or on a listener of its own (`--metrics-address`) to whoever reaches it there.
struct MetricsController {
    let metrics: GatehouseMetrics
    let store: any GatehouseStorage
    let cache: CredentialCache
    /// The digest of the token a scraper must present on the main listener; nil on the metrics listener of its
    /// own.
    let token: SecretDigest?

    func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("metrics") { request, _ -> Response in
            if let token {
                guard let header = request.headers[.authorization],
                    let presented = BearerAuthenticator.bearerCredential(header),
                    token.matches(presented)
                else {
                    return Response(
                        status: .unauthorized,
                        headers: [.wwwAuthenticate: "Bearer realm=\"metrics\"", .contentType: "text/plain"],
                        body: .init(byteBuffer: ByteBuffer(string: "A valid metrics token is needed.\n")))
                }
            }
            let lookups = cache.lookups
            metrics.sample(cacheHits: lookups.hits, cacheMisses: lookups.misses)
            metrics.sample(database: store.load)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
    }
}

/// The metrics listener of its own (`--metrics-address`): `/metrics` and nothing else, so it can be opened to
/// the scraper's network alone.
func metricsApplication(
    host: String, port: Int, metrics: GatehouseMetrics, store: any GatehouseStorage, cache: CredentialCache,
    logger: Logger
) -> some ApplicationProtocol {
    let router = Router()
    MetricsController(metrics: metrics, store: store, cache: cache, token: nil).addRoutes(to: router)
    return Application(
        router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil), logger: logger)
}
