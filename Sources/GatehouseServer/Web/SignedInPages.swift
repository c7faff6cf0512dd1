import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// One request of a signed-in person on Gatehouse's own pages: who they are, whom they act as towards the
/// domain, and the CSRF token the page's forms carry.
struct SignedInPage {
    let user: User
    /// The same kind of caller the JSON API builds from a credential, so the domain decides for both.
    let caller: Caller
    let csrfToken: String
    let newCSRFCookie: Cookie?

    func holds(_ scope: Scope) -> Bool { caller.principal?.scopes.contains(scope) ?? false }
}

/// The sections of the signed-in pages, in the order of the navigation.
enum Section: CaseIterable {
    case clients, resources, apiKeys, users, scopes, audit, account

    var label: String {
        switch self {
        case .clients: "API clients"
        case .resources: "Resource servers"
        case .apiKeys: "Gatehouse API"
        case .users: "Users"
        case .scopes: "Scopes"
        case .audit: "Audit log"
        case .account: "My account"
        }
    }

    var path: String {
        switch self {
        case .clients: "/admin/clients"
        case .resources: "/admin/resources"
        case .apiKeys: "/admin/api-keys"
        case .users: "/admin/users"
        case .scopes: "/admin/scopes"
        case .audit: "/admin/audit"
        case .account: "/account"
        }
    }

    /// Whether the navigation offers the section. The pages themselves ask the domain, which decides.
    func isOffered(to page: SignedInPage) -> Bool {
        switch self {
        case .clients, .resources: page.holds(.clientsRead)
        case .apiKeys: page.holds(.apiKeysRead)
        case .users: page.holds(.usersRead)
        case .scopes: !(page.caller.principal?.scopes ?? []).isDisjoint(with: BuiltInScopes.administrative)
        case .audit: page.holds(.auditRead)
        case .account: true
        }
    }
}

/// Opens the pages of signed-in people and renders them in the shared layout with their navigation.
struct SignedInPages: Sendable {
    let sessions: WebSessions
    let pages: PageRenderer

    /// For a GET: the signed-in person, or (thrown as a redirect) sign-in first, then the privacy notice.
    func open(_ request: Request, context: AppRequestContext) async throws -> SignedInPage {
        let here = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
        let (user, caller) = try await person(request, context, returningTo: WebInput.localPath(here) ?? "/account")
        let (csrf, newCookie) = sessions.cookies.csrfToken(of: request)
        return SignedInPage(user: user, caller: caller, csrfToken: csrf, newCSRFCookie: newCookie)
    }

    /// For a form POST: the form, once its CSRF token is checked, and the signed-in person.
    func submit(_ request: Request, context: AppRequestContext) async throws -> (SignedInPage, WebForm) {
        let form = try await WebForm.read(request, context: context)
        try sessions.cookies.checkCSRF(form["csrf_token"], of: request)
        let (user, caller) = try await person(request, context, returningTo: "/account")
        return (SignedInPage(user: user, caller: caller, csrfToken: form["csrf_token"] ?? "", newCSRFCookie: nil), form)
    }

    /// The request's signed-in person and whom they act as; without a session, or before the privacy notice
    /// is accepted, a redirect there (coming back to `returnTo`) is thrown.
    private func person(_ request: Request, _ context: AppRequestContext, returningTo returnTo: String) async throws
        -> (User, Caller)
    {
        guard let signedIn = try await sessions.signedIn(request) else {
            throw RedirectInstead(location: sessions.signInLocation(returningTo: returnTo))
        }
        guard signedIn.user.privacyNoticeAcceptedAt != nil else {
            throw RedirectInstead(location: WebInput.url("/privacy-notice", ["return_to": returnTo]))
        }
        // The workspace requires a second factor of the person's role: setting it up comes before any other page.
        if signedIn.mustSetUpTwoFactor, !request.uri.path.hasPrefix("/account/two-factor") {
            throw RedirectInstead(location: WebInput.url("/account/two-factor", ["return_to": returnTo]))
        }
        return (signedIn.user, try await sessions.signIn.caller(signedIn, address: context.remoteAddress))
    }

