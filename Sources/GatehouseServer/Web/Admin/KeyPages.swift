import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// API keys in the browser: a client's service keys (its "Manage API keys" page), users' keys (Admin →
/// Platform configuration → Gatehouse API), and revoking and reactivating either. Every action asks `APIKeys`,
/// as the JSON API does.
struct KeyPages {
    let keys: APIKeys
    let clients: ClientApplications
    let users: UserAdministration
    let pages: SignedInPages

    static let platformCrumbs = "Admin › Platform configuration"

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("admin/clients/{client_id}/keys", use: clientKeys)
        router.post("admin/clients/{client_id}/keys", use: createClientKey)
        router.get("admin/api-keys", use: userKeys)
        router.post("admin/api-keys", use: createUserKey)
        router.post("admin/api-keys/{id}/revoke") { try await setStatus(.revoked, $0, $1) }
        router.post("admin/api-keys/{id}/reactivate") { try await setStatus(.active, $0, $1) }
    }

    func setStatus(_ status: KeyStatus, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, form) = try await pages.submit(request, context: context)
        guard let raw = context.parameters.get("id"), let uuid = UUID(uuidString: raw) else {
            throw PageError(status: .notFound, title: "Not found", message: "There is no such key.")
        }
        _ = try await keys.setStatus(status, of: APIKeyID(uuid), by: page.caller)
        let back = WebInput.localPath(form["return_to"]) ?? "/admin/api-keys"
        return Response.redirect(
            to: Notice.location(back, status == .revoked ? "key_revoked" : "key_reactivated"), after: .post)
    }

    @Sendable func clientKeys(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let page = try await pages.open(request, context: context)
        let client = try await clients.client(try context.parameters.clientID(), by: page.caller)
        return try await clientKeysPage(client, for: page, notice: Notice.of(request))
    }

    @Sendable func createClientKey(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, form) = try await pages.submit(request, context: context)
        let client = try await clients.client(try context.parameters.clientID(), by: page.caller)
        do {
            let (key, plaintext) = try await keys.create(
                try Self.newKey(form), for: .client(client.id), by: page.caller)
            return try secretPage(
                key, plaintext, for: page, in: .clients, crumbs: ClientPages.crumbs,
                continueTo: ClientPages.path(client) + "/keys", owner: client.name)
        } catch let error as DomainError {
            return try await clientKeysPage(client, for: page, form: form, error: error)
        }
    }

    @Sendable func userKeys(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let page = try await pages.open(request, context: context)
        return try await userKeysPage(for: page, notice: Notice.of(request))
    }

    @Sendable func createUserKey(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, form) = try await pages.submit(request, context: context)
        do {
            guard let raw = form["user_id"], let uuid = UUID(uuidString: raw) else {
                throw DomainError.invalidInput(field: "user_id", message: "Select the user the key acts for.")
            }
            let user = try await users.user(UserID(uuid), by: page.caller)
            let (key, plaintext) = try await keys.create(
                try Self.newKey(form), for: .user(user.id), by: page.caller)
            return try secretPage(
                key, plaintext, for: page, in: .apiKeys, crumbs: Self.platformCrumbs, continueTo: "/admin/api-keys",
                owner: "\(user.name) (\(user.email.value))")
        } catch let error as DomainError {
            return try await userKeysPage(for: page, form: form, error: error)
        }
    }

    private func clientKeysPage(
        _ client: ClientApplication, for page: SignedInPage, form: WebForm? = nil, error: DomainError? = nil,
        notice: String? = nil
    ) async throws -> Response {
        let list = try await keys.list(in: client.workspaceID, owner: .client(client.id), by: page.caller)
        let path = ClientPages.path(client) + "/keys"
        let values = Merged(
            Merged(
                KeyListing(list, owners: [:], canWrite: page.holds(.apiKeysWrite), returnTo: path),
                ScopeChoices(page, form: form, hint: "None chosen: every scope of the workspace.")),
            ClientKeysPage(crumbs: ClientPages.crumbs, client: ClientView(client), keyName: form?["name"] ?? ""))
        return try pages.render("admin-client-keys", values, for: page, in: .clients, notice: notice, error: error)
    }

    private func userKeysPage(
        for page: SignedInPage, form: WebForm? = nil, error: DomainError? = nil, notice: String? = nil
    ) async throws -> Response {
        let everyone = try await users.users(in: page.user.workspaceID, by: page.caller)
        let list = try await keys.list(in: page.user.workspaceID, by: page.caller).filter {
            if case .user = $0.owner { return true }
            return false
        }
        let names = Dictionary(uniqueKeysWithValues: everyone.map { ("\($0.id)", $0.name) })
        let chosen = form?["user_id"]
        let values = Merged(
            Merged(
                KeyListing(list, owners: names, canWrite: page.holds(.apiKeysWrite), returnTo: "/admin/api-keys"),
                ScopeChoices(page, form: form, hint: "None chosen: whatever the user's role allows, now and later.")),
            UserKeysPage(
                users: everyone.filter(\.isActive).map { user in
                    UserKeysPage.Choice(
                        id: "\(user.id)", label: "\(user.name) — \(user.email.value) (\(user.role.rawValue))",
                        selected: chosen == "\(user.id)")
                }, crumbs: Self.platformCrumbs, keyName: form?["name"] ?? ""))
        return try pages.render("admin-api-keys", values, for: page, in: .apiKeys, notice: notice, error: error)
    }

    private func secretPage(
        _ key: APIKey, _ plaintext: PlaintextKey, for page: SignedInPage, in section: Section, crumbs: String,
        continueTo: String, owner: String
    ) throws -> Response {
        try pages.render(
            "secret-once",
            SecretPage(
                crumbs: crumbs, title: "API key \(key.name) is ready", label: "API key", secret: plaintext.value,
                details: "It acts for \(owner). Send it as Authorization: Bearer <key>.",
                lost: "revoke it and generate a new one", continueTo: continueTo),
            for: page, in: section)
    }

    /// The key form's fields as the domain's input.
    private static func newKey(_ form: WebForm) throws -> NewAPIKey {
        let scopes = form.values("scope")
        return NewAPIKey(
            name: try DisplayName(form["name"] ?? ""), scopes: try KeyScopes(names: scopes.isEmpty ? nil : scopes))
    }
}

