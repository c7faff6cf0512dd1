import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// The one authenticator of `/api/v1`: reads `Authorization: Bearer <credential>` (RFC 6750 §2.1), asks each
/// credential verifier in turn (API keys now, OAuth access tokens later) and puts the principal on the
/// context. Every failure is thrown for `APIError` to put on the wire.
package struct BearerAuthenticator: RouterMiddleware {
    package typealias Context = AppRequestContext
    let verifiers: [any CredentialVerifier]

    package init(verifiers: [any CredentialVerifier]) { self.verifiers = verifiers }

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization] else { throw APIError.unauthorized }
        guard let bearer = Self.bearerCredential(header) else { throw CredentialRefusal.invalid }
        for verifier in verifiers {
            if let principal = try await verifier.principal(for: bearer) {
                var context = context
                context.principal = principal
                return try await next(request, context)
            }
        }
        throw CredentialRefusal.invalid
    }

    /// The credential of a `Bearer` authorization, whose scheme is case-insensitive (RFC 9110 §11.1).
    static func bearerCredential(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let credential = parts[1].trimmingCharacters(in: .whitespaces)
        return credential.isEmpty ? nil : credential
    }
}
