import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import GatehouseServer

/// Every body the API writes has the shape Templates/openapi.json documents: each representation, written as the
/// server writes it, is checked against its schema in the document — the names, the types, what is required,
/// what may be null, and nothing more. Renaming, dropping or adding a field fails here until the document says
/// so too. (scripts/e2e-contract checks live answers the same way with schemathesis.)
@Suite("Response shapes against the OpenAPI document")
struct ResponseShapeTests {
    static func json(_ value: some Encodable) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(try JSONWriter().encode(value)))
    }

    /// The document, read once for every check.
    static let document = Result {
        let data = try Data(contentsOf: URL(fileURLWithPath: templatesDirectory + "/openapi.json"))
        return SchemaCheck(document: try JSONDecoder().decode(JSONValue.self, from: data))
    }

    static func schemas() throws -> SchemaCheck { try document.get() }

    /// Expects `value` to match the document's `#/components/schemas/<name>`.
    static func expect(
        _ value: some Encodable, matches name: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let problems = try schemas().problems(try json(value), against: .reference("#/components/schemas/\(name)"))
        #expect(problems.isEmpty, "\(name): \(problems)", sourceLocation: sourceLocation)
    }

    /// Expects `value` to match what the document says `method path` answers with `status`.
    static func expect(
        _ value: some Encodable, answers method: String, _ path: String, status: String = "200",
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let check = try schemas()
        let schema = try #require(check.responseSchema(method, path, status: status), sourceLocation: sourceLocation)
        let problems = check.problems(try json(value), against: schema)
        #expect(problems.isEmpty, "\(method) \(path): \(problems)", sourceLocation: sourceLocation)
    }

    @Test func everyRepresentationHasItsDocumentedShape() throws {
        let workspace = try Fixture.workspace()
        let user = try Fixture.user("ada@acme.test", in: workspace, role: .admin)
        var detailed = user
        detailed.title = "Engineer"
        detailed.privacyNoticeAcceptedAt = Fixture.epoch
        try Self.expect(UserRepresentation(user), matches: "User")
        try Self.expect(UserRepresentation(detailed), matches: "User")
        try Self.expect(Listing(items: [UserRepresentation(user)], name: "users"), answers: "get", "/api/v1/users")
        let sales = Department(workspaceID: workspace.id, name: "Sales", createdAt: Fixture.epoch)
        try Self.expect(DepartmentRepresentation(sales), matches: "Department")

        let (client, secret) = try Fixture.client("acme-web", in: workspace, redirectURIs: ["https://app.example/cb"])
        try Self.expect(ClientRepresentation(client), matches: "Client")
        try Self.expect(
            ClientWithSecret(client: ClientRepresentation(client), secret: secret?.value), matches: "ClientWithSecret")

        let plaintext = PlaintextKey.generate(prefix: .standard)
        let key = APIKey(
            workspaceID: workspace.id, owner: .user(user.id), name: "ci", prefix: plaintext.prefix,
            lastFour: plaintext.lastFour, digest: try Fixture.peppers().current.digest(plaintext),
            scopes: .ownerRights, rateLimitPerMinute: 10, createdBy: user.id, createdAt: Fixture.epoch,
            updatedAt: Fixture.epoch, expiresAt: Fixture.epoch.addingTimeInterval(86400))
        var serviceKey = key
        serviceKey.owner = .client(client.id)
        serviceKey.scopes = .only([.clientsRead])
        serviceKey.lastUsedAt = Fixture.epoch
        try Self.expect(APIKeyRepresentation(key), matches: "APIKey")
        try Self.expect(APIKeyRepresentation(serviceKey), matches: "APIKey")
        try Self.expect(
            CreatedAPIKey(apiKey: APIKeyRepresentation(key), key: plaintext.value), matches: "CreatedAPIKey")
        try Self.expect(
            Listing(items: [APIKeyRepresentation(key), APIKeyRepresentation(serviceKey)], name: "api_keys"),
            answers: "get", "/api/v1/api-keys")

        let scope = ScopeDefinition(
            workspaceID: workspace.id, scope: try Scope("okrs:read"), description: "OKRs", roles: [.user],
            createdAt: Fixture.epoch)
        try Self.expect(ScopeRepresentation(scope), matches: "Scope")
        let event = AuditEvent(
            workspaceID: workspace.id, actor: .commandLine, action: "client.created", targetKind: "client",
            targetID: "acme-web", address: "127.0.0.1", details: ["redirectURIs": "https://app.example/cb"],
            occurredAt: Fixture.epoch)
        try Self.expect(AuditEventRepresentation(event), matches: "AuditEvent")
        try Self.expect(
            Listing(items: [AuditEventRepresentation(event)], name: "audit_events", nextBefore: 7),
            answers: "get", "/api/v1/audit-events")
        try Self.expect(UserInfoClaims(sub: "\(user.id)", name: "Ada", email: nil), matches: "UserInfo")
        try Self.expect(IntrospectionResponse(nil), matches: "Introspection")
        let sealing = try Fixture.signingKeySecret()
        let keys = try SigningAlgorithm.allCases.map { try sealing.generateKey($0, at: Fixture.epoch) }
        try Self.expect(JWKSet(keys), matches: "JWKSet")
        try Self.expect(ServerMetadata(issuer: "https://id.example.com"), matches: "ServerMetadata")
    }

    @Test func errorsHaveTheirDocumentedShapes() async throws {
        let check = try Self.schemas()
        try await withApplication { client async throws in
            try await client.execute(uri: "/api/v1/users", method: .get) { response async throws in
                let body = try JSONDecoder().decode(JSONValue.self, from: Data(response.body.readableBytesView))
                #expect(check.problems(body, against: .reference("#/components/schemas/Error")).isEmpty)
            }
            try await client.execute(
                uri: "/oauth/token", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: .init(string: "grant_type=password")
            ) { response async throws in
                let body = try JSONDecoder().decode(JSONValue.self, from: Data(response.body.readableBytesView))
                #expect(check.problems(body, against: .reference("#/components/schemas/OAuthError")).isEmpty)
            }
        }
    }

    /// The check itself can fail: a field renamed, dropped, added, or of the wrong type, is each found.
    @Test func aShapeThatDriftsIsFound() throws {
        let check = try Self.schemas()
        let user = try Self.json(UserRepresentation(try Fixture.user("ada@acme.test", in: try Fixture.workspace())))
        guard case .object(let fields) = user else {
            Issue.record("a user is an object")
            return
        }
        let schema = JSONValue.reference("#/components/schemas/User")
        #expect(check.problems(user, against: schema).isEmpty)
        var renamed = fields
        renamed["employeeId"] = renamed.removeValue(forKey: "employee_id")
        var dropped = fields
        dropped["title"] = nil
        var added = fields
        added["password_hash"] = .string("x")
        var mistyped = fields
        mistyped["active"] = .string("yes")
        var nulled = fields
        nulled["email"] = .null
        for drifted in [renamed, dropped, added, mistyped, nulled] {
            #expect(!check.problems(.object(drifted), against: schema).isEmpty, "\(drifted)")
        }
    }
}

