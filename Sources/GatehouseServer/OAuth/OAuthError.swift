import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// An error of the OAuth endpoints, in RFC 6749 §5.2's shape: `{"error": code, "error_description": text}`,
/// never cached. `/api/v1` uses `APIError` instead; `ErrorMiddleware` puts either on the wire.
package struct OAuthError: Error, Sendable {
    package var status: HTTPResponse.Status
    package var code: OAuthErrorCode
    package var description: String
    package var headers: HTTPFields = [:]

    package static func invalidRequest(_ description: String) -> OAuthError {
        OAuthError(status: .badRequest, code: .invalidRequest, description: description)
    }

    /// Client authentication failed (RFC 6749 §5.2): 401, with a challenge for HTTP Basic.
    package static func invalidClient(
        _ description: String = "Client authentication failed: unknown client, wrong secret, or disabled client."
    ) -> OAuthError {
        OAuthError(
            status: .unauthorized, code: .invalidClient, description: description,
            headers: [.wwwAuthenticate: #"Basic realm="gatehouse", charset="UTF-8""#])
    }

    /// A protected resource's refusal of a Bearer request (RFC 6750 §3), with its `WWW-Authenticate` challenge.
    /// The challenge names the error unless the request had no credential at all (§3.1), and the scope it lacked.
    package static func bearer(
        _ status: HTTPResponse.Status, _ code: OAuthErrorCode, _ description: String, namingTheError: Bool = true,
        scope: String? = nil
    ) -> OAuthError {
        var challenge = #"Bearer realm="gatehouse""#
        if namingTheError { challenge += #", error="\#(code.rawValue)""# }
        if let scope { challenge += #", scope="\#(scope)""# }
        return OAuthError(status: status, code: code, description: description, headers: [.wwwAuthenticate: challenge])
    }

    /// The wire form of a refusal by the rules: 401 with a Basic challenge for `invalid_client`, 500 for
    /// `server_error`, 400 for the rest (RFC 6749 §5.2).
    package init(_ failure: OAuthFailure) {
        switch failure.code {
        case .invalidClient: self = .invalidClient(failure.description)
        case .serverError:
            self.init(status: .internalServerError, code: failure.code, description: failure.description)
        default: self.init(status: .badRequest, code: failure.code, description: failure.description)
        }
    }

    package init(
        status: HTTPResponse.Status, code: OAuthErrorCode, description: String, headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.description = description
        self.headers = headers
    }

    private struct Body: Encodable {
        let error: String
        let error_description: String
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try Response.json(Body(error: code.rawValue, error_description: description))
        response.status = status
        response.headers.append(contentsOf: headers)
        response.headers[.cacheControl] = "no-store"
        // RFC 6749 §5.1 still asks for Pragma, for old HTTP/1.0 caches.
        response.headers[.pragma] = "no-cache"
        return response
    }
}