    /// `template` in the layout, with the navigation `page` may see, the CSRF token and any message. A form
    /// shown again with the domain's refusal `error` has that refusal's status.
    func render(
        _ template: String, _ values: some Encodable, for page: SignedInPage, in section: Section,
        notice: String? = nil, error: DomainError? = nil
    ) throws -> Response {
        let layout = SignedInLayout(
            csrfToken: page.csrfToken,
            signedIn: SignedInLayout.Person(
                name: page.user.name,
                nav: Section.allCases.filter { $0.isOffered(to: page) }.map { offered in
                    .init(label: offered.label, path: offered.path, current: offered == section)
                }),
            notice: notice, error: error?.message)
        var response = try pages.page(template, Merged(values, layout), status: error?.status ?? .ok).notStored()
        if let cookie = page.newCSRFCookie { response.setCookie(cookie) }
        return response
    }
}

/// What the layout adds around a signed-in page's own values: the CSRF token, the person's name and navigation,
/// and any notice or refusal.
struct SignedInLayout: Encodable {
    struct Person: Encodable {
        struct Link: Encodable {
            let label: String
            let path: String
            let current: Bool
        }

        let name: String
        let nav: [Link]
    }

    let csrfToken: String
    let signedIn: Person
    let notice: String?
    let error: String?
}

/// The confirmations shown after a form was handled, named in the redirect's `?done=`, so the message is
/// always Gatehouse's own words and never text from the address bar.
enum Notice {
    static let messages = [
        "client_saved": "The client application is saved.",
        "client_created_public": "The client application is registered. It is public, so it has no secret: it proves "
            + "itself with PKCE.",
        "client_disabled": "The client application is disabled: its tokens and service keys stop working now.",
        "client_enabled": "The client application is enabled again.",
        "client_deleted": "The client application is deleted, with its tokens and service keys.",
        "resource_saved": "The resource server is registered: apps may ask tokens for it with resource.",
        "resource_deleted": "The resource server is removed: no new token is issued for it.",
        "registration_saved": "The registration policy is saved.",
        "registration_token_revoked": "The initial access token is revoked: no app registers with it any more.",
        "key_revoked": "The key is revoked: it is refused from the next request on.",
        "key_reactivated": "The key is active again.",
        "user_saved": "The user is saved.",
        "invitation_cancelled": "The invitation is cancelled: its link no longer works.",
        "two_factor_reset": "Two-factor sign-in is off for this user, and every browser of theirs is signed out.",
        "user_sessions_ended": "Every browser signed in as this user is signed out.",
        "admin_two_factor_required":
            "Super admins, admins and HR admins now need two-factor sign-in; those without it set it up when they next sign in.",
        "admin_two_factor_optional": "Two-factor sign-in is now optional for every role.",
        "user_deactivated": "The user is deactivated: their sessions and tokens have ended.",
        "user_reactivated": "The user is active again.",
        "consent_withdrawn": "The application no longer acts for you; its tokens have ended.",
        "password_changed": "Your password is changed. You are signed out everywhere else.",
        "session_ended": "That browser is signed out.",
        "other_sessions_ended": "You are signed out everywhere but here.",
    ]

    /// The message of the request's `?done=`, if it names one.
    static func of(_ request: Request) -> String? {
        request.uri.queryParameters["done"].flatMap { messages[String($0)] }
    }

    /// `path` with `?done=code` (or `&done=code`) appended.
    static func location(_ path: String, _ code: String) -> String {
        path + (path.contains("?") ? "&" : "?") + "done=\(code)"
    }
}

/// The fields of an HTML form, where a name may repeat (a group of checkboxes).
struct WebForm {
    let pairs: [(name: String, value: String)]

    static func read(_ request: Request, context: AppRequestContext) async throws -> WebForm {
        WebForm(pairs: try await FormEncoded.body(of: request, context: context).pairs)
    }

    /// The field's value with surrounding white space removed; nil when absent or blank.
    subscript(_ name: String) -> String? {
        let value = pairs.first { $0.name == name }?.value.trimmingCharacters(in: .whitespacesAndNewlines)
        return value?.isEmpty == false ? value : nil
    }

    /// Every value of a repeated field.
    func values(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// The lines of a text area, blank ones left out.
    func lines(_ name: String) -> [String] {
        (self[name] ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }
}
