import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

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

    @Test func aWrongMethodOnAKnownPathIs405WithAllow() async throws {
        try await withApplication { client async throws in
            // RFC 9110 §15.5.6: 405 names the methods the path answers in Allow, in the JSON error shape.
            let cases: [(uri: String, method: HTTPRequest.Method, allow: String)] = [
                ("/healthz", .delete, "GET"),
                ("/oauth/token", .get, "POST"),
                ("/oauth/userinfo", .put, "GET, POST"),
                ("/api/v1/users/\(UUID())", .post, "GET, PATCH"),
                ("/api/v1/clients/acme-web/secret", .get, "POST"),
                ("/admin/clients/acme-web", .delete, "GET, POST"),
                ("/login/", .put, "GET, POST"),
            ]
            for (uri, method, allow) in cases {
                try await client.execute(uri: uri, method: method) { response async throws in
                    #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                    #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                    #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                    #expect(try response.decoded(ErrorBody.self).error == "method_not_allowed")
                    #expect(response.headers[.xContentTypeOptions] == "nosniff")
                }
            }
        }
    }

    @Test func aKnownMethodStillReachesItsRouteAndAnUnknownPathStays404() async throws {
        try await withApplication { client async throws in
            // A route's own 404 (no such user) is not turned into 405, and an unknown path stays 404.
            for (uri, method) in [("/api/v1/users/\(UUID())", HTTPRequest.Method.get), ("/no/such/path", .delete)] {
                try await client.execute(uri: uri, method: method) { response async throws in
                    #expect([.notFound, .unauthorized].contains(response.status), "\(method) \(uri)")
                    #expect(response.headers[.allow] == nil)
                }
            }
            try await client.execute(uri: "/assets/no-such-file.css", method: .get) { response async throws in
                #expect(response.status == .notFound)
                #expect(response.headers[.allow] == nil)
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
