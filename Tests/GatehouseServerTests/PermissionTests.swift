import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import Testing

/// Each role against each built-in scope, through the API.
@Suite("Roles and scopes over HTTP")
struct PermissionTests {
    /// The endpoints that need each built-in scope (clients:* arrive with client applications).
    static func probe(_ scope: Scope, api: APIWorld, self user: User, key: String) async throws -> APIResponse {
        switch scope {
        case .profile: try await api.call(.get, "/api/v1/me", key: key)
        case .usersRead: try await api.call(.get, "/api/v1/users", key: key)
        case .usersWrite:
            try await api.call(
                .post, "/api/v1/users", key: key, json: #"{"email":"new-\#(UUID())@acme.test","name":"New"}"#)
        case .departmentsRead: try await api.call(.get, "/api/v1/departments", key: key)
        case .apiKeysRead: try await api.call(.get, "/api/v1/api-keys", key: key)
        case .apiKeysWrite:
            try await api.call(.post, "/api/v1/users/\(user.id)/api-keys", key: key, json: #"{"name":"another"}"#)
        case .auditRead: try await api.call(.get, "/api/v1/audit-events", key: key)
        default: throw ProbeMissing(scope: scope)
        }
    }

    struct ProbeMissing: Error { let scope: Scope }

    static let probedScopes: [Scope] = [
        .profile, .usersRead, .usersWrite, .departmentsRead, .apiKeysRead, .apiKeysWrite, .auditRead,
    ]

    @Test(arguments: Role.allCases)
    func aKeyCanDoExactlyWhatItsUsersRoleHolds(_ role: Role) async throws {
        try await withAPI { api in
            let (acme, _) = try await api.workspace()
            let user = try await api.user("\(role.rawValue)@acme.test", role: role, in: acme)
            let (_, key) = try await api.key(for: user)
            let held = BuiltInScopes.scopes(of: role)
            for scope in Self.probedScopes {
                let response = try await Self.probe(scope, api: api, self: user, key: key)
                if held.contains(scope) {
                    #expect([.ok, .created].contains(response.status), "\(role) should use \(scope): \(response.text)")
                } else {
                    #expect(response.status == .forbidden, "\(role) must not use \(scope)")
                    #expect(
                        response.error
                            == ErrorBody(error: "forbidden", message: "This key does not have \(scope) permission"))
                }
            }
        }
    }

    @Test(arguments: Role.allCases)
    func aKeyMayOnlyBeScopedToWhatItsUsersRoleHolds(_ role: Role) async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let user = try await api.user("\(role.rawValue)@acme.test", role: role, in: acme)
            for scope in BuiltInScopes.holders.keys.sorted() {
                let response = try await api.call(
                    .post, "/api/v1/users/\(user.id)/api-keys", key: admin,
                    json: #"{"name":"only \#(scope)","scopes":["\#(scope)"]}"#)
                if BuiltInScopes.scopes(of: role).contains(scope) {
                    #expect(response.status == .created, "\(role) holds \(scope)")
                    #expect(response.json["scopes"] as? [String] == [scope.name])
                } else {
                    #expect(response.status == .badRequest, "\(role) does not hold \(scope)")
                    #expect(response.error?.message.contains("does not hold '\(scope)'") == true)
                }
            }
        }
    }

    @Test func aPlainUsersKeyIsRefusedDepartmentsWhileASuperAdminsGetsThem() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            try await api.store.insert(Department(workspaceID: acme.id, name: "Sales", createdAt: Fixture.epoch))
            let ann = try await api.user("ann@acme.test", in: acme)
            let (_, userKey) = try await api.key(for: ann)
            let (_, adminKey) = try await api.key(for: owner)
            let refused = try await api.call(.get, "/api/v1/departments", key: userKey)
            #expect(refused.status == .forbidden)
            #expect(
                refused.text == #"{"error":"forbidden","message":"This key does not have departments:read permission"}"#
            )
            let listed = try await api.call(.get, "/api/v1/departments", key: adminKey)
            #expect(listed.status == .ok)
            #expect(listed.items("departments").map { $0["name"] as? String } == ["Sales"])
        }
    }

    @Test func aKeyScopedNarrowerThanItsRoleCanOnlyUseItsScopes() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, key) = try await api.key(for: owner, scopes: .only([.departmentsRead]))
            #expect(try await api.call(.get, "/api/v1/departments", key: key).status == .ok)
            #expect(try await api.call(.get, "/api/v1/users", key: key).status == .forbidden)
            #expect(try await api.call(.get, "/api/v1/me", key: key).status == .forbidden)
        }
    }

    @Test func aDemotedUsersKeyLosesTheRightsAtOnce() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, superKey) = try await api.key(for: owner)
            let ann = try await api.user("ann@acme.test", role: .hrAdmin, in: acme)
            let (_, key) = try await api.key(for: ann)
            #expect(try await api.call(.get, "/api/v1/users", key: key).status == .ok)
            let demote = try await api.call(.patch, "/api/v1/users/\(ann.id)", key: superKey, json: #"{"role":"user"}"#)
            #expect(demote.status == .ok)
            #expect(try await api.call(.get, "/api/v1/users", key: key).status == .forbidden)
        }
    }

    @Test func nobodyHandsOutRightsTheyDoNotHold() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let admin = try await api.user("admin@acme.test", role: .admin, in: acme)
            let hr = try await api.user("hr@acme.test", role: .hrAdmin, in: acme)
            let (_, adminKey) = try await api.key(for: admin)
            let (_, hrKey) = try await api.key(for: hr)

            // An admin cannot mint a super admin's or an HR admin's key: both hold rights an admin lacks.
            for target in [owner, hr] {
                let response = try await api.call(
                    .post, "/api/v1/users/\(target.id)/api-keys", key: adminKey, json: #"{"name":"takeover"}"#)
                #expect(response.status == .forbidden, "admin → \(target.role)")
            }
            // Only a super admin grants admin or super_admin, or changes such an account.
            let grant = try await api.call(
                .post, "/api/v1/users", key: hrKey, json: #"{"email":"x@acme.test","name":"X","role":"admin"}"#)
            #expect(grant.status == .forbidden)
            #expect(grant.error?.message == "Only a super admin may grant the admin role.")
            let plain = try await api.call(
                .post, "/api/v1/users", key: hrKey, json: #"{"email":"y@acme.test","name":"Y","role":"hr_admin"}"#)
            #expect(plain.status == .created)
            let promote = try await api.call(
                .patch, "/api/v1/users/\(hr.id)", key: hrKey, json: #"{"role":"super_admin"}"#)
            #expect(promote.status == .forbidden)
            let deactivateAdmin = try await api.call(
                .patch, "/api/v1/users/\(admin.id)", key: hrKey, json: #"{"active":false}"#)
            #expect(deactivateAdmin.status == .forbidden)
            #expect(try await api.reload(admin).isActive)
            #expect(try await api.reload(hr).role == .hrAdmin)
        }
    }
}
