import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// Admin → API clients → Apps that register themselves: the workspace's dynamic registration policy
/// (RFC 7591), and the initial access tokens admins issue for apps.
struct RegistrationPages {
    let administration: RegistrationAdministration
    let pages: SignedInPages
    let registrationEndpoint: String
    let clock: any WallClock

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("admin/registration") { request, context in
            let page = try await pages.open(request, context: context)
            return try await overview(for: page, notice: Notice.of(request))
        }
        router.post("admin/registration/policy") { request, context in
            let (page, form) = try await pages.submit(request, context: context)
            do {
                _ = try await administration.setPolicy(
                    try ClientRegistrationPolicy(parsing: form["policy"] ?? ""), in: page.user.workspaceID,
                    by: page.caller)
                return Response.redirect(to: Notice.location("/admin/registration", "registration_saved"), after: .post)
            } catch let error as DomainError {
                return try await overview(for: page, error: error)
            }
        }
        router.post("admin/registration/tokens") { request, context in
            let (page, form) = try await pages.submit(request, context: context)
            do {
                let days = try form["expires_in_days"].map { text throws(DomainError) in
                    guard let days = Int(text), (1...365).contains(days) else {
                        throw .invalidInput(field: "expires_in_days", message: "Choose 1 to 365 days.")
                    }
                    return TimeInterval(days * 86_400)
                }
                let scopes = try form["scopes"].map { Set(try $0.split(separator: " ").map { try Scope(String($0)) }) }
                let (token, secret) = try await administration.issueToken(
                    label: try DisplayName(form["label"] ?? "", field: "label"), scopes: scopes,
                    singleUse: form["single_use"] == "on", lifetime: days, in: page.user.workspaceID, by: page.caller)
                return try pages.render(
                    "secret-once",
                    SecretPage(
                        crumbs: "Admin", title: "Initial access token “\(token.label)”", label: "Initial access token",
                        secret: secret.value,
                        details: "The app sends it as 'Authorization: Bearer' to \(registrationEndpoint)"
                            + (token.singleUse ? ", once." : ", until it expires or you revoke it."),
                        lost: "issue a new one and revoke this one", continueTo: "/admin/registration"),
                    for: page, in: .clients)
            } catch let error as DomainError {
                return try await overview(for: page, edited: form, error: error)
            }
        }
        router.post("admin/registration/tokens/{id}/revoke") { request, context in
            let (page, _) = try await pages.submit(request, context: context)
            guard let text = context.parameters.get("id"), let uuid = UUID(text: text) else {
                throw DomainError.notFound("There is no such initial access token.")
            }
            _ = try await administration.revokeToken(InitialAccessTokenID(uuid), by: page.caller)
            return Response.redirect(
                to: Notice.location("/admin/registration", "registration_token_revoked"), after: .post)
        }
    }

    private func overview(
        for page: SignedInPage, edited form: WebForm? = nil, notice: String? = nil, error: DomainError? = nil
    ) async throws -> Response {
        let policy = try await administration.policy(in: page.user.workspaceID, by: page.caller)
        let tokens = try await administration.tokens(in: page.user.workspaceID, by: page.caller)
        let now = clock.now()
        let values = RegistrationPage(
            endpoint: registrationEndpoint,
            policies: ClientRegistrationPolicy.allCases.map { .init(value: $0.rawValue, checked: $0 == policy) },
            policyName: policy.rawValue,
            canSetPolicy: page.holds(.clientsWrite) && page.caller.role == .superAdmin,
            canIssue: page.holds(.clientsWrite),
            tokens: tokens.map { token in
                .init(
                    id: "\(token.id)", label: token.label,
                    scopes: token.scopes.map(\.name).sorted().joined(separator: " "),
                    state: token.state(at: now).rawValue, usable: token.isUsable(at: now), uses: token.uses,
                    expires: token.expiresAt.map(PageFormat.date) ?? "never", created: PageFormat.date(token.createdAt))
            },
            label: form?["label"], scopes: form?["scopes"])
        return try pages.render("admin-registration", values, for: page, in: .clients, notice: notice, error: error)
    }
}

/// `admin-registration.mustache`.
struct RegistrationPage: Encodable {
    struct Choice: Encodable {
        let value: String
        let checked: Bool
    }

    struct Token: Encodable {
        let id: String
        let label: String
        let scopes: String
        let state: String
        let usable: Bool
        let uses: Int
        let expires: String
        let created: String
    }

    let endpoint: String
    let policies: [Choice]
    let policyName: String
    let canSetPolicy: Bool
    let canIssue: Bool
    let tokens: [Token]
    /// The issue form as last sent, when it is shown again with an error.
    let label: String?
    let scopes: String?
}
