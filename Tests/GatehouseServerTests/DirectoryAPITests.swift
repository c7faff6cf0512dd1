import Foundation
import GatehouseCore
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import Testing

/// `/api/v1/me`, users, departments and scopes.
@Suite("Users, departments and scopes over HTTP")
struct DirectoryAPITests {
    @Test func meIsTheKeysUserWithoutThePasswordHash() async throws {
        try await withAPI { api in
            let (_, owner) = try await api.workspace()
            let (_, key) = try await api.key(for: owner)
            let me = try await api.call(.get, "/api/v1/me", key: key)
            #expect(me.status == .ok)
            #expect(me.string("id") == "\(owner.id)")
            #expect(me.string("role") == "super_admin")
            #expect(me.json["active"] as? Bool == true)
            #expect(me.json["title"] is NSNull)
            #expect(!me.text.contains("password"))
        }
    }

    @Test func usersAreCreatedReadAndChanged() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let sales = Department(workspaceID: acme.id, name: "Sales", createdAt: Fixture.epoch)
            try await api.store.insert(sales)
            let created = try await api.call(
                .post, "/api/v1/users", key: admin,
                json: #"""
                    {"email":"Ann@Acme.test","name":"Ann","employee_id":"E-7","title":"Rep",
                     "department_id":"\#(sales.id)","manager_id":"\#(owner.id)","password":"a long enough secret"}
                    """#)
            #expect(created.status == .created)
            #expect(created.string("email") == "ann@acme.test")
            #expect(created.string("department_id") == "\(sales.id)")
            #expect(created.string("manager_id") == "\(owner.id)")
            #expect(created.string("role") == "user")
            let id = try #require(created.string("id"))
            let stored = try #require(try await api.store.user(email: EmailAddress("ann@acme.test")))
            let hash = try #require(stored.passwordHash)
            #expect(await Fixture.fastPasswords.verify("a long enough secret", against: hash))
            #expect(!created.text.contains("a long enough secret"))

            let changed = try await api.call(
                .patch, "/api/v1/users/\(id)", key: admin,
                json: #"{"title":null,"department_id":null,"name":"Ann Lee","role":"hr_admin"}"#)
            #expect(changed.status == .ok)
            #expect(changed.json["title"] is NSNull)
            #expect(changed.json["department_id"] is NSNull)
            #expect(changed.string("name") == "Ann Lee")
            #expect(changed.string("role") == "hr_admin")
            #expect(changed.string("employee_id") == "E-7")
            #expect(try await api.call(.get, "/api/v1/users/\(id)", key: admin).string("name") == "Ann Lee")
            let list = try await api.call(.get, "/api/v1/users", key: admin)
            #expect(list.items("users").map { $0["email"] as? String } == ["ann@acme.test", "owner@acme.test"])
        }
    }

    @Test func userMistakesAreClear() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let ann = try await api.user("ann@acme.test", in: acme)
            let taken = try await api.call(
                .post, "/api/v1/users", key: admin, json: #"{"email":"ann@acme.test","name":"A"}"#)
            #expect(taken.status == .conflict)
            #expect(taken.error == ErrorBody(error: "conflict", message: "A user with that email already exists."))
            let clash = try await api.call(
                .patch, "/api/v1/users/\(ann.id)", key: admin, json: #"{"email":"owner@acme.test"}"#)
            #expect(clash.status == .conflict)
            let selfManaged = try await api.call(
                .patch, "/api/v1/users/\(ann.id)", key: admin, json: #"{"manager_id":"\#(ann.id)"}"#)
            #expect(selfManaged.status == .badRequest)
            let badRole = try await api.call(
                .post, "/api/v1/users", key: admin, json: #"{"email":"b@acme.test","name":"B","role":"owner"}"#)
            #expect(badRole.status == .badRequest)
            #expect(badRole.error?.message.contains("super_admin, admin, hr_admin, user") == true)
            let shortPassword = try await api.call(
                .post, "/api/v1/users", key: admin, json: #"{"email":"c@acme.test","name":"C","password":"short"}"#)
            #expect(shortPassword.status == .badRequest)
            #expect(try await api.call(.get, "/api/v1/users/\(UUID())", key: admin).status == .notFound)
        }
    }

    @Test func workspacesDefineTheirOwnScopesForTheirRoles() async throws {
        try await withAPI { api in
            let (acme, owner) = try await api.workspace()
            let (_, admin) = try await api.key(for: owner)
            let defined = try await api.call(
                .post, "/api/v1/scopes", key: admin,
                json: #"{"name":"okrs:read","description":"Read OKRs","roles":["user","admin"]}"#)
            #expect(defined.status == .created)
            #expect(defined.json["roles"] as? [String] == ["admin", "super_admin", "user"])
            #expect(defined.json["built_in"] as? Bool == false)
            let listed = try await api.call(.get, "/api/v1/scopes", key: admin)
            let names = listed.items("scopes").compactMap { $0["name"] as? String }
            #expect(names.contains("okrs:read") && names.contains("departments:read"))

            let ann = try await api.user("ann@acme.test", in: acme)
            let hr = try await api.user("hr@acme.test", role: .hrAdmin, in: acme)
            let scoped = #"{"name":"okrs","scopes":["okrs:read"]}"#
            #expect(
                try await api.call(.post, "/api/v1/users/\(ann.id)/api-keys", key: admin, json: scoped).status
                    == .created)
            #expect(
                try await api.call(.post, "/api/v1/users/\(hr.id)/api-keys", key: admin, json: scoped).status
                    == .badRequest)

            let again = try await api.call(
                .post, "/api/v1/scopes", key: admin, json: #"{"name":"okrs:read","description":"x","roles":["user"]}"#)
            #expect(again.status == .conflict)
            let builtIn = try await api.call(
                .post, "/api/v1/scopes", key: admin, json: #"{"name":"users:read","description":"x","roles":["user"]}"#)
            #expect(builtIn.status == .conflict)
            let (_, userKey) = try await api.key(for: ann)
            let byUser = try await api.call(
                .post, "/api/v1/scopes", key: userKey,
                json: #"{"name":"kpis:write","description":"x","roles":["user"]}"#)
            #expect(byUser.status == .forbidden)
        }
    }
}
