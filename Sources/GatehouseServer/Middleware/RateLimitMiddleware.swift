import GatehouseCore
import HTTPTypes
import Hummingbird

/// Counts every authenticated request against its credential's per-minute limit, answers 429 past it, and
/// tells clients where they stand on every response (IETF httpapi `RateLimit` and `RateLimit-Policy`).
package struct RateLimitMiddleware: RouterMiddleware {
    package typealias Context = AppRequestContext
    let limiter: RateLimiter

    package init(limiter: RateLimiter) { self.limiter = limiter }

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let principal = context.principal else { return try await next(request, context) }
        let decision = try await limiter.admit(
            bucket: Self.bucket(principal.credential), limit: principal.rateLimitPerMinute)
        let fields = Self.fields(decision)
        guard decision.allowed else {
            var error = APIError(
                .tooManyRequests, code: "rate_limit_exceeded",
                message: "This \(principal.credential.noun) may make \(decision.limit) requests a minute; "
                    + "try again in \(decision.resetAfter) seconds.",
                headers: fields, retryAfterSeconds: decision.resetAfter)
            error.headers[.retryAfter] = "\(decision.resetAfter)"
            throw error
        }
        do {
            var response = try await next(request, context)
            response.headers.append(contentsOf: fields)
            return response
        } catch {
            var mapped = APIError(from: error, logger: context.logger)
            mapped.headers.append(contentsOf: fields)
            throw mapped
        }
    }

    static func bucket(_ credential: CredentialKind) -> String {
        switch credential {
        case .apiKey(let id): "api_key:\(id)"
        case .accessToken(_, let grant, _): "token_grant:\(grant)"
        case .webSession: "web_session"
        }
    }

    static func fields(_ decision: RateLimitDecision) -> HTTPFields {
        [
            .rateLimitPolicy: #""key";q=\#(decision.limit);w=60"#,
            .rateLimit: #""key";r=\#(decision.remaining);t=\#(decision.resetAfter)"#,
        ]
    }
}

extension HTTPField.Name {
    /// `RateLimit-Policy`, from the IETF httpapi rate-limit fields draft.
    package static let rateLimitPolicy = HTTPField.Name(literal: "RateLimit-Policy")
    /// `RateLimit`, from the same draft: what is left and when the window resets.
    package static let rateLimit = HTTPField.Name(literal: "RateLimit")
}
