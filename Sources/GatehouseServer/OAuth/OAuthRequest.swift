import Foundation
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
        guard let body = try await formBody(request, context: context) else {
            throw OAuthError.invalidRequest("The body must be application/x-www-form-urlencoded.")
        }
        let parameters = try parse(body)
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

    /// The body's text when it is `application/x-www-form-urlencoded`; nil when it is another type. Shared by
    /// the OAuth endpoints and the HTML forms, which answer a wrong type each in their own shape.
    static func formBody(_ request: Request, context: AppRequestContext) async throws -> String? {
        let contentType = request.headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        guard contentType == "application/x-www-form-urlencoded" else { return nil }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        return String(decoding: body.readableBytesView, as: UTF8.self)
    }

    /// Splits `a=1&b=2` into its pairs in order, decoding `+` and percent escapes; nil when it is not valid
    /// form encoding.
    static func pairs(_ text: String) -> [(name: String, value: String)]? {
        var pairs: [(name: String, value: String)] = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = formDecode(parts[0]), let value = formDecode(parts.count == 2 ? parts[1] : "") else {
                return nil
            }
            pairs.append((name, value))
        }
        return pairs
    }

    /// Splits `a=1&b=2`, decoding `+` and percent escapes; a repeated parameter is refused.
    static func parse(_ text: String) throws -> [String: String] {
        guard let pairs = pairs(text) else { throw OAuthError.invalidRequest("The body is not valid form encoding.") }
        var parameters: [String: String] = [:]
        for (name, value) in pairs {
            guard parameters[name] == nil else {
                throw OAuthError.invalidRequest("The parameter '\(name.prefix(64))' is sent more than once.")
            }
            // An empty value counts as absent (RFC 6749 §3.1).
            if !value.isEmpty { parameters[name] = value }
        }
        return parameters
    }

    /// The client id and secret of an `Authorization: Basic` header, each form-decoded (RFC 6749 §2.3.1).
    /// A header with another scheme is not client authentication.
    private static func basicCredentials(_ header: String) throws -> (id: String, secret: String)? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic" else { return nil }
        guard let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":"),
            let id = formDecode(text[..<colon]), let secret = formDecode(text[text.index(after: colon)...])
        else { throw OAuthError.invalidClient("The HTTP Basic credentials are malformed.") }
        return (id, secret)
    }

    private static func formDecode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
