import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Pages")
struct PageTests {
    @Test func theHomePageIsRenderedFromTemplates() async throws {
        try await withApplication { client async throws in
            try await client.execute(uri: "/", method: .get) { response async throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.text.contains("<h1>Gatehouse is running</h1>"))
                #expect(response.text.contains("http://127.0.0.1:0"))
            }
        }
    }

    @Test func aMissingTemplatesFolderStopsTheStart() async throws {
        await #expect(throws: TemplateProblem.self) { try await PageRenderer(directory: "/nonexistent/templates") }
    }

    @Test func aMissingTemplateStopsTheStartNamingIt() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("templates-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "<html>{{$content}}{{/content}}</html>".write(
            to: folder.appendingPathComponent("layout.mustache"), atomically: true, encoding: .utf8)
        do {
            _ = try await PageRenderer(directory: folder.path)
            Issue.record("started without home.mustache")
        } catch let problem as TemplateProblem {
            #expect(problem.description.contains("home.mustache"))
        }
    }
}
