import Foundation
import GatehouseCore
import Hummingbird

/// `/api/v1/me`, `/api/v1/users` and `/api/v1/departments`: the protected resources that exercise the rights
/// model.
struct DirectoryController {
    let users: UserAdministration
    let mail: AccountMail

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.get("me", use: me)
        api.get("users", use: list)
        api.post("users", use: create)
        api.get("users/{id}", use: show)
        api.patch("users/{id}", use: update)
        api.post("users/{id}/invitation", use: invite)
        api.delete("users/{id}/invitation", use: cancelInvitation)
        api.post("users/{id}/password-reset", use: resetLink)
        api.delete("users/{id}/two-factor", use: resetTwoFactor)
        api.delete("users/{id}/sessions", use: endSessions)
        api.get("workspace", use: showWorkspace)
        api.patch("workspace", use: changeWorkspace)
        api.get("departments", use: departments)
    }

    @Sendable func me(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        switch try users.me(by: try context.caller()) {
        case .user(let user): try UserRepresentation(user).response(from: request, context: context)
        case .client(let client): try ClientRepresentation(client).response(from: request, context: context)
        }
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        let caller = try context.caller()
        let list = try await users.users(in: try workspace(of: caller), by: caller)
        return Listing(items: list.map(UserRepresentation.init), name: "users")
    }

    /// `POST /api/v1/users`: without a password, the answer carries the invitation, shown this once.
    @Sendable func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let caller = try context.caller()
        let body = try await request.decodeBody(as: NewUserBody.self, context: context)
        let added = try await users.create(try body.parsed(), in: try workspace(of: caller), by: caller)
        guard let invitation = added.invitation else {
            return try EditedResponse(status: .created, response: UserRepresentation(added.user))
                .response(from: request, context: context)
        }
        let shown = try linkShown(invitation, by: caller)
        return try InvitedUser(user: UserRepresentation(added.user), invitation: shown)
            .showingSecret(status: .created, request: request, context: context)
    }

    /// `POST /api/v1/users/{id}/invitation`: a new invitation for a user without a password; the one before
    /// stops working.
    @Sendable func invite(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await newLink(request, context) { try await users.invite($0, by: $1) }
    }

    @Sendable func cancelInvitation(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await users.cancelInvitation(try context.parameters.id("id"), by: try context.caller())
        return Response(status: .noContent)
    }

    /// `POST /api/v1/users/{id}/password-reset`: a link for the user to choose a new password, shown once and
    /// emailed to them when mail is configured.
    @Sendable func resetLink(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await newLink(request, context) { try await users.resetLink($0, by: $1) }
    }

    /// The link `make` issues for the user of the path, shown this once (201, `no-store`).
    private func newLink(
        _ request: Request, _ context: AppRequestContext,
        _ make: (UserID, Caller) async throws -> IssuedPasswordLink
    ) async throws -> Response {
        let caller = try context.caller()
        let issued = try await make(try context.parameters.id("id"), caller)
        return try linkShown(issued, by: caller).showingSecret(status: .created, request: request, context: context)
    }

    /// `DELETE /api/v1/users/{id}/two-factor`: for someone who lost their phone and recovery codes.
    @Sendable func resetTwoFactor(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await users.resetTwoFactor(try context.parameters.id("id"), by: try context.caller())
        return Response(status: .noContent)
    }

    /// `DELETE /api/v1/users/{id}/sessions`: signs every browser of theirs out.
    @Sendable func endSessions(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await users.endSessions(try context.parameters.id("id"), by: try context.caller())
        return Response(status: .noContent)
    }

    @Sendable func showWorkspace(_ request: Request, _ context: AppRequestContext) async throws
        -> some ResponseGenerator
    {
        let caller = try context.caller()
        try caller.require(.usersRead)
        return WorkspaceRepresentation(try await users.workspace(try workspace(of: caller), by: caller))
    }

    /// `PATCH /api/v1/workspace`: `require_admin_two_factor`, a super admin's decision.
    @Sendable func changeWorkspace(_ request: Request, _ context: AppRequestContext) async throws
        -> some ResponseGenerator
    {
        let caller = try context.caller()
        let body = try await request.decodeBody(as: WorkspaceChangeBody.self, context: context)
        guard let required = body.requireAdminTwoFactor else {
            throw DomainError.invalidInput(field: "require_admin_two_factor", message: "Give require_admin_two_factor.")
        }
        return WorkspaceRepresentation(
            try await users.requireAdminTwoFactor(required, in: try workspace(of: caller), by: caller))
    }

    /// The link as the API shows it, once; it is emailed to its user too when mail is configured.
    private func linkShown(_ issued: IssuedPasswordLink, by caller: Caller) throws -> PasswordLinkRepresentation {
        let emailed = try mail.send(issued, inviter: caller.principal?.user?.name)
        return PasswordLinkRepresentation(url: mail.url(of: issued), expiresAt: issued.link.expiresAt, emailed: emailed)
    }

    @Sendable func show(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        UserRepresentation(try await users.user(try context.parameters.id("id"), by: try context.caller()))
    }

    @Sendable func update(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        let change = try await request.decodeBody(as: UserChangeBody.self, context: context)
        return UserRepresentation(
            try await users.update(try context.parameters.id("id"), try change.parsed(), by: try context.caller()))
    }

    @Sendable func departments(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator
    {
        let caller = try context.caller()
        let list = try await users.departments(in: try workspace(of: caller), by: caller)
        return Listing(items: list.map(DepartmentRepresentation.init), name: "departments")
    }
}

