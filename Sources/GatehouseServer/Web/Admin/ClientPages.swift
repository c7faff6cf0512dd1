import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// Settings → Integrations → API clients: registering client applications, changing them, rotating their
/// secrets, disabling and deleting them. Every action asks `ClientApplications`, as the JSON API does.
struct ClientPages {
    let clients: ClientApplications
    let pages: SignedInPages

    static let crumbs = "Settings › Integrations"

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("admin/clients", use: list)
        router.get("admin/clients/new", use: registrationForm)
        router.post("admin/clients", use: register)
        router.get("admin/clients/{client_id}", use: show)
        router.post("admin/clients/{client_id}", use: save)
        router.post("admin/clients/{client_id}/secret", use: rotateSecret)
        router.post("admin/clients/{client_id}/disable") { try await setDisabled(true, $0, $1) }
        router.post("admin/clients/{client_id}/enable") { try await setDisabled(false, $0, $1) }
        router.get("admin/clients/{client_id}/delete", use: confirmDeletion)
        router.post("admin/clients/{client_id}/delete", use: delete)
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let page = try await pages.open(request, context: context)
        let after = request.uri.queryParameters["after"].flatMap { try? ClientID(String($0)) }
        let list = try await clients.list(in: page.user.workspaceID, after: after, limit: 50, by: page.caller)
        var values: [String: Any] = [
            "crumbs": Self.crumbs, "can_write": page.holds(.clientsWrite), "clients": list.clients.map(Self.row),
        ]
        if let next = list.next { values["next"] = "/admin/clients?after=\(next.value)" }
        return try pages.render("admin-clients", values, for: page, in: .clients, notice: Notice.of(request))
    }

    @Sendable func registrationForm(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let page = try await pages.open(request, context: context)
        try clients.checkMayRegister(by: page.caller)
        return try newClientForm(page, WebForm(pairs: []))
    }

    @Sendable func register(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, form) = try await pages.submit(request, context: context)
        do {
            let input = NewClientApplication(
                id: try ClientID(form["client_id"] ?? ""), name: try DisplayName(form["name"] ?? ""),
                type: try ClientType(parsing: form["type"] ?? "confidential"),
                redirectURIs: try RedirectURI.parseAll(form.lines("redirect_uris")))
            let (client, secret) = try await clients.create(input, in: page.user.workspaceID, by: page.caller)
            guard let secret else {
                return Response.redirect(to: Notice.location(Self.path(client), "client_created_public"), after: .post)
            }
            return try secretPage(
                client, secret, for: page, title: "\(client.name) is registered",
                details: "Its client_id is \(client.id.value).")
        } catch let error as DomainError {
            return try newClientForm(page, form, error: error)
        }
    }

    @Sendable func show(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let page = try await pages.open(request, context: context)
        let client = try await clients.client(try context.parameters.clientID(), by: page.caller)
        return try clientPage(client, for: page, notice: Notice.of(request))
    }

    @Sendable func save(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, form) = try await pages.submit(request, context: context)
        let id = try context.parameters.clientID()
        do {
            let change = ClientChange(
                name: try DisplayName(form["name"] ?? ""), description: .some(form["description"]),
                logoURL: .some(form["logo_url"]), homepageURL: .some(form["homepage_url"]),
                redirectURIs: try RedirectURI.parseAll(form.lines("redirect_uris")),
                isResourceServer: form["resource_server"] == "on")
            let client = try await clients.change(id, change, by: page.caller)
            return Response.redirect(to: Notice.location(Self.path(client), "client_saved"), after: .post)
        } catch let error as DomainError {
            // The refusal itself is the answer when the page cannot even be shown again.
            guard let client = try? await clients.client(id, by: page.caller) else { throw error }
            return try clientPage(client, for: page, edited: form, error: error)
        }
    }

    @Sendable func rotateSecret(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, form) = try await pages.submit(request, context: context)
        let grace = TimeInterval(form["grace_seconds"].flatMap(Int.init) ?? 0)
        let (client, secret) = try await clients.rotateSecret(
            of: try context.parameters.clientID(), grace: grace, by: page.caller)
        let old =
            grace > 0
            ? "The old secret keeps working for \(Self.duration(grace)), then stops."
            : "The old secret has stopped working."
        return try secretPage(client, secret, for: page, title: "New secret for \(client.name)", details: old)
    }

    func setDisabled(_ disabled: Bool, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, _) = try await pages.submit(request, context: context)
        let client = try await clients.change(
            try context.parameters.clientID(), ClientChange(isDisabled: disabled), by: page.caller)
        return Response.redirect(
            to: Notice.location(Self.path(client), disabled ? "client_disabled" : "client_enabled"), after: .post)
    }

    @Sendable func confirmDeletion(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let page = try await pages.open(request, context: context)
        let client = try await clients.client(try context.parameters.clientID(), by: page.caller)
        return try pages.render(
            "admin-client-delete", ["crumbs": Self.crumbs, "client": Self.row(client)], for: page, in: .clients)
    }

    @Sendable func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, _) = try await pages.submit(request, context: context)
        try await clients.delete(try context.parameters.clientID(), by: page.caller)
        return Response.redirect(to: Notice.location("/admin/clients", "client_deleted"), after: .post)
    }

    private func newClientForm(_ page: SignedInPage, _ form: WebForm, error: DomainError? = nil) throws -> Response {
        try pages.render(
            "admin-client-new",
            [
                "crumbs": Self.crumbs, "client_id": form["client_id"] ?? "", "name": form["name"] ?? "",
                "redirect_uris": form.lines("redirect_uris").joined(separator: "\n"),
                "public": form["type"] == "public",
            ], for: page, in: .clients, error: error)
    }

    private func clientPage(
        _ client: ClientApplication, for page: SignedInPage, edited form: WebForm? = nil, error: DomainError? = nil,
        notice: String? = nil
    ) throws -> Response {
        var values = Self.row(client)
        if let form {
            for field in ["name", "description", "logo_url", "homepage_url"] { values[field] = form[field] ?? "" }
            values["redirect_uris"] = form.lines("redirect_uris").joined(separator: "\n")
            values["resource_server"] = form["resource_server"] == "on"
        }
        values["crumbs"] = Self.crumbs
        values["can_write"] = page.holds(.clientsWrite)
        values["can_keys"] = page.holds(.apiKeysRead)
        return try pages.render(
            "admin-client", values, for: page, in: .clients, notice: notice,
            error: error)
    }

    private func secretPage(
        _ client: ClientApplication, _ secret: ClientSecret, for page: SignedInPage, title: String, details: String
    ) throws -> Response {
        try pages.render(
            "secret-once",
            [
                "crumbs": Self.crumbs, "title": title, "label": "Client secret", "secret": secret.value,
                "details": details, "lost": "rotate the secret on the client's page", "continue_to": Self.path(client),
            ], for: page, in: .clients)
    }

    static func path(_ client: ClientApplication) -> String { "/admin/clients/\(client.id.value)" }

    static func row(_ client: ClientApplication) -> [String: Any] {
        [
            "client_id": client.id.value, "name": client.name, "description": client.description ?? "",
            "logo_url": client.logoURL ?? "", "homepage_url": client.homepageURL ?? "",
            "type": client.type.rawValue, "confidential": client.type == .confidential,
            "disabled": client.isDisabled, "resource_server": client.isResourceServer, "path": path(client),
            "redirect_uris": client.redirectURIs.map(\.value).joined(separator: "\n"),
            "redirect_list": client.redirectURIs.map(\.value),
            "grant_types": client.grantTypes.map(\.rawValue).sorted().joined(separator: ", "),
            "scopes": client.scopes.sorted().map(\.name).joined(separator: " "),
            "created": PageFormat.date(client.createdAt),
        ]
    }

    static func duration(_ seconds: TimeInterval) -> String {
        let whole = Int(seconds)
        func count(_ n: Int, _ unit: String) -> String { n == 1 ? "1 \(unit)" : "\(n) \(unit)s" }
        if whole >= 86400, whole % 86400 == 0 { return count(whole / 86400, "day") }
        if whole >= 3600, whole % 3600 == 0 { return count(whole / 3600, "hour") }
        return count(whole, "second")
    }
}

/// How pages write values.
enum PageFormat {
    /// `2026-11-23 20:47 UTC`: one unambiguous form for every reader.
    static func date(_ date: Date?) -> String {
        guard let date else { return "—" }
        var format = Date.ISO8601FormatStyle(timeZone: .gmt)
        format = format.year().month().day().dateTimeSeparator(.space).time(includingFractionalSeconds: false)
        return String(date.formatted(format).prefix(16)) + " UTC"
    }
}
