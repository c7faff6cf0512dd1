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

    @Test func aWrongMethodOnAKnownRouteIsAlsoJSON() async throws {
        try await withApplication { client async throws in
            try await client.execute(uri: "/healthz", method: .delete) { response async throws in
                // Hummingbird's router answers an unrouted method like an unknown path.
                #expect(response.status == .notFound)
                #expect(try response.decoded(ErrorBody.self).error == "not_found")
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
