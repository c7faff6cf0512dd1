import GatehouseCore
import HTTPTypes
import Hummingbird
import Logging

/// Turns every error thrown below it, including unknown routes and oversized bodies, into the JSON shape:
/// `OAuthError`s in RFC 6749's, everything else in `APIError`'s.
package struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    package init() {}

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as OAuthError {
            return try error.response(from: request, context: context)
        } catch let failure as OAuthFailure {
            return try OAuthError(failure).response(from: request, context: context)
        } catch {
            return try APIError(from: error, logger: context.logger).response(from: request, context: context)
        }
    }
}
