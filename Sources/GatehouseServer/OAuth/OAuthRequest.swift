import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// The parameters of an OAuth endpoint's `application/x-www-form-urlencoded` body (RFC 6749 §3.2), each
/// at most once (§3.1), and the client credentials sent with them (§2.3.1).
struct OAuthRequest {
    let parameters: [String: String]
    /// From HTTP Basic or the body; nil when the client sent neither.
    let clientID: String?
    let clientSecret: String?

    static func read(_ request: Request, context: AppRequestContext) async throws -> OAuthRequest {
        let parameters: [String: String]
        do {
            parameters = try await FormEncoded.body(of: request, context: context).singleValued()
        } catch let error as FormError {
            throw OAuthError.invalidRequest(error.message)
        }
        let basic = try request.headers[.authorization].flatMap(basicCredentials)
        if let basic {
            guard parameters["client_secret"] == nil else {
                throw OAuthError.invalidRequest("Authenticate with HTTP Basic or with client_secret, not both.")
            }
            if let bodyID = parameters["client_id"], bodyID != basic.id {
                throw OAuthError.invalidRequest("The client_id in the body differs from the one in HTTP Basic.")
            }
        }
        return OAuthRequest(
            parameters: parameters, clientID: basic?.id ?? parameters["client_id"],
            clientSecret: basic?.secret ?? parameters["client_secret"])
    }

    /// The client id and secret of an `Authorization: Basic` header, each form-decoded (RFC 6749 §2.3.1).
    /// A header with another scheme is not client authentication.
    static func basicCredentials(_ header: String) throws -> (id: String, secret: String)? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic" else { return nil }
        guard let data = Data(base64Encoded: String(FormEncoded.trimmedBlanks(parts[1]))),
            let text = String(validating: data, as: UTF8.self), let colon = text.firstIndex(of: ":"),
            let id = FormEncoded.decode(text[..<colon]),
            let secret = FormEncoded.decode(text[text.index(after: colon)...])
        else { throw OAuthError.invalidClient("The HTTP Basic credentials are malformed.") }
        return (id, secret)
    }
}