/// The workspace an API caller works in: their credential's.
func workspace(of caller: Caller) throws -> WorkspaceID {
    guard let principal = caller.principal else { throw APIError.unauthorized }
    return principal.workspaceID
}

struct NewUserBody: RequestBody {
    static let fields = [
        "email", "name", "role", "employee_id", "title", "department_id", "manager_id", "password",
    ]

    let email: String
    let name: String
    let role: String?
    let employeeId: String?
    let title: String?
    let departmentId: String?
    let managerId: String?
    let password: String?

    func parsed() throws -> NewUser {
        NewUser(
            email: try EmailAddress(email), name: try DisplayName(name),
            role: try role.map(Role.init(parsing:)) ?? .user,
            employeeID: employeeId, title: title,
            departmentID: try departmentId.map { try uuid($0, field: "department_id") },
            managerID: try managerId.map { try uuid($0, field: "manager_id") },
            password: try password.map { try Password($0) })
    }
}

struct UserChangeBody: RequestBody {
    static let fields = ["email", "name", "employee_id", "title", "department_id", "manager_id", "role", "active"]
    static let nullable: Set = ["employee_id", "title", "department_id", "manager_id"]

    var email: String?
    var name: String?
    var employeeId: String??
    var title: String??
    var departmentId: String??
    var managerId: String??
    var role: String?
    var active: Bool?

    enum CodingKeys: String, CodingKey {
        case email, name, employeeId, title, departmentId, managerId, role, active
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        email = try container.decodeUnlessAbsent(String.self, forKey: .email)
        name = try container.decodeUnlessAbsent(String.self, forKey: .name)
        employeeId = try container.decodePatch(String.self, forKey: .employeeId)
        title = try container.decodePatch(String.self, forKey: .title)
        departmentId = try container.decodePatch(String.self, forKey: .departmentId)
        managerId = try container.decodePatch(String.self, forKey: .managerId)
        role = try container.decodeUnlessAbsent(String.self, forKey: .role)
        active = try container.decodeUnlessAbsent(Bool.self, forKey: .active)
    }

    func parsed() throws -> UserChange {
        UserChange(
            email: try email.map { try EmailAddress($0) }, name: try name.map { try DisplayName($0) },
            employeeID: employeeId,
            title: title, departmentID: try departmentId.map { try $0.map { try uuid($0, field: "department_id") } },
            managerID: try managerId.map { try $0.map { try uuid($0, field: "manager_id") } },
            role: try role.map(Role.init(parsing:)), isActive: active)
    }
}

/// Parses an id from a request body; a malformed one is the caller's mistake (400), not a missing thing.
func uuid<Entity>(_ text: String, field: String) throws(DomainError) -> Identifier<Entity> {
    guard let uuid = UUID(uuidString: text) else {
        throw .invalidInput(field: field, message: "The \(field) '\(text)' is not an id.")
    }
    return Identifier(uuid)
}

struct WorkspaceChangeBody: RequestBody {
    static let fields = ["require_admin_two_factor"]
    let requireAdminTwoFactor: Bool?
}

/// The caller's workspace and its settings.
struct WorkspaceRepresentation: ResponseEncodable {
    let id: String
    let name: String
    let slug: String
    let requireAdminTwoFactor: Bool
    let createdAt: Date

    init(_ workspace: Workspace) {
        id = "\(workspace.id)"
        name = workspace.name
        slug = workspace.slug.value
        requireAdminTwoFactor = workspace.requiresAdminTwoFactor
        createdAt = workspace.createdAt
    }
}
