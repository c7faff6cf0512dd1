import GatehouseCore
import HTTPTypes
import Hummingbird

/// `/healthz` answers while the process is alive; `/readyz` only while the store answers too, so a load
/// balancer stops sending traffic to an instance that lost its database.
package struct HealthController: Sendable {
    let store: any ReadinessProbe

    package init(store: any ReadinessProbe) { self.store = store }

    struct Status: ResponseEncodable {
        let status: String
    }

    package func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/healthz") { _, _ in Status(status: "ok") }
        router.get("/readyz") { _, _ in
            try await store.checkReachable()
            return Status(status: "ready")
        }
    }
}
