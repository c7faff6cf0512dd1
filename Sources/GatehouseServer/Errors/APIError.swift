import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Logging

/// The one JSON error shape of Gatehouse's own endpoints: `{"error": code, "message": text}`.
///
/// Every error that leaves a handler or middleware is turned into one of these in `APIError.init(from:)`,
/// the single place where internal errors meet the wire.
package struct APIError: Error, HTTPResponseError, Sendable {
    package var status: HTTPResponse.Status
    /// A stable, machine-readable code such as `not_found`.
    package var code: String
    /// A sentence for the person reading the response. Never holds a secret or an internal detail.
    package var message: String
    package var headers: HTTPFields = [:]
    /// For 429 only: the same number as the `Retry-After` header.
    package var retryAfterSeconds: Int?

    package init(
        _ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:],
        retryAfterSeconds: Int? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.retryAfterSeconds = retryAfterSeconds
    }

    private struct Body: Encodable {
        let error: String
        let message: String
        let retry_after_seconds: Int?
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        // Sorted keys put "error" first, as documented.
        var response = try Response.json(
            Body(error: code, message: message, retry_after_seconds: retryAfterSeconds))
        response.status = status
        response.headers.append(contentsOf: headers)
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

extension APIError {
    package static func notFound(_ message: String = "There is nothing at this address.") -> APIError {
        APIError(.notFound, code: "not_found", message: message)
    }

    package static let internalError = APIError(
        .internalServerError, code: "server_error",
        message: "Something went wrong on our side. The request id in X-Request-ID helps us find it.")

    /// The database is out of reach; clients may try again in a few seconds (`Retry-After`).
    package static let unavailable = APIError(
        .serviceUnavailable, code: "unavailable", message: "The service cannot reach its database right now.",
        headers: [.retryAfter: "\(retryAfterUnavailable)"])

    /// Seconds a client is asked to wait when the database is out of reach.
    package static let retryAfterUnavailable = 5

    /// Maps any error to the wire shape. Unknown errors become a bare 500 and are logged with their cause.
    package init(from error: any Error, logger: Logger) {
        switch error {
        case let error as APIError:
            self = error
        case let error as DomainError:
            self = Self.map(error)
        case let refusal as CredentialRefusal:
            self = Self.map(refusal)
        case is StoreUnavailable:
            logger.error("store unavailable", metadata: ["error": "\(error)"])
            self = .unavailable
        case let error as any HTTPResponseError:
            self = Self.map(framework: error)
        default:
            logger.error("unhandled error", metadata: ["error.type": "\(type(of: error))", "error": "\(error)"])
            self = .internalError
        }
    }

    private static func map(_ error: DomainError) -> APIError {
        let code =
            switch error {
            case .invalidInput: "bad_request"
            case .notFound: "not_found"
            case .conflict: "conflict"
            case .forbidden: "forbidden"
            }
        return APIError(error.status, code: code, message: error.message)
    }

    /// One answer for every credential that is missing, malformed, unknown, revoked or expired, so a caller
    /// learns nothing about which keys exist (RFC 6750 §3).
    package static let unauthorized = APIError(
        .unauthorized, code: "unauthorized",
        message: "The request needs a valid API key or access token, sent as 'Authorization: Bearer <credential>'.",
        headers: [.wwwAuthenticate: #"Bearer realm="gatehouse""#])

    private static func map(_ refusal: CredentialRefusal) -> APIError {
        switch refusal {
        case .invalid:
            var error = unauthorized
            error.headers[.wwwAuthenticate] = #"Bearer realm="gatehouse", error="invalid_token""#
            return error
        case .userDeactivated:
            return APIError(
                .unauthorized, code: "unauthorized",
                message: "The user this credential belongs to is deactivated; an admin can reactivate them.",
                headers: [.wwwAuthenticate: #"Bearer realm="gatehouse", error="invalid_token""#])
        case .clientDisabled:
            return APIError(
                .unauthorized, code: "unauthorized",
                message: "The client application this key belongs to is disabled; an admin can enable it again.",
                headers: [.wwwAuthenticate: #"Bearer realm="gatehouse", error="invalid_token""#])
        case .makerDeactivated:
            return APIError(
                .unauthorized, code: "unauthorized",
                message: "The person who made this key for its owner is deactivated, so the key no longer works; "
                    + "its owner or an admin can make a new one.",
                headers: [.wwwAuthenticate: #"Bearer realm="gatehouse", error="invalid_token""#])
        case .privacyNoticeNotAccepted:
            return APIError(
                .forbidden, code: "privacy_notice_not_accepted",
                message: "The user this credential belongs to has not accepted the privacy notice yet. "
                    + "They must sign in to Gatehouse once in a browser and accept it; the credential works from then on."
            )
        }
    }

    /// Hummingbird's own errors (unknown route, body too large, undecodable JSON) in our shape.
    private static func map(framework error: any HTTPResponseError) -> APIError {
        let status = error.status
        let headers = (error as? HTTPError)?.headers ?? [:]
        switch status {
        case .notFound:
            return .notFound()
        case .contentTooLarge:
            return APIError(
                status, code: "payload_too_large", message: "The request body is larger than the 1 MiB limit.")
        case .methodNotAllowed:
            return APIError(
                status, code: "method_not_allowed", message: "This address does not accept that method.",
                headers: headers)
        default:
            let message = (error as? HTTPError)?.body ?? status.reasonPhrase
            let code = status.code < 500 ? "bad_request" : "server_error"
            return APIError(status, code: code, message: message, headers: headers)
        }
    }
}

extension DomainError {
    /// The HTTP status of a domain refusal: the same on the JSON API and on the pages.
    var status: HTTPResponse.Status {
        switch self {
        case .invalidInput: .badRequest
        case .notFound: .notFound
        case .conflict: .conflict
        case .forbidden: .forbidden
        }
    }
}
