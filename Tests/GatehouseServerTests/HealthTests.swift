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
