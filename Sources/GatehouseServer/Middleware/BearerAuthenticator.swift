import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// The one authenticator of `/api/v1`: reads `Authorization: Bearer <credential>` (RFC 6750 §2.1), has it
/// verified (API keys and OAuth access tokens, through this instance's credential cache) and puts the principal
/// and the epoch it was read at on the context. Every failure is thrown for `APIError` to put on the wire.
package struct BearerAuthenticator: RouterMiddleware {
    package typealias Context = AppRequestContext
    let credentials: CachedCredentials

    package init(credentials: CachedCredentials) { self.credentials = credentials }

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization] else { throw APIError.unauthorized }
        guard let bearer = Self.bearerCredential(header) else { throw CredentialRefusal.invalid }
        guard let (principal, epoch) = try await credentials.principal(for: bearer) else {
            throw CredentialRefusal.invalid
        }
        var context = context
        context.principal = principal
        context.credentialEpoch = epoch
        return try await next(request, context)
    }

    /// The credential of a `Bearer` authorization, whose scheme is case-insensitive (RFC 9110 §11.1).
    static func bearerCredential(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let credential = parts[1].trimmingCharacters(in: .whitespaces)
        return credential.isEmpty ? nil : credential
    }
}
