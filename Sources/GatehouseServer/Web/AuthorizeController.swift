import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// `GET/POST /oauth/authorize` and the consent form's `POST /oauth/authorize/decision`: the browser's way
/// through sign-in, the privacy notice and consent, ending in a redirect to the client. Until the client and
/// redirect URI are verified, errors are shown here and never redirected.
struct AuthorizeController {
    let authorization: Authorization
    let sessions: WebSessions
    let pages: PageRenderer

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("oauth/authorize", use: authorizeFromQuery)
        router.post("oauth/authorize", use: authorizeFromForm)
        router.post("oauth/authorize/decision", use: decide)
    }

    @Sendable func authorizeFromQuery(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await authorize(try WebInput.query(request), method: .get, request: request)
    }

    @Sendable func authorizeFromForm(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await authorize(try await WebInput.form(request, context: context), method: .post, request: request)
    }

    @Sendable func decide(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var form = try await WebInput.form(request, context: context)
        try sessions.cookies.checkCSRF(form, of: request)
        let decision = form.removeValue(forKey: "decision")
        form["csrf_token"] = nil
        let checked = try await check(form)
        guard let signedIn = try await sessions.signedIn(request) else {
            return Response.redirect(
                to: sessions.signInLocation(returningTo: WebInput.url("/oauth/authorize", form)), after: .post)
        }
        let redirect =
            decision == "allow"
            ? try await authorization.approve(checked, by: signedIn) : authorization.deny(checked)
        return Response.redirect(to: redirect.location, after: .post)
    }

    private func authorize(_ parameters: [String: String], method: HTTPRequest.Method, request: Request) async throws
        -> Response
    {
        let checked = try await check(parameters)
        let signedIn = try await sessions.signedIn(request)
        switch try await authorization.next(checked, signedIn: signedIn) {
        case .signIn:
            let back = WebInput.url("/oauth/authorize", checked.parametersAfterSignIn)
            return Response.redirect(
                to: sessions.signInLocation(returningTo: back, loginHint: checked.parameters["login_hint"]),
                after: method)
        case .acceptPrivacyNotice:
            let back = WebInput.url("/oauth/authorize", checked.parameters)
            return Response.redirect(to: WebInput.url("/privacy-notice", ["return_to": back]), after: method)
        case .setUpTwoFactor:
            let back = WebInput.url("/oauth/authorize", checked.parametersAfterSignIn)
            return Response.redirect(to: WebInput.url("/account/two-factor", ["return_to": back]), after: method)
        case .consent(let granted):
            // Consent is only ever the step of a signed-in user.
            guard let signedIn else {
                let back = WebInput.url("/oauth/authorize", checked.parameters)
                return Response.redirect(to: sessions.signInLocation(returningTo: back), after: method)
            }
            return try consentPage(checked, scopes: granted, for: signedIn, request: request)
        case .redirect(let redirect):
            return Response.redirect(to: redirect.location, after: method)
        }
    }

    /// The checked request, or the error: shown for an untrusted client or redirect URI, else redirected.
    private func check(_ parameters: [String: String]) async throws -> AuthorizationRequest {
        do {
            return try await authorization.check(parameters)
        } catch let refusal as AuthorizationRefusal {
            switch refusal {
            case .unsafe(let message):
                throw PageError(status: .badRequest, title: "This sign-in link is not valid", message: message)
            case .redirect(let redirect):
                throw RedirectInstead(location: redirect.location)
            }
        }
    }

    private func consentPage(
        _ request: AuthorizationRequest, scopes: [DescribedScope], for signedIn: SignedInUser, request http: Request
    ) throws -> Response {
        let (csrf, newCookie) = sessions.cookies.csrfToken(of: http)
        let values = ConsentPage(
            title: "Allow \(request.client.name)?", clientName: request.client.name, clientID: request.client.id.value,
            email: signedIn.user.email.value,
            scopes: scopes.map { ConsentPage.ScopeLine(name: $0.scope.name, description: $0.description) },
            parameters: ConsentPage.Field.carrying(request.parameters),
            csrfToken: csrf, redirectHost: URL(string: request.redirectURI)?.host ?? request.redirectURI,
            clientDescription: request.client.description, clientHomepage: request.client.homepageURL,
            clientLogo: request.client.logoURL, resourceName: request.resource?.name,
            resourceIdentifier: request.resource?.identifier.value,
            selfRegistered: request.client.registeredBy != .admin,
            documentHost: request.client.id.isMetadataDocument
                ? ClientMetadataDocuments.host(of: request.client.id) : nil,
            runsOnThisComputer: request.client.registeredBy != .admin
                && request.client.redirectURIs.allSatisfy(\.isLoopback))
        var response = try pages.page("consent", values).notStored()
        if let newCookie { response.setCookie(newCookie) }
        return response
    }
}

/// `consent.mustache`.
struct ConsentPage: Encodable {
    struct ScopeLine: Encodable {
        let name: String
        let description: String
    }

    /// A parameter of the request, carried through the form as a hidden field.
    struct Field: Encodable {
        let name: String
        let value: String

        /// The names a confirmation form (consent, logout) uses itself, so a request cannot smuggle them in.
        static let formFields: Set<String> = ["csrf_token", "decision"]

        /// `parameters` as hidden fields, in name order, without the form's own names.
        static func carrying(_ parameters: [String: String]) -> [Field] {
            parameters.filter { !formFields.contains($0.key) }.sorted { $0.key < $1.key }.map {
                Field(name: $0.key, value: $0.value)
            }
        }
    }

    let title: String
    let clientName: String
    let clientID: String
    let email: String
    let scopes: [ScopeLine]
    let parameters: [Field]
    let csrfToken: String
    let redirectHost: String
    let clientDescription: String?
    let clientHomepage: String?
    let clientLogo: String?
    /// The API the permissions are for, when the request named one (RFC 8707).
    let resourceName: String?
    let resourceIdentifier: String?
    /// The app registered itself (RFC 7591): no admin looked at it.
    let selfRegistered: Bool
    /// For an app named by its metadata document: the host serving it, which vouches for the app.
    let documentHost: String?
    /// It registered itself and sends people back only to this computer: an app the person runs themselves.
    let runsOnThisComputer: Bool
}

/// An error that is answered by redirecting to the client, thrown out of the request check.
struct RedirectInstead: Error {
    let location: String
}

/// Turns `RedirectInstead` into the redirect: 303 after a POST, 302 after a GET.
struct RedirectInsteadMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let redirect as RedirectInstead {
            return Response.redirect(to: redirect.location, after: request.method)
        }
    }
}
