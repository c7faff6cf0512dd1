import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Logging

/// The browser side of signing in: the session cookie and who it belongs to.
struct WebSessions: Sendable {
    let signIn: SignIn
    let cookies: WebCookies
    /// Who hears about a sign-out, and the messenger that tells them.
    let backchannel: BackchannelLogout
    let notifier: any LogoutNotifier
    let logger: Logger

    /// The signed-in user of the request, or nil.
    func signedIn(_ request: Request) async throws -> SignedInUser? {
        guard let cookie = cookies.session(of: request) else { return nil }
        return try await signIn.signedIn(cookie: cookie)
    }

    /// Ends the request's session, if it has one, and hands the apps' logout notices (Back-Channel Logout) to
    /// the notifier without waiting for them. A failure to prepare the notices does not undo the sign-out.
    func signOut(_ request: Request) async throws {
        guard let cookie = cookies.session(of: request), let user = try await signIn.signOut(cookie: cookie) else {
            return
        }
        do {
            notifier.send(try await backchannel.notices(for: user))
        } catch {
            logger.warning(
                "back-channel logout notices not prepared",
                metadata: ["error": "\(String(reflecting: type(of: error)))"])
        }
    }

    /// Where to send a browser that must sign in before seeing `returnTo`.
    /// With `loginHint` (OIDC Core §3.1.2.1 `login_hint`), the sign-in form starts with that email filled in.
    func signInLocation(returningTo returnTo: String, loginHint: String? = nil) -> String {
        var query = ["return_to": returnTo]
        if let loginHint { query["login_hint"] = loginHint }
        return WebInput.url("/login", query)
    }
}

/// `GET/POST /login`, `POST /logout` and `GET/POST /privacy-notice`: plain HTML forms, each with a CSRF token.
struct SignInController {
    let sessions: WebSessions
    let pages: PageRenderer
    /// Tells people of a sign-in from a browser new to them, when mail is configured.
    let mail: AccountMail
    var metrics: GatehouseMetrics? = nil

