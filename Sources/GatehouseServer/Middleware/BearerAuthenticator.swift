import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// The one authenticator of `/api/v1`: reads `Authorization: Bearer <credential>` (RFC 6750 §2.1), has it
/// verified (API keys and OAuth access tokens, through this instance's credential cache) and puts the principal,
/// the epoch it was read at and the credential itself on the context. Every failure is thrown for `APIError` to
/// put on the wire.
package struct BearerAuthenticator: RouterMiddleware {
    package typealias Context = AppRequestContext
    let credentials: CachedCredentials
    let metrics: GatehouseMetrics?

    package init(credentials: CachedCredentials, metrics: GatehouseMetrics? = nil) {
        self.credentials = credentials
        self.metrics = metrics
    }

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            metrics?.credentialRefused("missing")
            throw APIError.unauthorized
        }
        let (bearer, principal, epoch) = try await authenticate(header)
        var context = context
        context.principal = principal
        context.credentialEpoch = epoch
        context.bearerCredential = bearer
        return try await next(request, context)
    }

    /// The credential, the principal it stands for and the epoch it was read at; a refusal is counted.
    private func authenticate(_ header: String) async throws -> (String, Principal, Int64) {
        do {
            guard let bearer = Self.bearerCredential(header),
                let (principal, epoch) = try await credentials.principal(for: bearer)
            else { throw CredentialRefusal.invalid }
            return (bearer, principal, epoch)
        } catch let refusal as CredentialRefusal {
            metrics?.credentialRefused(refusal.metricLabel)
            throw refusal
        }
    }

    /// The credential of a `Bearer` authorization, whose scheme is case-insensitive (RFC 9110 §11.1), with the
    /// spaces around it dropped. It runs on every request, so it reads bytes rather than splitting strings.
    static func bearerCredential(_ header: String) -> String? {
        let bytes = header.utf8
        var index = bytes.startIndex
        for letter in "bearer".utf8 {
            // ASCII letters compare case-insensitively with the 0x20 bit set.
            guard index != bytes.endIndex, bytes[index] | 0x20 == letter else { return nil }
            index = bytes.index(after: index)
        }
        guard index != bytes.endIndex, bytes[index] == UInt8(ascii: " ") else { return nil }
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let start = bytes[index...].firstIndex(where: { !isBlank($0) }),
            let last = bytes[start...].lastIndex(where: { !isBlank($0) })
        else { return nil }
        return String(header[start...last])
    }
}

extension CredentialRefusal {
    /// Why, as the `reason` label of `gatehouse_credential_refusals_total`.
    var metricLabel: String {
        switch self {
        case .invalid: "invalid"
        case .userDeactivated: "user_deactivated"
        case .privacyNoticeNotAccepted: "privacy_notice_not_accepted"
        case .clientDisabled: "client_disabled"
        case .makerDeactivated: "maker_deactivated"
        }
    }
}
