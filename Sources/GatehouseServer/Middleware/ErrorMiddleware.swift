import HTTPTypes
import Hummingbird
import Logging

/// Turns every error thrown below it, including unknown routes and oversized bodies, into the JSON shape.
package struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    package init() {}

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try APIError(from: error, logger: context.logger).response(from: request, context: context)
        }
    }
}
