import GatehouseCore
import Hummingbird

/// `/api/v1/audit-events`: the workspace's audit trail, newest first, filterable and paged by `before`.
struct AuditController {
    let trail: AuditTrail

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.get("audit-events") { request, context in
            let caller = try context.caller()
            let parameters = request.uri.queryParameters
            let query = AuditQuery(
                action: parameters["action"].map(String.init),
                actorUser: try parameters["actor"].map { try uuid(String($0), field: "actor") },
                targetID: parameters["target"].map(String.init),
                before: try parameters["before"].map { try number(String($0), field: "before") },
                limit: try parameters["limit"].map { Int(try number(String($0), field: "limit")) } ?? 50)
            let events = try await trail.events(in: try workspace(of: caller), matching: query, by: caller)
            let next = events.count == query.limit ? events.last?.sequence : nil
            return Listing(items: events.map(AuditEventRepresentation.init), name: "audit_events", nextBefore: next)
        }
    }

    private func number(_ text: String, field: String) throws(DomainError) -> Int64 {
        guard let value = Int64(text) else {
            throw .invalidInput(field: field, message: "The \(field) '\(text)' is not a number.")
        }
        return value
    }
}
