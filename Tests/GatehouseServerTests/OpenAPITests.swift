import Foundation
import GatehouseServer
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// `GET /openapi.json` serves the document kept in Templates/, and every operation it describes is a route.
/// (CI also validates the document and runs schemathesis against a live server: scripts/e2e-contract.)
@Suite("The OpenAPI document")
struct OpenAPITests {
    static func document() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: templatesDirectory + "/openapi.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func theDocumentIsServedAsItIsKept() async throws {
        let kept = try Data(contentsOf: URL(fileURLWithPath: templatesDirectory + "/openapi.json"))
        try await withApplication { client async throws in
            try await client.execute(uri: "/openapi.json", method: .get) { response async throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(Data(response.body.readableBytesView) == kept)
            }
        }
        let document = try Self.document()
        #expect(document["openapi"] as? String == "3.1.0")
    }

    /// The document describes no route the server lacks: each of its operations, with made-up path
    /// parameters and no credential, gets some answer other than the router's "nothing at this address" or
    /// "not this method".
    @Test func everyOperationInTheDocumentIsARoute() async throws {
        let paths = try #require(try Self.document()["paths"] as? [String: [String: Any]])
        let methods: [String: HTTPRequest.Method] = [
            "get": .get, "post": .post, "put": .put, "patch": .patch, "delete": .delete,
        ]
        var operations: [(HTTPRequest.Method, String)] = []
        for (path, item) in paths {
            let uri = path.replacingOccurrences(of: "{id}", with: UUID().uuidString)
                .replacingOccurrences(of: "{client_id}", with: "no-such-client")
            for (name, method) in methods where item[name] != nil { operations.append((method, uri)) }
        }
        #expect(operations.count >= 35)
        try await withApplication { [operations] client async throws in
            for (method, uri) in operations {
                try await client.execute(uri: uri, method: method) { response async throws in
                    #expect(!response.text.contains("There is nothing at this address"), "\(method) \(uri)")
                    #expect(response.status != .methodNotAllowed, "\(method) \(uri)")
                }
            }
        }
    }

    @Test func aMissingDocumentStopsTheStart() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("templates-\(UUID())")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: templatesDirectory), to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        let document = folder.appendingPathComponent("openapi.json")
        try FileManager.default.removeItem(at: document)
        do {
            _ = try await PageRenderer(directory: folder.path)
            Issue.record("started without openapi.json")
        } catch let problem as TemplateProblem {
            #expect(problem.description.contains("openapi.json is missing"))
        }
        try "[1, 2]".write(to: document, atomically: true, encoding: .utf8)
        do {
            _ = try await PageRenderer(directory: folder.path)
            Issue.record("started with an openapi.json that is not a JSON object")
        } catch let problem as TemplateProblem {
            #expect(problem.description.contains("not a JSON object"))
        }
    }
}
