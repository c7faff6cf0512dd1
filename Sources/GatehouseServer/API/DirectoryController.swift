import Foundation
import GatehouseCore
import Hummingbird

/// `/api/v1/me`, `/api/v1/users` and `/api/v1/departments`: the protected resources that exercise the rights
/// model.
struct DirectoryController {
    let users: UserAdministration

    func addRoutes(to api: RouterGroup<AppRequestContext>) {
        api.get("me", use: me)
        api.get("users", use: list)
        api.post("users", use: create)
        api.get("users/{id}", use: show)
        api.patch("users/{id}", use: update)
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

    @Sendable func create(_ request: Request, _ context: AppRequestContext) async throws -> some ResponseGenerator {
        let caller = try context.caller()
        let body = try await request.decodeBody(as: NewUserBody.self, context: context)
        let user = try await users.create(try body.parsed(), in: try workspace(of: caller), by: caller)
        return EditedResponse(status: .created, response: UserRepresentation(user))
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
            password: try password.map(Password.init))
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
