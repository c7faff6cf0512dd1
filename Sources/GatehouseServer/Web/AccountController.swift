import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// My account, for every signed-in person: their profile, the applications they have allowed (with
/// `POST /account/applications/{client_id}/withdraw` to take that back, which ends every token those hold for
/// them), their own API keys, read-only, and `POST /account/password` to change their password.
struct AccountController {
    let consents: Consents
    let keys: APIKeys
    let pages: SignedInPages

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("account", use: account)
        router.post("account/applications/{client_id}/withdraw", use: withdraw)
        router.post("account/password", use: changePassword)
    }

    @Sendable func account(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await accountPage(try await pages.open(request, context: context), notice: Notice.of(request))
    }

    /// The current password, then the new one twice. Every other session of the person ends; this browser's
    /// goes on.
    @Sendable func changePassword(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, form) = try await pages.submit(request, context: context)
        let new = form["new_password"] ?? ""
        guard new == form["new_password_again"] else {
            return try await accountPage(
                page, error: .invalidInput(field: "new_password", message: "The two new passwords are not the same."))
        }
        do {
            try await pages.sessions.signIn.changePassword(
                of: page.user, current: form["current_password"] ?? "", new: new,
                keeping: pages.sessions.cookies.session(of: request), address: context.remoteAddress)
        } catch PasswordChangeRefusal.wrongPassword {
            return try await accountPage(
                page, error: .invalidInput(field: "current_password", message: "The current password is not right."))
        } catch PasswordChangeRefusal.throttled(let wait) {
            throw PageError(
                status: .tooManyRequests, title: "Too many attempts",
                message: "Too many wrong passwords. Try again in \(max(1, wait / 60)) minutes.",
                headers: [.retryAfter: "\(wait)"])
        } catch let refusal as DomainError {
            return try await accountPage(page, error: refusal)
        }
        return Response.redirect(to: Notice.location("/account", "password_changed"), after: .post)
    }

    private func accountPage(_ page: SignedInPage, notice: String? = nil, error: DomainError? = nil) async throws
        -> Response
    {
        let user = page.user
        let connected = try await consents.connected(for: user).map { application in
            AccountPage.Application(
                clientID: application.client.id.value, name: application.client.name,
                scopes: application.consent.scopes.sorted().map(\.name).joined(separator: " "),
                granted: PageFormat.date(application.consent.grantedAt))
        }
        let own = try await keys.ownKeys(by: page.caller)
        let values = Merged(
            UserView(user),
            AccountPage(
                applications: connected, hasApplications: !connected.isEmpty,
                keys: KeyListing(own, owners: [:], canWrite: false),
                hasRevokedKeys: own.contains { $0.status == .revoked }))
        return try pages.render("account", values, for: page, in: .account, notice: notice, error: error)
    }

    @Sendable func withdraw(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, _) = try await pages.submit(request, context: context)
        guard let raw = context.parameters.get("client_id"), let client = try? ClientID(raw) else {
            throw PageError(status: .notFound, title: "Not found", message: "There is no such application.")
        }
        try await consents.withdraw(client, for: page.user)
        return Response.redirect(to: Notice.location("/account", "consent_withdrawn"), after: .post)
    }
}

/// What `account.mustache` shows besides the person: the applications acting for them and their own keys.
struct AccountPage: Encodable {
    struct Application: Encodable {
        let clientID: String
        let name: String
        let scopes: String
        let granted: String
    }

    let applications: [Application]
    let hasApplications: Bool
    let keys: KeyListing
    let hasRevokedKeys: Bool
}