/// A JSON value as it was sent, with booleans and numbers told apart.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    static func reference(_ pointer: String) -> JSONValue { .object(["$ref": .string(pointer)]) }

    subscript(_ name: String) -> JSONValue? {
        if case .object(let fields) = self { fields[name] } else { nil }
    }

    var string: String? { if case .string(let text) = self { text } else { nil } }
    var array: [JSONValue]? { if case .array(let values) = self { values } else { nil } }
}

/// The part of JSON Schema 2020-12 the OpenAPI document uses, written for these tests: `$ref`, `type` (one or a
/// list), `required`, `properties`, `additionalProperties: false`, `unevaluatedProperties: false` with `allOf`,
/// `oneOf`, `enum`, `const`, `items`, `pattern`, `minimum`/`maximum` and the `date-time` and `uuid` formats.
struct SchemaCheck {
    let document: JSONValue

    /// The schema of the `status` answer of `method path`, following response references.
    func responseSchema(_ method: String, _ path: String, status: String) -> JSONValue? {
        guard var response = document["paths"]?[path]?[method]?["responses"]?[status] else { return nil }
        if let pointer = response["$ref"]?.string, let resolved = resolve(pointer) { response = resolved }
        return response["content"]?["application/json"]?["schema"]
    }

    /// What is wrong with `value` under `schema`; empty when nothing is.
    func problems(_ value: JSONValue, against schema: JSONValue, at path: String = "$") -> [String] {
        evaluate(value, schema, path).problems
    }