    static let defaultDestination = "/account"

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("login", use: signInForm)
        router.post("login", use: signIn)
        router.post("logout", use: signOut)
        router.get("login/two-factor", use: secondFactorForm)
        router.post("login/two-factor", use: secondFactor)
        router.get("privacy-notice", use: privacyNotice)
        router.post("privacy-notice", use: acceptPrivacyNotice)
    }

    @Sendable func signInForm(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let query = try WebInput.query(request)
        // A hint fills the form only when it could be an email address; it is a suggestion, never trusted.
        let hint = query["login_hint"].flatMap { try? EmailAddress($0) }?.value
        return try signInPage(request, returnTo: WebInput.localPath(query["return_to"]), email: hint)
    }

    @Sendable func signOut(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await WebInput.form(request, context: context)
        try sessions.cookies.checkCSRF(form, of: request)
        try await sessions.signOut(request)
        var response = Response.redirect(to: "/login", after: .post)
        response.setCookie(sessions.cookies.clearedSession())
        return response
    }

    @Sendable func privacyNotice(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let returnTo = WebInput.localPath(try WebInput.query(request)["return_to"]) ?? Self.defaultDestination
        guard let signedIn = try await sessions.signedIn(request) else {
            return Response.redirect(
                to: sessions.signInLocation(returningTo: WebInput.url("/privacy-notice", ["return_to": returnTo])),
                after: .get)
        }
        guard signedIn.user.privacyNoticeAcceptedAt == nil else {
            return Response.redirect(to: returnTo, after: .get)
        }
        return try privacyPage(request, returnTo: returnTo, user: signedIn.user)
    }

    @Sendable func acceptPrivacyNotice(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await WebInput.form(request, context: context)
        try sessions.cookies.checkCSRF(form, of: request)
        let returnTo = WebInput.localPath(form["return_to"]) ?? Self.defaultDestination
        guard let signedIn = try await sessions.signedIn(request) else {
            return Response.redirect(to: sessions.signInLocation(returningTo: returnTo), after: .post)
        }
        _ = try await sessions.signIn.acceptPrivacyNotice(signedIn, address: context.remoteAddress)
        return Response.redirect(to: returnTo, after: .post)
    }

    @Sendable func signIn(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await WebInput.form(request, context: context)
        try sessions.cookies.checkCSRF(form, of: request)
        let returnTo = WebInput.localPath(form["return_to"])
        let email = form["email"] ?? ""
        do {
            let (session, cookie) = try await sessions.signIn.signIn(
                email: email, password: form["password"] ?? "", address: context.remoteAddress,
                userAgent: request.headers[.userAgent])
            // A new session, never the one the browser came with (no session fixation).
            if let previous = sessions.cookies.session(of: request) {
                try await sessions.signIn.signOut(cookie: previous)
            }
            let next =
                session.awaitsSecondFactor
                ? WebInput.url("/login/two-factor", returnTo.map { ["return_to": $0] } ?? [:])
                : returnTo ?? Self.defaultDestination
            var response = Response.redirect(to: next, after: .post)
            // Signed in now, or once the second factor is given.
            if !session.awaitsSecondFactor { try await recognize(session, request, &response) }
            response.setCookie(sessions.cookies.sessionCookie(cookie))
            response.setCookie(sessions.cookies.newCSRFCookie())
            return response
        } catch let refusal as SignInRefusal {
            metrics?.signInFailed(refusal.metricLabel)
            switch refusal {
            case .wrongCredentials:
                return try signInPage(
                    request, returnTo: returnTo, email: email, error: "The email or password is not right.",
                    status: .unauthorized)
            case .deactivated:
                return try signInPage(
                    request, returnTo: returnTo, email: email,
                    error: "This account is deactivated. Ask an administrator of your workspace.", status: .forbidden)
            case .throttled(let wait):
                var response = try signInPage(
                    request, returnTo: returnTo, email: email,
                    error: "Too many failed attempts. Try again in \(max(1, wait / 60)) minutes.",
                    status: .tooManyRequests)
                response.headers[.retryAfter] = "\(wait)"
                return response
            }
        }
    }

    @Sendable func secondFactorForm(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let returnTo = WebInput.localPath(try WebInput.query(request)["return_to"])
        guard let cookie = sessions.cookies.session(of: request),
            try await sessions.signIn.awaitingSecondFactor(cookie: cookie) != nil
        else { return Response.redirect(to: sessions.signInLocation(returningTo: returnTo ?? "/account"), after: .get) }
        return try secondFactorPage(request, returnTo: returnTo)
    }

    /// The second step of signing in: a code from the authenticator app, or a recovery code. Right, the
    /// session awaiting it is replaced by a signed-in one with a new cookie.
    @Sendable func secondFactor(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await WebInput.form(request, context: context)
        try sessions.cookies.checkCSRF(form, of: request)
        let returnTo = WebInput.localPath(form["return_to"])
        let expired = Response.redirect(to: sessions.signInLocation(returningTo: returnTo ?? "/account"), after: .post)
        guard let cookie = sessions.cookies.session(of: request) else { return expired }
        do {
            guard
                let (session, signedIn) = try await sessions.signIn.completeSecondFactor(
                    cookie: cookie, code: form["code"] ?? "", address: context.remoteAddress,
                    userAgent: request.headers[.userAgent])
            else { return expired }
            var response = Response.redirect(to: returnTo ?? Self.defaultDestination, after: .post)
            try await recognize(session, request, &response)
            response.setCookie(sessions.cookies.sessionCookie(signedIn))
            response.setCookie(sessions.cookies.newCSRFCookie())
            return response
        } catch SecondFactorRefusal.wrongCode {
            metrics?.signInFailed("wrong_second_factor")
            return try secondFactorPage(
                request, returnTo: returnTo, error: "That code is not right, or it was used already.",
                status: .unauthorized)
        } catch SecondFactorRefusal.throttled(let wait) {
            metrics?.signInFailed("throttled")
            var response = try secondFactorPage(
                request, returnTo: returnTo,
                error: "Too many wrong codes. Try again in \(max(1, wait / 60)) minutes.", status: .tooManyRequests)
            response.headers[.retryAfter] = "\(wait)"
            return response
        }
    }

    /// Keeps the browser's device cookie, and tells the person by mail of a sign-in from a browser new to them
    /// (never of their first one). The notice never holds up the sign-in.
    private func recognize(_ session: WebSession, _ request: Request, _ response: inout Response) async throws {
        let (device, newTo) = try await sessions.signIn.recognize(
            device: sessions.cookies.device(of: request), of: session)
        response.setCookie(sessions.cookies.deviceCookie(device))
        if let user = newTo { try mail.sendSignInNotice(to: user, from: session) }
    }

    private func secondFactorPage(
        _ request: Request, returnTo: String?, error: String? = nil, status: HTTPResponse.Status = .ok
    ) throws -> Response {
        try pages.formPage("login-two-factor", for: request, cookies: sessions.cookies, status: status) { csrf in
            SecondFactorPage(csrfToken: csrf, returnTo: returnTo, error: error)
        }
    }

    private func signInPage(
        _ request: Request, returnTo: String?, email: String?, error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) throws -> Response {
        try pages.formPage("login", for: request, cookies: sessions.cookies, status: status) { csrf in
            SignInPage(title: "Sign in", csrfToken: csrf, email: email ?? "", returnTo: returnTo, error: error)
        }
    }

    private func privacyPage(_ request: Request, returnTo: String, user: User) throws -> Response {
        try pages.formPage("privacy-notice", for: request, cookies: sessions.cookies) { csrf in
            SignInPage(
                title: "Privacy notice", csrfToken: csrf, email: user.email.value, returnTo: returnTo, error: nil)
        }
    }
}

/// `login.mustache` and `privacy-notice.mustache`: pages before anyone is signed in to the layout.
/// `login-two-factor.mustache`.
struct SecondFactorPage: Encodable {
    let csrfToken: String
    let returnTo: String?
    let error: String?
}

struct SignInPage: Encodable {
    let title: String
    let csrfToken: String
    let email: String
    let returnTo: String?
    let error: String?
}

extension SignInRefusal {
    /// Why, as the `reason` label of `gatehouse_sign_in_failures_total`.
    var metricLabel: String {
        switch self {
        case .wrongCredentials: "invalid_credentials"
        case .deactivated: "deactivated"
        case .throttled: "throttled"
        }
    }
}