/// The active and the revoked keys, for `partial-keys.mustache`; with Revoke and Reactivate buttons (coming back
/// to `returnTo`) when `canWrite`.
struct KeyListing: Encodable {
    struct Row: Encodable {
        let id: String
        let name: String
        let owner: String
        let shown: String
        let scopes: String
        let lastUsed: String
        let active: Bool
    }

    struct Group: Encodable {
        let keys: [Row]
    }

    let activeKeys: Group
    let revokedKeys: Group
    let canWrite: Bool
    let showOwner: Bool
    let returnTo: String

    /// `owners` names the users who own keys, by id; empty when the listing shows no owner column.
    init(_ keys: [APIKey], owners: [String: String], canWrite: Bool, returnTo: String = "") {
        let rows = keys.map { key in
            var owner = ""
            if case .user(let id) = key.owner { owner = owners["\(id)"] ?? "\(id)" }
            return Row(
                id: "\(key.id)", name: key.name, owner: owner, shown: "\(key.prefix)_…\(key.lastFour)",
                scopes: key.scopes.names?.joined(separator: " ") ?? "owner's rights",
                lastUsed: PageFormat.date(key.lastUsedAt), active: key.status == .active)
        }
        activeKeys = Group(keys: rows.filter(\.active))
        revokedKeys = Group(keys: rows.filter { !$0.active })
        self.canWrite = canWrite
        showOwner = !owners.isEmpty
        self.returnTo = returnTo
    }
}

/// The scopes the signed-in person may put on a key, those they hold, for `partial-scope-choices.mustache`.
struct ScopeChoices: Encodable {
    struct Choice: Encodable {
        let name: String
        let checked: Bool
    }

    let scopeChoices: [Choice]
    let scopeHint: String

    init(_ page: SignedInPage, form: WebForm?, hint: String) {
        let checked = Set(form?.values("scope") ?? [])
        scopeChoices = (page.caller.principal?.scopes ?? []).sorted().map {
            Choice(name: $0.name, checked: checked.contains($0.name))
        }
        scopeHint = hint
    }
}

/// What `admin-client-keys.mustache` shows besides the listing and the scope choices.
struct ClientKeysPage: Encodable {
    let crumbs: String
    let client: ClientView
    let keyName: String
}

/// What `admin-api-keys.mustache` shows besides the listing and the scope choices: the users a key can be for.
struct UserKeysPage: Encodable {
    struct Choice: Encodable {
        let id: String
        let label: String
        let selected: Bool
    }

    let users: [Choice]
    let crumbs: String
    let keyName: String
}
