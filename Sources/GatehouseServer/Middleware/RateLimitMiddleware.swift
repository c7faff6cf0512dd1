import GatehouseCore
import HTTPTypes
import Hummingbird

/// Counts every authenticated request against its credential's per-minute limit, answers 429 past it, and
/// tells clients where they stand on every response (IETF httpapi `RateLimit` and `RateLimit-Policy`).
///
/// First it checks the credential epoch (`CredentialCache.currentEpoch(in:)`). When it has moved since the principal
/// was read (from the cache or the store), something about the credential may have changed, here or on another
/// instance: the credential is verified again from the store, and its limit is the one counted.
package struct RateLimitMiddleware: RouterMiddleware {
    package typealias Context = AppRequestContext
    let limiter: RateLimiter
    let credentials: CachedCredentials
    let metrics: GatehouseMetrics?

    package init(limiter: RateLimiter, credentials: CachedCredentials, metrics: GatehouseMetrics? = nil) {
        self.limiter = limiter
        self.credentials = credentials
        self.metrics = metrics
    }

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard var principal = context.principal else { return try await next(request, context) }
        var context = context
        let epoch = try await credentials.cache.currentEpoch(in: credentials.store)
        if let readAt = context.credentialEpoch, readAt < epoch {
            guard let bearer = context.bearerCredential, let current = try await credentials.fresh(for: bearer)
            else { throw CredentialRefusal.invalid }
            principal = current.principal
            context.principal = principal
            context.credentialEpoch = current.epoch
        }
        let decision = try await limiter.admit(bucket: Self.bucket(principal), limit: principal.rateLimitPerMinute)
        let fields = Self.fields(decision)
        guard decision.allowed else {
            metrics?.rateLimited("api")
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

    static func bucket(_ principal: Principal) -> String {
        switch principal.credential {
        case .apiKey(let id): "api_key:\(id)"
        // Every grant of one user to one client shares a count, so authorizing again buys no more requests.
        case .accessToken(_, let grant?, let client):
            principal.user.map { "token_user:\($0.id):\(client)" } ?? "token_grant:\(grant)"
        // Every token a client issues itself shares the client's count, so minting more buys no more requests.
        case .accessToken(_, nil, let client): "token_client:\(client)"
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
