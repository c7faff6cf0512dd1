import HTTPTypes
import Hummingbird

/// Baseline headers on every response: no MIME sniffing, no framing, no referrer leaks.
package struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    package init() {}

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "no-referrer"
        if response.headers[.contentSecurityPolicy] == nil {
            response.headers[.contentSecurityPolicy] = "default-src 'self'; frame-ancestors 'none'"
        }
        return response
    }
}

extension HTTPField.Name {
    static let xFrameOptions = HTTPField.Name(literal: "X-Frame-Options")
    static let referrerPolicy = HTTPField.Name(literal: "Referrer-Policy")

    /// A header name from a literal in our own code, so no input can reach the failure.
    init(literal: StaticString) {
        guard let name = HTTPField.Name("\(literal)") else { preconditionFailure("'\(literal)' is not a header name") }
        self = name
    }
}
