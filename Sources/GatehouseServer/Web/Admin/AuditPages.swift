import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// Admin → Audit log: the workspace's audit trail, newest first, filtered by action, actor and target, a page
/// of 50 at a time.
struct AuditPages {
    let trail: AuditTrail
    let users: UserAdministration
    let pages: SignedInPages

    static let pageSize = 50

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("admin/audit", use: events)
    }

    @Sendable func events(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let page = try await pages.open(request, context: context)
        let parameters = request.uri.queryParameters
        let text = { (name: String) -> String? in
            let value = parameters[name[...]].map { String($0).trimmingCharacters(in: .whitespaces) }
            return value?.isEmpty == false ? value : nil
        }
        let actor = text("actor").flatMap(UUID.init(uuidString:)).map(UserID.init)
        let query = AuditQuery(
            action: text("action"), actorUser: actor, targetID: text("target"),
            before: text("before").flatMap { Int64($0) }, limit: Self.pageSize)
        let events = try await trail.events(in: page.user.workspaceID, matching: query, by: page.caller)
        // Names for the actors; someone who may read the audit log but not the users sees ids.
        let everyone =
            page.holds(.usersRead) ? try await users.users(in: page.user.workspaceID, by: page.caller) : []
        let names = Dictionary(uniqueKeysWithValues: everyone.map { ($0.id, $0.name) })
        var filters: [String: String] = [:]
        for name in ["action", "actor", "target"] { filters[name] = text(name) }
        var older: String?
        if events.count == Self.pageSize, let oldest = events.last?.sequence {
            older = WebInput.url("/admin/audit", filters.merging(["before": "\(oldest)"]) { $1 })
        }
        let values = AuditPage(
            action: text("action") ?? "", target: text("target") ?? "",
            actors: everyone.map { AuditPage.Actor(id: "\($0.id)", name: $0.name, selected: $0.id == actor) },
            events: events.map { event in
                AuditPage.Event(
                    time: PageFormat.date(event.occurredAt), action: event.action,
                    actor: event.actor.user.map { names[$0] ?? "\($0)" } ?? "", credential: event.actor.credential,
                    target: "\(event.targetKind) \(event.targetID)", address: event.address ?? "",
                    details: event.details.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
                        .joined(separator: "; "))
            }, older: older)
        return try pages.render("admin-audit", values, for: page, in: .audit)
    }
}

/// `admin-audit.mustache`: the filters, a page of events, and the link to the older ones.
struct AuditPage: Encodable {
    struct Actor: Encodable {
        let id: String
        let name: String
        let selected: Bool
    }

    struct Event: Encodable {
        let time: String
        let action: String
        let actor: String
        let credential: String
        let target: String
        let address: String
        let details: String
    }

    let action: String
    let target: String
    let actors: [Actor]
    let events: [Event]
    let older: String?
}
