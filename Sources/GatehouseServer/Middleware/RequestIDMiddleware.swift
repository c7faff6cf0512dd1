import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Tags every response with `X-Request-ID` and writes one structured log line per request.
///
/// The line holds the method, path (never the query string, which can carry codes and tokens), status and
/// duration; the same id is in the logger metadata of everything logged while handling the request.
package struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    package init() {}

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[.requestID] = context.id
        let elapsed = ContinuousClock.now - started
        context.logger.info(
            "request",
            metadata: [
                "http.method": "\(request.method)", "http.path": "\(request.uri.path)",
                "http.status": "\(response.status.code)",
                "duration_ms": "\(elapsed.milliseconds)",
            ])
        return response
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}

extension HTTPField.Name {
    /// `X-Request-ID`: the id a user quotes when reporting a problem.
    package static let requestID = HTTPField.Name(literal: "X-Request-ID")
}
