import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Logging

/// A refusal on an HTML page: shown on the error page with its status, never as JSON.
struct PageError: Error {
    let status: HTTPResponse.Status
    let title: String
    let message: String
    var headers: HTTPFields = [:]

    static func badRequest(_ message: String) -> PageError {
        PageError(status: .badRequest, title: "This request cannot be answered", message: message)
    }

    static let formExpired = PageError(
        status: .forbidden, title: "This form has expired",
        message: "The form was not sent from this page, or it is too old. Go back, reload the page and try again.")
}

extension PageError {
    /// A domain refusal that reached a page without a form to show it on.
    init(_ error: DomainError) {
        let title =
            switch error {
            case .forbidden: "You may not open this page"
            case .notFound: "Not found"
            case .invalidInput, .conflict: "This request cannot be answered"
            }
        self.init(status: error.status, title: title, message: error.message)
    }

    var values: ErrorPage { ErrorPage(title: title, message: message) }
}

/// `error.mustache`.
struct ErrorPage: Encodable {
    let title: String
    let message: String
}

/// Renders every error thrown by a page's handler as the error page, so a browser never sees JSON.
struct PageErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let pages: PageRenderer

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as PageError {
            var response = try pages.page("error", error.values, status: error.status)
            response.headers.append(contentsOf: error.headers)
            return response
        } catch let error as FormError {
            let page = PageError.badRequest(error.message)
            return try pages.page("error", page.values, status: page.status)
        } catch let error as DomainError {
            let page = PageError(error)
            return try pages.page("error", page.values, status: page.status)
        } catch let error as HTTPError where error.status == .notFound {
            return try pages.page(
                "error", ErrorPage(title: "Not found", message: "There is no page here."), status: .notFound)
        } catch {
            context.logger.error("page failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            let unavailable = error is StoreUnavailable
            var response = try pages.page(
                "error",
                ErrorPage(
                    title: unavailable ? "Gatehouse is unavailable" : "Something went wrong",
                    message: "Please try again in a moment."),
                status: unavailable ? .serviceUnavailable : .internalServerError)
            if unavailable { response.headers[.retryAfter] = "\(APIError.retryAfterUnavailable)" }
            return response
        }
    }
}

/// The cookies of Gatehouse's pages: the session and the CSRF token. Both HttpOnly and SameSite=Lax, and
/// Secure with the `__Host-` prefix when the issuer is https, so no other site or subdomain can set them.
package struct WebCookies: Sendable {
    let secure: Bool
    let sessionLifetime: TimeInterval

    package init(secure: Bool, sessionLifetime: TimeInterval) {
        self.secure = secure
        self.sessionLifetime = sessionLifetime
    }

    var sessionName: String { secure ? "__Host-gatehouse_session" : "gatehouse_session" }
    var csrfName: String { secure ? "__Host-gatehouse_csrf" : "gatehouse_csrf" }
    /// A long-lived random id of the browser, so a sign-in from one new to its user can be told to them.
    var deviceName: String { secure ? "__Host-gatehouse_device" : "gatehouse_device" }

    func device(of request: Request) -> String? { request.cookies[deviceName]?.value }

    /// Kept a year.
    func deviceCookie(_ value: OpaqueToken) -> Cookie { cookie(deviceName, value.value, maxAge: 365 * 86_400) }

    func session(of request: Request) -> String? {
        request.cookies[sessionName]?.value
    }

    package func sessionCookie(_ value: OpaqueToken) -> Cookie {
        cookie(sessionName, value.value, maxAge: Int(sessionLifetime))
    }

    func clearedSession() -> Cookie { cookie(sessionName, "", maxAge: 0) }

    /// The token a form of this request carries, and the CSRF cookie to set when the request has no well-formed
    /// one.
    func csrfToken(of request: Request) -> (token: String, newCookie: Cookie?) {
        if let existing = request.cookies[csrfName]?.value, existing.utf8.count == 43 {
            return (formToken(csrf: existing, session: session(of: request)), nil)
        }
        let cookie = newCSRFCookie()
        return (formToken(csrf: cookie.value, session: session(of: request)), cookie)
    }

    /// A form's token is a digest of the CSRF cookie bound to the session cookie, both secret and HttpOnly: a
    /// sibling host that can plant a CSRF cookie on an http issuer still cannot know the token of the victim's
    /// session. Before sign-in there is no session, and the token stands on the CSRF cookie alone.
    private func formToken(csrf: String, session: String?) -> String {
        SecretDigest(of: "gatehouse-csrf\u{0}\(csrf)\u{0}\(session ?? "")").hex
    }

    /// A CSRF cookie with a new token: set at sign-in, so a token planted before it is worth nothing after.
    func newCSRFCookie() -> Cookie { cookie(csrfName, OpaqueToken.generate().value, maxAge: nil) }

    /// Throws `formExpired` unless the form's `csrf_token` is the token of this request's CSRF and session cookies
    /// (another site can make the browser send the cookies, but cannot read them to put the token in the form).
    func checkCSRF(_ form: [String: String], of request: Request) throws {
        try checkCSRF(form["csrf_token"], of: request)
    }

    /// Throws `formExpired` unless `field` (the form's `csrf_token`) is the token of this request's cookies.
    func checkCSRF(_ field: String?, of request: Request) throws {
        guard let cookie = request.cookies[csrfName]?.value, cookie.utf8.count == 43, let field,
            constantTimeEquals(Array(formToken(csrf: cookie, session: session(of: request)).utf8), Array(field.utf8))
        else { throw PageError.formExpired }
    }

    private func cookie(_ name: String, _ value: String, maxAge: Int?) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }
}

/// Reading what a browser sends: form bodies and query strings, each parameter at most once.
enum WebInput {
    /// The form's fields, each at most once. A `FormError` becomes a bad-request page (`PageErrorMiddleware`).
    static func form(_ request: Request, context: AppRequestContext) async throws -> [String: String] {
        try await FormEncoded.body(of: request, context: context).singleValued()
    }

    static func query(_ request: Request) throws -> [String: String] {
        try FormEncoded.query(of: request).singleValued()
    }

    /// A local path to come back to after signing in: it must start with one `/`, so it can never send the
    /// browser to another site.
    static func localPath(_ raw: String?) -> String? {
        guard let raw, raw.hasPrefix("/"), !raw.hasPrefix("//"), !raw.hasPrefix("/\\"), raw.utf8.count <= 4096,
            !raw.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7f || $0 == "\\" })
        else { return nil }
        return raw
    }

    /// `path?query` with every parameter percent-encoded.
    static func url(_ path: String, _ parameters: [String: String]) -> String {
        guard !parameters.isEmpty else { return path }
        return AuthorizationRedirect(path, parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }).location
    }
}

extension Response {
    /// A redirect: 303 after a form POST, so the browser follows with GET and never re-sends the form
    /// (RFC 9700 §4.12); 302 after a GET.
    static func redirect(to location: String, after method: HTTPRequest.Method) -> Response {
        Response(
            status: method == .post ? .seeOther : .found, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// Marks a page as never to be stored: it holds a CSRF token or personal details.
    func notStored() -> Response {
        var response = self
        response.headers[.cacheControl] = "no-store"
        return response
    }
}
