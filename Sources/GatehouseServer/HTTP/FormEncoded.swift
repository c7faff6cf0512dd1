import GatehouseCore
import Hummingbird

/// Why a form-encoded body or query could not be read. OAuth endpoints answer it as `invalid_request`, pages
/// as a bad-request page.
enum FormError: Error, Equatable {
    /// The body's media type is not `application/x-www-form-urlencoded`.
    case notFormEncoded
    /// A broken percent escape, or bytes that are not UTF-8.
    case malformed
    /// A parameter that must come at most once came twice (RFC 6749 §3.1).
    case repeated(String)

    /// A sentence for the person who sent it.
    var message: String {
        switch self {
        case .notFormEncoded: "The body must be sent as application/x-www-form-urlencoded."
        case .malformed: "The body is not valid form encoding."
        case .repeated(let name): "The parameter '\(name.prefix(64))' is sent more than once."
        }
    }
}

/// `a=1&b=2` text, as OAuth endpoints (RFC 6749 §3.2), HTML forms and query strings send it: its pairs in order,
/// `+` and percent escapes decoded. The one reader of form encoding; each edge maps its `FormError`.
struct FormEncoded {
    let pairs: [(name: String, value: String)]

    /// Splits `text` into its pairs, decoding each part.
    init(parsing text: String) throws(FormError) {
        var pairs: [(name: String, value: String)] = []
        // Split on bytes: splitting a String walks its grapheme clusters, which a long token makes slow.
        for pair in text.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(Substring(parts[0])),
                let value = Self.decode(parts.count == 2 ? Substring(parts[1]) : "")
            else { throw .malformed }
            pairs.append((name, value))
        }
        self.pairs = pairs
    }

    /// The body of `request`, which must be `application/x-www-form-urlencoded`.
    static func body(of request: Request, context: AppRequestContext) async throws -> FormEncoded {
        guard let contentType = request.headers[.contentType],
            contentType.split(separator: ";", maxSplits: 1).first.map(trimmedBlanks)?.lowercased()
                == "application/x-www-form-urlencoded"
        else { throw FormError.notFormEncoded }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        return try FormEncoded(parsing: String(decoding: body.readableBytesView, as: UTF8.self))
    }

    /// The query string of `request`.
    static func query(of request: Request) throws(FormError) -> FormEncoded {
        try FormEncoded(parsing: request.uri.query ?? "")
    }

    /// Each parameter by name, each at most once; an empty value counts as absent (RFC 6749 §3.1).
    func singleValued() throws(FormError) -> [String: String] {
        var parameters: [String: String] = [:]
        for (name, value) in pairs {
            guard parameters[name] == nil else { throw .repeated(name) }
            if !value.isEmpty { parameters[name] = value }
        }
        return parameters
    }

    /// `+` as a space and `%XX` as the byte it names; nil for a broken escape or bytes that are not UTF-8, as
    /// `removingPercentEncoding` would say. It runs for every parameter of every OAuth request, so on bytes.
    static func decode(_ text: Substring) -> String? {
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
