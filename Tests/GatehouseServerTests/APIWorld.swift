import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseStore
import GatehouseTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore

/// Everything an `/api/v1` test works with: the running application's client, its store, its clock (which
/// only the test moves) and its key machinery, plus builders that seed data the way an operator would.
struct APIWorld: Sendable {
    let client: any TestClientProtocol
    let store: any GatehouseStorage
    let clock: ManualClock
    let peppers: KeyPeppers
    let lastUse: LastUseRecorder

    /// A workspace whose first user is a super admin who has accepted the privacy notice.
    func workspace(_ slug: String = "acme") async throws -> (Workspace, User) {
        let workspace = try Fixture.workspace(slug)
        var owner = try Fixture.user("owner@\(slug).test", in: workspace, role: .superAdmin)
        owner.privacyNoticeAcceptedAt = Fixture.epoch
        try await store.insert(workspace, firstUser: owner)
        return (workspace, owner)
    }

    func user(
        _ email: String, role: Role = .user, in workspace: Workspace, acceptedPrivacyNotice: Bool = true
    ) async throws -> User {
        var user = try Fixture.user(email, in: workspace, role: role)
        user.privacyNoticeAcceptedAt = acceptedPrivacyNotice ? Fixture.epoch : nil
        try await store.insert(user)
        return user
    }

    /// A key for `user`, made as the operator would from the command line; returns its record and the key.
    func key(
        for user: User, scopes: KeyScopes = .ownerRights, rateLimit: Int? = nil, expiresAt: Date? = nil
    ) async throws -> (APIKey, String) {
        let keys = APIKeys(store: store, clock: clock, peppers: peppers, settings: try APIKeySettings())
        let input = NewAPIKey(
            name: try DisplayName("test key"), scopes: scopes, expiresAt: expiresAt, rateLimitPerMinute: rateLimit)
        let (key, plaintext) = try await keys.create(input, for: .user(user.id), by: .commandLine)
        return (key, plaintext.value)
    }

    /// Sends a request with `key` as the Bearer credential and an optional JSON body.
    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ path: String, key: String?, json: String? = nil
    ) async throws -> APIResponse {
        var headers: HTTPFields = [:]
        if let key { headers[.authorization] = "Bearer \(key)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await send(method, path, headers: headers, body: json)
    }

    /// Sends a request exactly as given and reads the whole response.
    func send(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields, body: String?) async throws
        -> APIResponse
    {
        try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        {
            response in
            APIResponse(status: response.status, headers: response.headers, body: Data(response.body.readableBytesView))
        }
    }

    /// Registers a client through the API as `key`'s holder; returns the response (with the one-time secret).
    @discardableResult
    func registerClient(_ json: String, key: String) async throws -> APIResponse {
        try await call(.post, "/api/v1/clients", key: key, json: json)
    }

    /// Posts an OAuth form body, authenticating with HTTP Basic when `basic` is given.
    func form(
        _ path: String, _ parameters: [(String, String)], basic: (id: String, secret: String)? = nil
    ) async throws -> APIResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let basic {
            let pair = "\(formEncoded(basic.id)):\(formEncoded(basic.secret))"
            headers[.authorization] = "Basic " + Data(pair.utf8).base64EncodedString()
        }
        let body = parameters.map { "\(formEncoded($0.0))=\(formEncoded($0.1))" }.joined(separator: "&")
        return try await send(.post, path, headers: headers, body: body)
    }

    /// Whether `token` is active according to `/oauth/introspect`, asked as the given client.
    func isActive(_ token: String, asClient id: String, secret: String) async throws -> Bool {
        let answer = try await form("/oauth/introspect", [("token", token)], basic: (id, secret))
        guard answer.status == .ok else { throw RecordNotFound("introspection answered \(answer.status)") }
        return answer.json["active"] as? Bool == true
    }

    /// The user's current record in the store.
    func reload(_ user: User) async throws -> User {
        guard let current = try await store.user(id: user.id) else { throw RecordNotFound("user \(user.id)") }
        return current
    }
}

/// A response, read whole, with JSON helpers.
struct APIResponse: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object, or an empty one when it is not.
    var json: [String: Any] {
        ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:]
    }

    /// `{"error","message"}`, when the body is that.
    var error: ErrorBody? { try? JSONDecoder().decode(ErrorBody.self, from: body) }

    /// The items of a listing such as `{"users": [...]}`.
    func items(_ name: String) -> [[String: Any]] {
        ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?[name] as? [[String: Any]] ?? []
    }

    func string(_ field: String) -> String? { json[field] as? String }
}

/// Runs `test` against the real application on a fresh store of the backend under test, with a manual clock.
func withAPI(
    framework: TestingSetup = .router, trustedProxies: [String] = [], keys: APIKeySettings? = nil,
    passwords: any PasswordHasher = Fixture.fastPasswords, mailbox: Mailbox? = nil,
    metadataDocuments: (any MetadataDocumentFetching)? = nil,
    configure: (inout ServerConfiguration) -> Void = { _ in },
    _ test: @escaping @Sendable (APIWorld) async throws -> Void
) async throws {
    let store = try TestBackend.openStore()
    let clock = ManualClock()
    let peppers = try Fixture.peppers()
    let lastUse = LastUseRecorder(store: store, clock: clock)
    var configuration = try ServerConfiguration(
        port: 0, templatesDirectory: templatesDirectory, keys: keys, trustedProxies: trustedProxies)
    configure(&configuration)
    var dependencies = ApplicationDependencies(
        store: store, clock: clock, passwords: passwords, peppers: peppers,
        signingKeySecret: sharedSigningKeySecret, lastUse: lastUse,
        announce: { _ in }, backchannelRetryDelays: [.milliseconds(20), .milliseconds(20)])
    dependencies.mail = mailbox
    dependencies.metadataDocuments = metadataDocuments
    let app = try await buildApplication(configuration, dependencies, logger: TestBackend.quietLogger)
    try await app.test(framework) { client in
        try await test(APIWorld(client: client, store: store, clock: clock, peppers: peppers, lastUse: lastUse))
    }
}

/// `application/x-www-form-urlencoded` encoding of one name or value.
func formEncoded(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._*")
    return (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text).replacingOccurrences(
        of: "%20", with: "+")
}
