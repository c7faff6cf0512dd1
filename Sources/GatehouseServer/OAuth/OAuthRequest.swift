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
        guard let contentType = request.headers[.contentType],
            contentType.split(separator: ";", maxSplits: 1).first.map(trimmedBlanks)?.lowercased()
                == "application/x-www-form-urlencoded"
        else { return nil }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        return String(decoding: body.readableBytesView, as: UTF8.self)
    }

    /// Splits `a=1&b=2` into its pairs in order, decoding `+` and percent escapes; nil when it is not valid
    /// form encoding.
    static func pairs(_ text: String) -> [(name: String, value: String)]? {
        var pairs: [(name: String, value: String)] = []
        // Split on bytes: splitting a String walks its grapheme clusters, which a long token makes slow.
        for pair in text.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = formDecode(Substring(parts[0])),
                let value = formDecode(parts.count == 2 ? Substring(parts[1]) : "")
            else { return nil }
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
    static func basicCredentials(_ header: String) throws -> (id: String, secret: String)? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic" else { return nil }
        guard let data = Data(base64Encoded: String(trimmedBlanks(parts[1]))),
            let text = String(validating: data, as: UTF8.self), let colon = text.firstIndex(of: ":"),
            let id = formDecode(text[..<colon]), let secret = formDecode(text[text.index(after: colon)...])
        else { throw OAuthError.invalidClient("The HTTP Basic credentials are malformed.") }
        return (id, secret)
    }

    /// `+` as a space and `%XX` as the byte it names; nil for a broken escape or bytes that are not UTF-8, as
    /// `removingPercentEncoding` would say. It runs for every parameter of every OAuth request, so on bytes.
    static func formDecode(_ text: Substring) -> String? {
        let encoded = text.utf8
        guard encoded.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "%") }) else {
            return String(text)
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(encoded.count)
        var index = encoded.startIndex
        while index != encoded.endIndex {
            let byte = encoded[index]
            index = encoded.index(after: index)
            switch byte {
            case UInt8(ascii: "+"): decoded.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard index != encoded.endIndex, let high = hexDigitValue(encoded[index]) else { return nil }
                index = encoded.index(after: index)
                guard index != encoded.endIndex, let low = hexDigitValue(encoded[index]) else { return nil }
                index = encoded.index(after: index)
                decoded.append(high << 4 | low)
            default: decoded.append(byte)
            }
        }
        return String(validating: decoded, as: UTF8.self)
    }

    /// `text` without the spaces and tabs around it.
    static func trimmedBlanks(_ text: Substring) -> Substring {
        let isBlank = { (character: Character) in character == " " || character == "\t" }
        guard let first = text.firstIndex(where: { !isBlank($0) }), let last = text.lastIndex(where: { !isBlank($0) })
        else { return "" }
        return text[first...last]
    }
}
