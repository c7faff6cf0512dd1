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
        let values = ClientListPage(
            crumbs: Self.crumbs, canWrite: page.holds(.clientsWrite), clients: list.clients.map(ClientView.init),
            next: list.next.map { "/admin/clients?after=\($0.value)" })
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
                postLogoutRedirectURIs: try RedirectURI.parseAll(
                    form.lines("post_logout_redirect_uris"), field: "post_logout_redirect_uris"),
                backchannelLogoutURI: .some(
                    try form["backchannel_logout_uri"].flatMap { $0.isEmpty ? nil : $0 }.map {
                        try RedirectURI($0, field: "backchannel_logout_uri")
                    }),
                isResourceServer: form["resource_server"] == "on",
                idTokenSigningAlgorithm: try form["id_token_signed_response_alg"].map(SigningAlgorithm.init(parsing:)))
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
            "admin-client-delete", ClientDeletionPage(crumbs: Self.crumbs, client: ClientView(client)), for: page,
            in: .clients)
    }

    @Sendable func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, _) = try await pages.submit(request, context: context)
        try await clients.delete(try context.parameters.clientID(), by: page.caller)
        return Response.redirect(to: Notice.location("/admin/clients", "client_deleted"), after: .post)
    }

    private func newClientForm(_ page: SignedInPage, _ form: WebForm, error: DomainError? = nil) throws -> Response {
        try pages.render(
            "admin-client-new",
            NewClientPage(
                crumbs: Self.crumbs, clientID: form["client_id"] ?? "", name: form["name"] ?? "",
                redirectUris: form.lines("redirect_uris").joined(separator: "\n"), public: form["type"] == "public"),
            for: page, in: .clients, error: error)
    }

    private func clientPage(
        _ client: ClientApplication, for page: SignedInPage, edited form: WebForm? = nil, error: DomainError? = nil,
        notice: String? = nil
    ) throws -> Response {
        var view = ClientView(client)
        if let form {
            view.name = form["name"] ?? ""
            view.description = form["description"] ?? ""
            view.logoURL = form["logo_url"] ?? ""
            view.homepageURL = form["homepage_url"] ?? ""
            view.redirectUris = form.lines("redirect_uris").joined(separator: "\n")
            view.postLogoutRedirectUris = form.lines("post_logout_redirect_uris").joined(separator: "\n")
            view.backchannelLogoutURI = form["backchannel_logout_uri"] ?? ""
            view.resourceServer = form["resource_server"] == "on"
            view.idTokenES256 = form["id_token_signed_response_alg"] == SigningAlgorithm.es256.rawValue
        }
        let values = Merged(
            view,
            ClientPageActions(
                crumbs: Self.crumbs, canWrite: page.holds(.clientsWrite), canKeys: page.holds(.apiKeysRead)))
        return try pages.render("admin-client", values, for: page, in: .clients, notice: notice, error: error)
    }

    private func secretPage(
        _ client: ClientApplication, _ secret: ClientSecret, for page: SignedInPage, title: String, details: String
    ) throws -> Response {
        try pages.render(
            "secret-once",
            SecretPage(
                crumbs: Self.crumbs, title: title, label: "Client secret", secret: secret.value, details: details,
                lost: "rotate the secret on the client's page", continueTo: Self.path(client)),
            for: page, in: .clients)
    }

    /// The client's page; a client_id that is a metadata document's URL is percent-encoded into one segment.
    static func path(_ client: ClientApplication) -> String { "/admin/clients/" + client.id.pathSegment }

    static func duration(_ seconds: TimeInterval) -> String {
        let whole = Int(seconds)
        func count(_ n: Int, _ unit: String) -> String { n == 1 ? "1 \(unit)" : "\(n) \(unit)s" }
        if whole >= 86400, whole % 86400 == 0 { return count(whole / 86400, "day") }
        if whole >= 3600, whole % 3600 == 0 { return count(whole / 3600, "hour") }
        return count(whole, "second")
    }
}

/// A client as the admin pages show it.
struct ClientView: Encodable {
    let clientID: String
    var name: String
    var description: String
    var logoURL: String
    var homepageURL: String
    let type: String
    let confidential: Bool
    let disabled: Bool
    var resourceServer: Bool
    let path: String
    /// One a line, for the text area.
    var redirectUris: String
    let redirectList: [String]
    /// One a line, for the text area.
    var postLogoutRedirectUris: String
    let postLogoutList: [String]
    let hasPostLogoutRedirects: Bool
    var backchannelLogoutURI: String
    /// How its ID tokens are signed: ES256 when true, RS256 otherwise.
    var idTokenES256: Bool
    let idTokenAlgorithm: String
    let grantTypes: String
    let scopes: String
    let created: String
    /// How it came to be, when an app registered itself: "registered by the app" (with or without an admin's
    /// token); nil for an admin's client.
    let registeredBy: String?
    /// Whether it is deleted after 30 days without a token (it registered itself openly).
    let selfRegisteredExpires: Bool

    init(_ client: ClientApplication) {
        clientID = client.id.value
        name = client.name
        description = client.description ?? ""
        logoURL = client.logoURL ?? ""
        homepageURL = client.homepageURL ?? ""
        type = client.type.rawValue
        confidential = client.type == .confidential
        disabled = client.isDisabled
        resourceServer = client.isResourceServer
        path = ClientPages.path(client)
        redirectUris = client.redirectURIs.map(\.value).joined(separator: "\n")
        redirectList = client.redirectURIs.map(\.value)
        postLogoutRedirectUris = client.postLogoutRedirectURIs.map(\.value).joined(separator: "\n")
        postLogoutList = client.postLogoutRedirectURIs.map(\.value)
        hasPostLogoutRedirects = !client.postLogoutRedirectURIs.isEmpty
        backchannelLogoutURI = client.backchannelLogoutURI?.value ?? ""
        idTokenES256 = client.idTokenSigningAlgorithm == .es256
        idTokenAlgorithm = client.idTokenSigningAlgorithm.rawValue
        grantTypes = client.grantTypes.map(\.rawValue).sorted().joined(separator: ", ")
        scopes = client.scopes.sorted().map(\.name).joined(separator: " ")
        created = PageFormat.date(client.createdAt)
        registeredBy =
            switch client.registeredBy {
            case .admin: nil
            case .app: "registered by the app"
            case .appWithToken: "registered by the app, with a token"
            case .metadataDocument: "described by the app's metadata document"
            }
        selfRegisteredExpires = client.registeredBy == .app
    }
}

/// `admin-clients.mustache`.
struct ClientListPage: Encodable {
    let crumbs: String
    let canWrite: Bool
    let clients: [ClientView]
    let next: String?
}

/// `admin-client-new.mustache`: the registration form, empty or as sent.
struct NewClientPage: Encodable {
    let crumbs: String
    let clientID: String
    let name: String
    let redirectUris: String
    let `public`: Bool
}

/// What `admin-client.mustache` shows besides the client: where it is, and what the viewer may do.
struct ClientPageActions: Encodable {
    let crumbs: String
    let canWrite: Bool
    let canKeys: Bool
}

/// `admin-client-delete.mustache`.
struct ClientDeletionPage: Encodable {
    let crumbs: String
    let client: ClientView
}

/// `secret-once.mustache`: a client secret or an API key, shown this once.
struct SecretPage: Encodable {
    let crumbs: String
    let title: String
    let label: String
    let secret: String
    let details: String
    let lost: String
    let continueTo: String
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
