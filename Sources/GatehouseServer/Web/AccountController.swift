import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// `GET /account` and `POST /account/applications/{client_id}/withdraw`: the signed-in user sees the
/// applications they have allowed and can take that back, which ends every token those hold for them.
struct AccountController {
    let sessions: WebSessions
    let consents: Consents
    let pages: PageRenderer

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("account") { request, _ in
            guard let signedIn = try await sessions.signedIn(request) else {
                return Response.redirect(to: sessions.signInLocation(returningTo: "/account"), after: .get)
            }
            let connected = try await consents.connected(for: signedIn.user).map { application in
                [
                    "client_id": application.client.id.value, "name": application.client.name,
                    "scopes": application.consent.scopes.sorted().map(\.name).joined(separator: " "),
                ]
            }
            let (csrf, newCookie) = sessions.cookies.csrfToken(of: request)
            var response = try pages.page(
                "account",
                [
                    "title": "Your account", "email": signedIn.user.email.value, "name": signedIn.user.name,
                    "applications": connected, "csrf_token": csrf,
                ]
            ).notStored()
            if let newCookie { response.setCookie(newCookie) }
            return response
        }
        router.post("account/applications/:client_id/withdraw") { request, context in
            let form = try await WebInput.form(request, context: context)
            try sessions.cookies.checkCSRF(form, of: request)
            guard let signedIn = try await sessions.signedIn(request) else {
                return Response.redirect(to: sessions.signInLocation(returningTo: "/account"), after: .post)
            }
            guard let raw = context.parameters.get("client_id"), let client = try? ClientID(raw) else {
                throw PageError(status: .notFound, title: "Not found", message: "There is no such application.")
            }
            do {
                try await consents.withdraw(client, for: signedIn.user)
            } catch let error as DomainError {
                throw PageError(status: .notFound, title: "Not found", message: error.message)
            }
            return Response.redirect(to: "/account", after: .post)
        }
    }
}
