import HTTPTypes
import Hummingbird

/// Refuses a request whose declared body is larger than the limit before any of it is read.
///
/// Bodies without a length (chunked) are bounded where they are read, by `AppRequestContext.maxUploadSize`.
package struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Int

    package init(limit: Int) { self.limit = limit }

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw HTTPError(.contentTooLarge)
        }
        return try await next(request, context)
    }
}
