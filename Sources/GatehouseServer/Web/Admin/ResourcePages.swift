import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// Admin → Resource servers: the APIs of the workspace that apps may ask tokens for (RFC 8707), with a form to
/// register one and a button to remove one.
struct ResourcePages {
    let resources: ResourceServers
    let pages: SignedInPages

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("admin/resources") { request, context in
            let page = try await pages.open(request, context: context)
            return try await listing(for: page, notice: Notice.of(request))
        }
        router.post("admin/resources") { request, context in
            let (page, form) = try await pages.submit(request, context: context)
            do {
                let lifetime = try form["access_token_lifetime"].map { text throws(DomainError) in
                    guard let seconds = Int(text) else {
                        throw .invalidInput(
                            field: "access_token_lifetime", message: "The access token lifetime is a number of seconds."
                        )
                    }
                    return TimeInterval(seconds)
                }
                _ = try await resources.register(
                    identifier: try ResourceIdentifier(form["identifier"] ?? ""),
                    name: try DisplayName(form["name"] ?? ""),
                    scopes: Set(try (form["scopes"] ?? "").split(separator: " ").map { try Scope(String($0)) }),
                    accessTokenLifetime: lifetime, in: page.user.workspaceID, by: page.caller)
                return Response.redirect(to: Notice.location("/admin/resources", "resource_saved"), after: .post)
            } catch let error as DomainError {
                return try await listing(for: page, edited: form, error: error)
            }
        }
        router.post("admin/resources/{id}/delete") { request, context in
            let (page, _) = try await pages.submit(request, context: context)
            try await resources.delete(try context.parameters.resourceID(), by: page.caller)
            return Response.redirect(to: Notice.location("/admin/resources", "resource_deleted"), after: .post)
        }
    }

    private func listing(
        for page: SignedInPage, edited form: WebForm? = nil, notice: String? = nil, error: DomainError? = nil
    ) async throws -> Response {
        let found = try await resources.list(in: page.user.workspaceID, by: page.caller)
        let values = ResourcesPage(
            resources: found.map {
                .init(
                    id: "\($0.id)", identifier: $0.identifier.value, name: $0.name,
                    scopes: $0.scopes.map(\.name).sorted().joined(separator: " "),
                    lifetime: $0.accessTokenLifetime.map { "\(Int($0)) s" } ?? "server default")
            },
            canRegister: page.holds(.clientsWrite), identifier: form?["identifier"], name: form?["name"],
            scopes: form?["scopes"], accessTokenLifetime: form?["access_token_lifetime"])
        return try pages.render("admin-resources", values, for: page, in: .resources, notice: notice, error: error)
    }
}

/// `admin-resources.mustache`.
struct ResourcesPage: Encodable {
    struct Row: Encodable {
        let id: String
        let identifier: String
        let name: String
        let scopes: String
        let lifetime: String
    }

    let resources: [Row]
    let canRegister: Bool
    /// The form as last sent, when it is shown again with an error.
    let identifier: String?
    let name: String?
    let scopes: String?
    let accessTokenLifetime: String?
}
