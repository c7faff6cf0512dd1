import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import NIOCore

/// The per-request state every Gatehouse handler sees.
///
/// The Bearer authenticator puts the verified principal here, so handlers ask the context and never read
/// credentials from headers themselves.
package struct AppRequestContext: RequestContext {
    /// Request bodies larger than this are refused with 413.
    package static let maximumBodySize = 1 << 20

    package var coreContext: CoreRequestContextStorage
    /// Who the request acts as, once `BearerAuthenticator` has verified its credential.
    package var principal: Principal?
    /// The credential epoch `principal` was read at; the rate limiter checks it against the store's.
    package var credentialEpoch: Int64?
    /// The Bearer credential `principal` was verified from, kept so the rate limiter can verify it again when the
    /// epoch has moved, without reading the header a second time.
    package var bearerCredential: String?
    /// The client's IP address, for the audit trail and the sign-in throttle: the peer's, or behind a trusted
    /// proxy the one it forwarded (`ClientAddressMiddleware`).
    package var remoteAddress: String?

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    package var maxUploadSize: Int { Self.maximumBodySize }

    /// JSON in: snake_case keys, ISO 8601 dates.
    package var requestDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// JSON out, by `JSONWriter`: snake_case keys, ISO 8601 dates, sorted keys so output is stable, slashes
    /// unescaped.
    package var responseEncoder: JSONResponseEncoder { JSONResponseEncoder() }

    /// The domain's view of who is asking. Only routes behind the authenticator call it.
    package func caller() throws -> Caller {
        guard let principal else { throw APIError.unauthorized }
        return Caller(principal, address: remoteAddress)
    }
}
