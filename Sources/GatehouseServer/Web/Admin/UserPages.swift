import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// Admin → Users: the list with search, adding a user, changing their role and profile, deactivating and
/// reactivating, inviting and making password reset links. Every action asks `UserAdministration`, as the JSON
/// API does.
struct UserPages {
    let users: UserAdministration
    let mail: AccountMail
    let pages: SignedInPages

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("admin/users", use: list)
        router.get("admin/users/new", use: addForm)
        router.post("admin/users", use: add)
        router.get("admin/users/{id}", use: show)
        router.post("admin/users/{id}", use: save)
        router.post("admin/users/{id}/deactivate") { try await setActive(false, $0, $1) }
        router.post("admin/users/{id}/reactivate") { try await setActive(true, $0, $1) }
        router.post("admin/users/{id}/invitation", use: invite)
        router.post("admin/users/{id}/invitation/cancel", use: cancelInvitation)
        router.post("admin/users/{id}/password-reset", use: resetLink)
        router.post("admin/users/{id}/two-factor/reset", use: resetTwoFactor)
        router.post("admin/users/{id}/sessions/end", use: endSessions)
        router.post("admin/workspace/two-factor", use: setTwoFactorPolicy)
    }

    /// Whether super admins, admins and HR admins must sign in with a second factor: on the users list, for super
    /// admins.
    @Sendable func setTwoFactorPolicy(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, form) = try await pages.submit(request, context: context)
        let required = form["require_admin_two_factor"] == "on"
        _ = try await users.requireAdminTwoFactor(required, in: page.user.workspaceID, by: page.caller)
        return Response.redirect(
            to: Notice.location("/admin/users", required ? "admin_two_factor_required" : "admin_two_factor_optional"),
            after: .post)
    }

    @Sendable func resetTwoFactor(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await act(request, context, notice: "two_factor_reset") { try await users.resetTwoFactor($0, by: $1) }
    }

    @Sendable func endSessions(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await act(request, context, notice: "user_sessions_ended") { try await users.endSessions($0, by: $1) }
    }

    /// A form that does `action` to the user of the path, then shows their page with `notice`.
    private func act(
        _ request: Request, _ context: AppRequestContext, notice: String,
        _ action: (UserID, Caller) async throws -> Void
    ) async throws -> Response {
        let (page, _) = try await pages.submit(request, context: context)
        let id = try Self.id(context)
        try await action(id, page.caller)
        return Response.redirect(to: Notice.location("/admin/users/\(id)", notice), after: .post)
    }

    @Sendable func invite(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, _) = try await pages.submit(request, context: context)
        let issued = try await users.invite(try Self.id(context), by: page.caller)
        return try linkPage(issued, for: page)
    }

    @Sendable func cancelInvitation(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await act(request, context, notice: "invitation_cancelled") { try await users.cancelInvitation($0, by: $1) }
    }

    @Sendable func resetLink(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, _) = try await pages.submit(request, context: context)
        let issued = try await users.resetLink(try Self.id(context), by: page.caller)
        return try linkPage(issued, for: page)
    }

    /// A new invitation or reset link, shown this once; it is emailed to its user too when mail is configured.
    private func linkPage(_ issued: IssuedPasswordLink, for page: SignedInPage) throws -> Response {
        let emailed = try mail.send(issued, inviter: page.user.name)
        let user = issued.user
        let invitation = issued.link.purpose == .invitation
        let sent =
            emailed
            ? "It has been sent to \(user.email.value) too."
            : "Gatehouse sends no email here: give it to \(user.name) yourself, by a channel you trust."
        return try pages.render(
            "secret-once",
            SecretPage(
                crumbs: "Admin › Users › \(user.name)",
                title: invitation ? "Invitation for \(user.name)" : "Password reset link for \(user.name)",
                label: invitation ? "Invitation link" : "Password reset link", secret: mail.url(of: issued),
                details:
                    "It works once, until \(PageFormat.date(issued.link.expiresAt)), to choose a password. \(sent)",
                lost: invitation
                    ? "send a new invitation from the user's page" : "make a new link from the user's page",
                continueTo: Self.path(user)),
            for: page, in: .users)
    }

    func setActive(_ active: Bool, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, _) = try await pages.submit(request, context: context)
        let user = try await users.update(try Self.id(context), UserChange(isActive: active), by: page.caller)
        return Response.redirect(
            to: Notice.location(Self.path(user), active ? "user_reactivated" : "user_deactivated"), after: .post)
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let page = try await pages.open(request, context: context)
        let search = request.uri.queryParameters["q"].map(String.init) ?? ""
        let found = try await users.users(in: page.user.workspaceID, matching: search, by: page.caller)
        let invitations = try await users.invitations(in: page.user.workspaceID, by: page.caller)
        let views = found.map { UserView($0, invitation: invitations[$0.id]) }
        let workspace = try await users.workspace(page.user.workspaceID, by: page.caller)
        return try pages.render(
            "admin-users",
            UserListPage(
                q: search, users: views, canWrite: page.holds(.usersWrite),
                canSetPolicy: page.user.role == .superAdmin && page.holds(.usersWrite),
                adminTwoFactorRequired: workspace.requiresAdminTwoFactor),
            for: page, in: .users, notice: Notice.of(request))
    }

    @Sendable func addForm(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let page = try await pages.open(request, context: context)
        try users.checkMayAdd(by: page.caller)
        return try newUserForm(page, nil)
    }

    @Sendable func add(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, form) = try await pages.submit(request, context: context)
        do {
            let input = NewUser(
                email: try EmailAddress(form["email"] ?? ""), name: try DisplayName(form["name"] ?? ""),
                role: try Role(parsing: form["role"] ?? "user"), title: form["title"],
                password: try form["password"].map { try Password($0) })
            let added = try await users.create(input, in: page.user.workspaceID, by: page.caller)
            if let invitation = added.invitation { return try linkPage(invitation, for: page) }
            return Response.redirect(to: Notice.location(Self.path(added.user), "user_saved"), after: .post)
        } catch let error as DomainError {
            return try newUserForm(page, form, error: error)
        }
    }

    @Sendable func show(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let page = try await pages.open(request, context: context)
        let user = try await users.user(try Self.id(context), by: page.caller)
        return try await userPage(user, for: page, notice: Notice.of(request))
    }

    @Sendable func save(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, form) = try await pages.submit(request, context: context)
        let id = try Self.id(context)
        do {
            let change = UserChange(
                email: try EmailAddress(form["email"] ?? ""), name: try DisplayName(form["name"] ?? ""),
                title: .some(form["title"]), role: try Role(parsing: form["role"] ?? ""))
            let user = try await users.update(id, change, by: page.caller)
            return Response.redirect(to: Notice.location(Self.path(user), "user_saved"), after: .post)
        } catch let error as DomainError {
            // The refusal itself is the answer when the page cannot even be shown again.
            guard let user = try? await users.user(id, by: page.caller) else { throw error }
            return try await userPage(user, for: page, edited: form, error: error)
        }
    }

    private func newUserForm(_ page: SignedInPage, _ form: WebForm?, error: DomainError? = nil) throws -> Response {
        try pages.render(
            "admin-user-new",
            NewUserPage(
                email: form?["email"] ?? "", name: form?["name"] ?? "", title: form?["title"] ?? "",
                roles: RoleChoice.all(selected: form?["role"] ?? Role.user.rawValue)),
            for: page, in: .users, error: error)
    }

    private func userPage(
        _ user: User, for page: SignedInPage, edited form: WebForm? = nil, error: DomainError? = nil,
        notice: String? = nil
    ) async throws -> Response {
        let invitation = try await users.invitations(in: user.workspaceID, by: page.caller)[user.id]
        var view = UserView(user, invitation: invitation)
        if let form {
            view.email = form["email"] ?? ""
            view.name = form["name"] ?? ""
            view.title = form["title"] ?? ""
        }
        let values = Merged(
            view,
            UserPageActions(
                roles: RoleChoice.all(selected: form?["role"] ?? user.role.rawValue), canWrite: page.holds(.usersWrite),
                isSelf: user.id == page.user.id, mail: mail.isConfigured,
                twoFactor: try await users.hasTwoFactor(user.id, by: page.caller)))
        return try pages.render("admin-user", values, for: page, in: .users, notice: notice, error: error)
    }

    private static func id(_ context: AppRequestContext) throws -> UserID {
        guard let raw = context.parameters.get("id"), let uuid = UUID(uuidString: raw) else {
            throw PageError(status: .notFound, title: "Not found", message: "There is no such user.")
        }
        return UserID(uuid)
    }

    static func path(_ user: User) -> String { "/admin/users/\(user.id)" }

}