    private func resolve(_ pointer: String) -> JSONValue? {
        guard pointer.hasPrefix("#/") else { return nil }
        return pointer.dropFirst(2).split(separator: "/").reduce(document as JSONValue?) { node, part in
            node?[part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")]
        }
    }

    /// The problems, and the object members the schema evaluated (for `unevaluatedProperties`).
    private func evaluate(_ value: JSONValue, _ schema: JSONValue, _ path: String) -> (
        problems: [String], evaluated: Set<String>
    ) {
        var problems: [String] = []
        var evaluated: Set<String> = []
        func absorb(_ result: (problems: [String], evaluated: Set<String>)) {
            problems += result.problems
            evaluated.formUnion(result.evaluated)
        }
        if let pointer = schema["$ref"]?.string {
            guard let target = resolve(pointer) else { return (["\(path): cannot resolve \(pointer)"], []) }
            absorb(evaluate(value, target, path))
        }
        for part in schema["allOf"]?.array ?? [] { absorb(evaluate(value, part, path)) }
        if let choices = schema["oneOf"]?.array {
            let matching = choices.map { evaluate(value, $0, path) }.filter(\.problems.isEmpty)
            if matching.count == 1 {
                evaluated.formUnion(matching[0].evaluated)
            } else {
                problems.append("\(path): matches \(matching.count) of oneOf's \(choices.count) schemas")
            }
        }
        if let type = schema["type"] {
            let allowed = type.array?.compactMap(\.string) ?? [type.string].compactMap { $0 }
            if !allowed.contains(where: { Self.has(value, type: $0) }) {
                problems.append("\(path): \(value) is not \(allowed.joined(separator: " or "))")
            }
        }
        if let options = schema["enum"]?.array, !options.contains(value) {
            problems.append("\(path): \(value) is not one of \(options)")
        }
        if let constant = schema["const"], constant != value { problems.append("\(path): \(value) is not \(constant)") }
        if case .string(let text) = value {
            problems += Self.stringProblems(text, schema, path)
        }
        if case .number(let number) = value {
            if case .number(let minimum) = schema["minimum"], number < minimum { problems.append("\(path): below") }
            if case .number(let maximum) = schema["maximum"], number > maximum { problems.append("\(path): above") }
        }
        if case .array(let elements) = value, let items = schema["items"] {
            for (index, element) in elements.enumerated() {
                problems += self.problems(element, against: items, at: "\(path)[\(index)]")
            }
        }
        if case .object(let fields) = value {
            for name in schema["required"]?.array?.compactMap(\.string) ?? [] where fields[name] == nil {
                problems.append("\(path): \(name) is missing")
            }
            if case .object(let properties) = schema["properties"] {
                for (name, property) in properties {
                    guard let field = fields[name] else { continue }
                    problems += self.problems(field, against: property, at: "\(path).\(name)")
                }
                evaluated.formUnion(properties.keys)
            }
            if schema["additionalProperties"] == .bool(false) {
                var known: Set<String> = []
                if case .object(let properties) = schema["properties"] { known = Set(properties.keys) }
                for name in fields.keys where !known.contains(name) {
                    problems.append("\(path): \(name) is not documented")
                }
            }
            if schema["unevaluatedProperties"] == .bool(false) {
                for name in fields.keys where !evaluated.contains(name) {
                    problems.append("\(path): \(name) is not documented")
                }
            }
        }
        return (problems, evaluated)
    }

    private static func has(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array),
            ("object", .object):
            true
        case ("integer", .number(let number)): number.rounded() == number
        default: false
        }
    }

    private static func stringProblems(_ text: String, _ schema: JSONValue, _ path: String) -> [String] {
        var problems: [String] = []
        switch schema["format"]?.string {
        case "date-time" where text.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/) == nil:
            problems.append("\(path): \(text) is not a date-time")
        case "uuid" where UUID(uuidString: text) == nil:
            problems.append("\(path): \(text) is not a uuid")
        default: break
        }
        if let pattern = schema["pattern"]?.string,
            (try? Regex(pattern))
                .map({ text.firstMatch(of: $0) == nil }) ?? true
        {
            problems.append("\(path): \(text) does not match \(pattern)")
        }
        return problems
    }
}
