import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// My account, for every signed-in person: their profile, the applications they have allowed (with
/// `POST /account/applications/{client_id}/withdraw` to take that back, which ends every token those hold for
/// them), their own API keys, read-only, `POST /account/password` to change their password, and the browsers
/// they are signed in on, each with `POST /account/sessions/{handle}/end`, and
/// `POST /account/sessions/end-others` for all but this one.
struct AccountController {
    let consents: Consents
    let keys: APIKeys
    let pages: SignedInPages

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("account", use: account)
        router.post("account/applications/{client_id}/withdraw", use: withdraw)
        router.post("account/password", use: changePassword)
        router.post("account/sessions/end-others", use: endOtherSessions)
        router.post("account/sessions/{handle}/end", use: endSession)
        router.get("account/two-factor", use: twoFactorPage)
        router.post("account/two-factor", use: confirmTwoFactor)
        router.post("account/two-factor/recovery-codes", use: regenerateRecoveryCodes)
        router.post("account/two-factor/remove", use: removeTwoFactor)
    }

    var twoFactor: TwoFactor { pages.sessions.signIn.twoFactor }

    /// Enrolment (the QR code and the key, then a first code), or, once it is on, new recovery codes and
    /// turning it off.
    @Sendable func twoFactorPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await twoFactorPage(
            try await pages.open(request, context: context),
            returnTo: WebInput.localPath(try WebInput.query(request)["return_to"]), notice: Notice.of(request))
    }

    /// `returnTo`: where a person sent here to set it up (by their workspace's rule, or an app asking for it)
    /// goes once it is on.
    private func twoFactorPage(
        _ page: SignedInPage, returnTo: String? = nil, notice: String? = nil, error: DomainError? = nil
    ) async throws -> Response {
        let status = try await twoFactor.status(of: page.user)
        var values = TwoFactorPage(
            enrolled: status.isEnrolled, recoveryCodesLeft: status.recoveryCodesLeft, returnTo: returnTo)
        if !status.isEnrolled {
            let totp = try await twoFactor.enrolment(for: page.user)
            let uri = totp.uri(issuer: "Gatehouse", account: page.user.email.value)
            values.secret = totp.typedSecret
            values.qrSvg = QRCode(uri)?.svg(label: "QR code to scan with an authenticator app") ?? ""
        }
        return try pages.render("account-two-factor", values, for: page, in: .account, notice: notice, error: error)
            .notStored()
    }

    @Sendable func confirmTwoFactor(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, form) = try await pages.submit(request, context: context)
        let returnTo = WebInput.localPath(form["return_to"])
        return try await withCode(page, returnTo: returnTo) {
            let codes = try await twoFactor.confirm(
                for: page.user, code: form["code"] ?? "", address: context.remoteAddress)
            return try pages.render(
                "recovery-codes", RecoveryCodesPage(codes: codes, continueTo: returnTo ?? "/account"), for: page,
                in: .account
            ).notStored()
        }
    }

    @Sendable func regenerateRecoveryCodes(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, form) = try await pages.submit(request, context: context)
        return try await withCode(page) {
            let codes = try await twoFactor.regenerateRecoveryCodes(
                for: page.user, code: form["code"] ?? "", address: context.remoteAddress)
            return try pages.render(
                "recovery-codes", RecoveryCodesPage(codes: codes, continueTo: "/account"), for: page, in: .account
            ).notStored()
        }
    }

    @Sendable func removeTwoFactor(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, form) = try await pages.submit(request, context: context)
        return try await withCode(page) {
            try await twoFactor.remove(for: page.user, code: form["code"] ?? "", address: context.remoteAddress)
            // Every session ended, this one too.
            var response = Response.redirect(to: "/login", after: .post)
            response.setCookie(pages.sessions.cookies.clearedSession())
            return response
        }
    }

    /// Runs an action that needs a second-factor code, answering a wrong one on the page and too many with 429.
    private func withCode(
        _ page: SignedInPage, returnTo: String? = nil, _ action: () async throws -> Response
    ) async throws -> Response {
        do {
            return try await action()
        } catch SecondFactorRefusal.wrongCode {
            return try await twoFactorPage(
                page, returnTo: returnTo,
                error: .invalidInput(field: "code", message: "That code is not right, or it was used already."))
        } catch SecondFactorRefusal.throttled(let wait) {
            throw PageError(
                status: .tooManyRequests, title: "Too many attempts",
                message: "Too many wrong codes. Try again in \(max(1, wait / 60)) minutes.",
                headers: [.retryAfter: "\(wait)"])
        }
    }

    @Sendable func endSession(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, _) = try await pages.submit(request, context: context)
        let handle = context.parameters.get("handle") ?? ""
        guard try await pages.sessions.signIn.endSession(handle, of: page.user, address: context.remoteAddress) else {
            throw PageError(status: .notFound, title: "Not found", message: "There is no such session of yours.")
        }
        return Response.redirect(to: Notice.location("/account", "session_ended"), after: .post)
    }

    @Sendable func endOtherSessions(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, _) = try await pages.submit(request, context: context)
        try await pages.sessions.signIn.endOtherSessions(
            of: page.user, keeping: pages.sessions.cookies.session(of: request), address: context.remoteAddress)
        return Response.redirect(to: Notice.location("/account", "other_sessions_ended"), after: .post)
    }

    @Sendable func account(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await accountPage(try await pages.open(request, context: context), request, notice: Notice.of(request))
    }

    /// The current password, then the new one twice. Every other session of the person ends; this browser's
    /// goes on.
    @Sendable func changePassword(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (page, form) = try await pages.submit(request, context: context)
        let new = form["new_password"] ?? ""
        guard new == form["new_password_again"] else {
            return try await accountPage(
                page, request,
                error: .invalidInput(field: "new_password", message: "The two new passwords are not the same."))
        }
        do {
            try await pages.sessions.signIn.changePassword(
                of: page.user, current: form["current_password"] ?? "", new: new,
                keeping: pages.sessions.cookies.session(of: request), address: context.remoteAddress)
        } catch PasswordChangeRefusal.wrongPassword {
            return try await accountPage(
                page, request,
                error: .invalidInput(field: "current_password", message: "The current password is not right."))
        } catch PasswordChangeRefusal.throttled(let wait) {
            throw PageError(
                status: .tooManyRequests, title: "Too many attempts",
                message: "Too many wrong passwords. Try again in \(max(1, wait / 60)) minutes.",
                headers: [.retryAfter: "\(wait)"])
        } catch let refusal as DomainError {
            return try await accountPage(page, request, error: refusal)
        }
        return Response.redirect(to: Notice.location("/account", "password_changed"), after: .post)
    }

    private func accountPage(
        _ page: SignedInPage, _ request: Request, notice: String? = nil, error: DomainError? = nil
    ) async throws -> Response {
        let user = page.user
        let current = pages.sessions.cookies.session(of: request).map { OpaqueToken($0).digest }
        let sessions = try await pages.sessions.signIn.sessions(of: user).map { session in
            AccountPage.Session(
                handle: session.handle, browser: session.userAgent ?? "Unknown browser",
                address: session.address ?? "unknown address", signedIn: PageFormat.date(session.authTime),
                lastSeen: PageFormat.date(session.lastSeenAt), isThisBrowser: session.digest == current)
        }
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
                hasRevokedKeys: own.contains { $0.status == .revoked }, sessions: sessions,
                hasOtherSessions: sessions.contains { !$0.isThisBrowser },
                twoFactorOn: try await twoFactor.status(of: user).isEnrolled))
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

/// `account-two-factor.mustache`.
struct TwoFactorPage: Encodable {
    let enrolled: Bool
    let recoveryCodesLeft: Int
    /// Where to go once it is on, for someone sent here to set it up.
    let returnTo: String?
    /// While enrolling: the key in groups of four, and the QR code as an SVG element.
    var secret: String?
    var qrSvg: String?
}

/// `recovery-codes.mustache`: shown once.
struct RecoveryCodesPage: Encodable {
    let codes: [String]
    let continueTo: String
}

/// What `account.mustache` shows besides the person: the applications acting for them and their own keys.
struct AccountPage: Encodable {
    struct Application: Encodable {
        let clientID: String
        let name: String
        let scopes: String
        let granted: String
    }

    /// A browser the person is signed in on.
    struct Session: Encodable {
        let handle: String
        let browser: String
        let address: String
        let signedIn: String
        let lastSeen: String
        let isThisBrowser: Bool
    }

    let applications: [Application]
    let hasApplications: Bool
    let keys: KeyListing
    let hasRevokedKeys: Bool
    let sessions: [Session]
    let hasOtherSessions: Bool
    let twoFactorOn: Bool
}
