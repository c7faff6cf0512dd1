import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// `GET/POST /oauth/logout`, the `end_session_endpoint` (OpenID Connect RP-Initiated Logout 1.0): an app
/// sends the browser here to sign its user out of Gatehouse too. With an `id_token_hint` for the signed-in
/// user the session ends at once; otherwise the user is asked first. Afterwards the browser goes to the app's
/// registered `post_logout_redirect_uri`, with `state`, or sees that it is signed out.
struct LogoutController {
    let logout: Logout
    let sessions: WebSessions
    let pages: PageRenderer

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("oauth/logout", use: logoutFromQuery)
        router.post("oauth/logout", use: logoutFromForm)
    }

    @Sendable func logoutFromQuery(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endSession(try WebInput.query(request), method: .get, request: request)
    }

    /// An app may send the request as a form POST (§2); the confirmation form comes back the same way, with its
    /// CSRF token and the user's decision.
    @Sendable func logoutFromForm(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var form = try await WebInput.form(request, context: context)
        guard let decision = form.removeValue(forKey: "decision") else {
            return try await endSession(form, method: .post, request: request)
        }
        try sessions.cookies.checkCSRF(form, of: request)
        form["csrf_token"] = nil
        let checked = try await check(form)
        guard decision == "sign_out" else {
            // Staying signed in: back to the app, which has signed them out of itself already, or to their
            // account.
            return Response.redirect(
                to: checked.redirect?.location ?? SignInController.defaultDestination, after: .post)
        }
        return try await signOut(checked, request: request, after: .post)
    }

    private func endSession(_ parameters: [String: String], method: HTTPRequest.Method, request: Request)
        async throws -> Response
    {
        let checked = try await check(parameters)
        // Nobody signed in means nothing to end and nothing to ask.
        if let signedIn = try await sessions.signedIn(request), !checked.mayEndSessionWithoutAsking(signedIn) {
            return try confirmationPage(checked, for: signedIn, request: request)
        }
        return try await signOut(checked, request: request, after: method)
    }

    private func signOut(_ checked: LogoutRequest, request: Request, after method: HTTPRequest.Method) async throws
        -> Response
    {
        try await sessions.signOut(request)
        var response =
            if let redirect = checked.redirect {
                Response.redirect(to: redirect.location, after: method)
            } else {
                try pages.page(
                    "signed-out",
                    SignedOutPage(title: "You are signed out", clientName: checked.client?.name)
                ).notStored()
            }
        response.setCookie(sessions.cookies.clearedSession())
        return response
    }

    private func check(_ parameters: [String: String]) async throws -> LogoutRequest {
        do {
            return try await logout.check(parameters)
        } catch let refusal as LogoutRefusal {
            throw PageError(status: .badRequest, title: "This sign-out link is not valid", message: refusal.message)
        }
    }

    private func confirmationPage(_ checked: LogoutRequest, for signedIn: SignedInUser, request: Request) throws
        -> Response
    {
        try pages.formPage("logout", for: request, cookies: sessions.cookies) { csrf in
            LogoutPage(
                title: "Sign out of Gatehouse?", email: signedIn.user.email.value, clientName: checked.client?.name,
                parameters: ConsentPage.Field.carrying(checked.parameters), csrfToken: csrf)
        }
    }
}

/// `logout.mustache`: are you sure you want to sign out?
struct LogoutPage: Encodable {
    let title: String
    let email: String
    let clientName: String?
    let parameters: [ConsentPage.Field]
    let csrfToken: String
}

/// `signed-out.mustache`.
struct SignedOutPage: Encodable {
    let title: String
    let clientName: String?
}
