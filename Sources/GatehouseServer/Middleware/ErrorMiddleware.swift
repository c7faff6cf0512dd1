import GatehouseCore
import HTTPTypes
import Hummingbird
import Logging

/// Turns every error thrown below it, including unknown routes and oversized bodies, into the JSON shape:
/// `OAuthError`s in RFC 6749's, everything else in `APIError`'s. Every Bearer challenge names the protected
/// resource metadata (RFC 9728 §5.1), so a client that was refused learns where to get a token.
package struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The URL of Gatehouse's protected resource metadata, if challenges should name it.
    let resourceMetadata: String?

    package init(resourceMetadata: String? = nil) {
        self.resourceMetadata = resourceMetadata
    }

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response: Response
        do {
            return try await next(request, context)
        } catch let error as OAuthError {
            response = try error.response(from: request, context: context)
        } catch let failure as OAuthFailure {
            response = try OAuthError(failure).response(from: request, context: context)
        } catch {
            response = try APIError(from: error, logger: context.logger).response(from: request, context: context)
        }
        if let resourceMetadata, let challenge = response.headers[.wwwAuthenticate], challenge.hasPrefix("Bearer") {
            response.headers[.wwwAuthenticate] = challenge + #", resource_metadata="\#(resourceMetadata)""#
        }
        return response
    }
}