/// A user as the pages show them.
struct UserView: Encodable {
    let id: String
    let path: String
    var name: String
    var email: String
    var title: String
    let role: String
    let active: Bool
    let privacyAccepted: String
    let created: String
    /// Whether they can sign in with a password yet.
    let hasPassword: Bool
    /// Until when their invitation works; nil when there is none, or it has expired (`invitationExpired`).
    let invitedUntil: String?
    let invitationExpired: Bool

    init(_ user: User, invitation: Invitation? = nil) {
        id = "\(user.id)"
        path = UserPages.path(user)
        name = user.name
        email = user.email.value
        title = user.title ?? ""
        role = user.role.rawValue
        active = user.isActive
        privacyAccepted = PageFormat.date(user.privacyNoticeAcceptedAt)
        created = PageFormat.date(user.createdAt)
        hasPassword = user.passwordHash != nil
        invitedUntil = invitation.flatMap { $0.hasExpired ? nil : PageFormat.date($0.expiresAt) }
        invitationExpired = invitation?.hasExpired ?? false
    }
}

/// A role in a role menu.
struct RoleChoice: Encodable {
    let value: String
    let selected: Bool

    static func all(selected: String) -> [RoleChoice] {
        Role.allCases.map { RoleChoice(value: $0.rawValue, selected: $0.rawValue == selected) }
    }
}

/// `admin-users.mustache`.
struct UserListPage: Encodable {
    let q: String
    let users: [UserView]
    let canWrite: Bool
    /// Whether the person may change the two-factor requirement (a super admin), and what it is.
    let canSetPolicy: Bool
    let adminTwoFactorRequired: Bool
}

/// `admin-user-new.mustache`: the form, empty or as sent.
struct NewUserPage: Encodable {
    let email: String
    let name: String
    let title: String
    let roles: [RoleChoice]
}

/// What `admin-user.mustache` shows besides the user.
struct UserPageActions: Encodable {
    let roles: [RoleChoice]
    let canWrite: Bool
    let isSelf: Bool
    /// Whether links are emailed, so the page can say so.
    let mail: Bool
    /// Whether the user has two-factor sign-in on.
    let twoFactor: Bool
}
