import Foundation
import GatehouseCore
import Hummingbird

/// A JSON object an `/api/v1` endpoint accepts, with the fields it knows, so a misspelt or unsupported field
/// is refused instead of silently ignored.
protocol RequestBody: Decodable {
    /// The accepted field names as sent on the wire (snake_case).
    static var fields: [String] { get }
    /// The fields for which `null` means something (clearing the value); anywhere else `null` is refused, so
    /// it is never taken for an absent field.
    static var nullable: Set<String> { get }
}

extension RequestBody {
    static var nullable: Set<String> { [] }
}

extension Request {
    /// Reads the body as `Body`, or throws a 400 whose message names the field and what is wrong with it:
    /// not JSON, not an object, an unknown field, a missing one, or a value of the wrong type. With
    /// `optional`, an empty body stands for `{}`.
    func decodeBody<Body: RequestBody>(
        as type: Body.Type, context: AppRequestContext, optional: Bool = false
    ) async throws -> Body {
        var request = self
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        let data = optional && buffer.readableBytes == 0 ? Data("{}".utf8) : Data(buffer.readableBytesView)
        return try Self.decodeJSON(Body.self, from: data, decoder: context.requestDecoder)
    }

    static func decodeJSON<Body: RequestBody>(_ type: Body.Type, from data: Data, decoder: JSONDecoder) throws -> Body {
        func refuse(_ message: String) -> APIError { APIError(.badRequest, code: "bad_request", message: message) }
        guard !data.isEmpty else { throw refuse("The request needs a JSON object as its body.") }
        guard let parsed = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw refuse("The body is not valid JSON.")
        }
        guard let object = parsed as? [String: Any] else { throw refuse("The body must be a JSON object.") }
        let unknown = Set(object.keys).subtracting(Body.fields).sorted()
        guard unknown.isEmpty else {
            let names = unknown.map { "'\($0.prefix(64))'" }.joined(separator: ", ")
            throw refuse(
                "Unknown field\(unknown.count == 1 ? "" : "s") \(names); this endpoint accepts "
                    + Body.fields.joined(separator: ", ") + ".")
        }
        if let null = object.keys.sorted().first(where: { object[$0] is NSNull && !Body.nullable.contains($0) }) {
            throw refuse("The field '\(null)' must not be null.")
        }
        do {
            return try decoder.decode(Body.self, from: data)
        } catch let error as DecodingError {
            throw refuse(Self.explain(error))
        }
    }

    /// A sentence naming the field (in snake_case, as sent) and what is wrong with its value.
    private static func explain(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "The field '\(path(context.codingPath + [key]))' is required."
        case .valueNotFound(_, let context):
            return "The field '\(path(context.codingPath))' must not be null."
        case .typeMismatch(let type, let context):
            return "The field '\(path(context.codingPath))' must be \(describe(type))."
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "The body is not valid JSON." }
            let expected =
                if context.debugDescription.contains("ISO8601") {
                    "an ISO 8601 date and time, such as 2027-01-31T12:00:00Z"
                } else if context.debugDescription.contains("does not fit") {
                    "a whole number in range"
                } else {
                    "a valid value"
                }
            return "The field '\(path(context.codingPath))' must be \(expected)."
        @unknown default:
            return "The body does not have the expected fields."
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { key in key.intValue.map { "[\($0)]" } ?? snakeCase(key.stringValue) }
            .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    private static func snakeCase(_ name: String) -> String {
        name.reduce(into: "") { result, character in
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is Double.Type: "a number"
        case is [Any].Type: "a list"
        case is [String: Any].Type: "an object"
        default:
            String(describing: type).hasPrefix("Array") ? "a list" : "a value of another type"
        }
    }
}
