import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Logging

/// `GET/POST /password`: choosing a password with a one-time link (an invitation or a reset); and
/// `GET/POST /login/forgot`: asking for a reset link by email.
struct PasswordLinkController {
    let links: PasswordLinks
    let mail: AccountMail
    let cookies: WebCookies
    let pages: PageRenderer
    let logger: Logger

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("password", use: form)
        router.post("password", use: setPassword)
        router.get("login/forgot", use: forgotForm)
        router.post("login/forgot", use: forgot)
    }

    @Sendable func form(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let token = try WebInput.query(request)["token"] ?? ""
        let (link, user) = try await open(token)
        return try linkPage(request, token: token, link: link, user: user)
    }

    @Sendable func setPassword(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await WebInput.form(request, context: context)
        try cookies.checkCSRF(form, of: request)
        let token = form["token"] ?? ""
        let (link, user) = try await open(token)
        let new = form["new_password"] ?? ""
        guard new == form["new_password_again"] else {
            return try linkPage(
                request, token: token, link: link, user: user, error: "The two new passwords are not the same.")
        }
        do {
            let changed = try await links.setPassword(with: token, to: new, address: context.remoteAddress)
            var response = try pages.page("password-done", PasswordDonePage(email: changed.email.value)).notStored()
            // Whoever was signed in in this browser is not any more: the account's sessions all ended.
            response.setCookie(cookies.clearedSession())
            return response
        } catch let error as DomainError {
            return try linkPage(request, token: token, link: link, user: user, error: error.message)
        } catch let refusal as PasswordLinkRefusal {
            throw Self.pageError(refusal)
        }
    }

    @Sendable func forgotForm(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try forgotPage(request, email: "", sent: false)
    }

    /// Answers at once, the same for every address: the account is looked up, and the mail made and sent, after
    /// the answer, so neither the words nor the time of the answer say whether the account exists.
    @Sendable func forgot(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await WebInput.form(request, context: context)
        try cookies.checkCSRF(form, of: request)
        let email = String((form["email"] ?? "").prefix(254))
        guard mail.isConfigured else { return try forgotPage(request, email: email, sent: false) }
        let (links, mail, logger, address) = (links, mail, logger, context.remoteAddress)
        Task {
            do {
                if let issued = try await links.requestReset(email: email, address: address) {
                    try mail.send(issued)
                }
            } catch {
                logger.error(
                    "password reset not sent", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            }
        }
        return try forgotPage(request, email: email, sent: true)
    }

    private func open(_ token: String) async throws -> (PasswordLink, User) {
        do {
            return try await links.open(token)
        } catch let refusal as PasswordLinkRefusal {
            throw Self.pageError(refusal)
        }
    }

    static func pageError(_ refusal: PasswordLinkRefusal) -> PageError {
        switch refusal {
        case .unknown:
            PageError(
                status: .notFound, title: "This link cannot be used",
                message: "It has been used already, or replaced by a newer one. Ask for a new link: from the sign-in "
                    + "page (Forgot your password?), or from an administrator of your workspace.")
        case .expired:
            PageError(
                status: .gone, title: "This link has expired",
                message: "Ask for a new link: from the sign-in page (Forgot your password?), or from an "
                    + "administrator of your workspace.")
        }
    }

    private func linkPage(
        _ request: Request, token: String, link: PasswordLink, user: User, error: String? = nil
    ) throws -> Response {
        try pages.formPage(
            "password-link", for: request, cookies: cookies, status: error == nil ? .ok : .badRequest
        ) { csrf in
            PasswordLinkPage(
                heading: link.purpose == .invitation ? "Welcome — choose your password" : "Choose a new password",
                csrfToken: csrf, token: token, email: user.email.value, expires: PageFormat.date(link.expiresAt),
                error: error)
        }
    }

    private func forgotPage(_ request: Request, email: String, sent: Bool) throws -> Response {
        try pages.formPage("forgot-password", for: request, cookies: cookies) { csrf in
            ForgotPasswordPage(csrfToken: csrf, mail: mail.isConfigured, email: email, sent: sent)
        }
    }
}

/// `password-link.mustache`.
struct PasswordLinkPage: Encodable {
    let heading: String
    let csrfToken: String
    let token: String
    let email: String
    let expires: String
    let error: String?
}

/// `password-done.mustache`.
struct PasswordDonePage: Encodable {
    let email: String
}

/// `forgot-password.mustache`.
struct ForgotPasswordPage: Encodable {
    let csrfToken: String
    let mail: Bool
    let email: String
    let sent: Bool
}
