import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Health")
struct HealthTests {
    struct Status: Decodable { let status: String }

    @Test func healthzAnswersWhileTheProcessIsAlive() async throws {
        try await withApplication { client async throws in
            try await client.execute(uri: "/healthz", method: .get) { response async throws in
                #expect(response.status == .ok)
                #expect(try response.decoded(Status.self).status == "ok")
            }
        }
    }

    @Test func readyzAnswersWhenTheStoreIsReachable() async throws {
        try await withApplication { client async throws in
            try await client.execute(uri: "/readyz", method: .get) { response async throws in
                #expect(response.status == .ok)
                #expect(try response.decoded(Status.self).status == "ready")
            }
        }
    }

    /// A store that has lost its database.
    struct UnreachableStore: ReadinessProbe {
        func checkReachable() async throws { throw StoreUnavailable("connection refused") }
    }

    @Test func readyzIs503WithTheJSONShapeWhenTheStoreIsUnreachable() async throws {
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        HealthController(store: UnreachableStore()).addRoutes(to: router)
        try await Application(router: router, logger: TestBackend.quietLogger).test(.router) { client async throws in
            try await client.execute(uri: "/readyz", method: .get) { response async throws in
                #expect(response.status == .serviceUnavailable)
                let body = try response.decoded(ErrorBody.self)
                #expect(body.error == "unavailable")
                #expect(!body.message.contains("connection refused"))
            }
            try await client.execute(uri: "/healthz", method: .get) { response async throws in
                #expect(response.status == .ok)
            }
        }
    }
}

@Suite("Errors and headers")
struct ErrorShapeTests {
    @Test func unknownRoutesAnswerTheJSONErrorShape() async throws {
        try await withApplication { client async throws in
            try await client.execute(uri: "/no/such/page", method: .get) { response async throws in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(try response.decoded(ErrorBody.self).error == "not_found")
                #expect(response.text.hasPrefix(#"{"error":"not_found","message":"#))
            }
        }
    }

    @Test func aWrongMethodOnAKnownRouteIsAlsoJSON() async throws {
        try await withApplication { client async throws in
            try await client.execute(uri: "/healthz", method: .delete) { response async throws in
                #expect(response.status.code >= 400)
                #expect(try response.decoded(ErrorBody.self).error.isEmpty == false)
            }
        }
    }

    @Test func bodiesOverOneMebibyteAre413() async throws {
        try await withApplication { client async throws in
            let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: (1 << 20) + 1)
            try await client.execute(uri: "/healthz", method: .post, body: body) { response async throws in
                #expect(response.status == .contentTooLarge)
                #expect(try response.decoded(ErrorBody.self).error == "payload_too_large")
            }
        }
    }

    @Test func everyResponseCarriesARequestIDAndSecurityHeaders() async throws {
        try await withApplication { client async throws in
            var seen: Set<String> = []
            for uri in ["/healthz", "/nowhere", "/"] {
                try await client.execute(uri: uri, method: .get) { response async throws in
                    let id = try #require(response.headers[.requestID])
                    #expect(!id.isEmpty)
                    seen.insert(id)
                    #expect(response.headers[.xContentTypeOptions] == "nosniff")
                    #expect(response.headers[try #require(HTTPField.Name("X-Frame-Options"))] == "DENY")
                    #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
                }
            }
            #expect(seen.count == 3)
        }
    }

    @Test func errorsAreNeverCached() async throws {
        try await withApplication { client async throws in
            try await client.execute(uri: "/nowhere", method: .get) { response async throws in
                #expect(response.headers[.cacheControl] == "no-store")
            }
        }
    }
}

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
