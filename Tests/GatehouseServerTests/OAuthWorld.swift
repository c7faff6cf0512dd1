import Crypto
import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseTestSupport
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// An OAuth test's world: the running application (with its manual clock), a workspace with a user who can
/// sign in, a public and a confidential client, and a browser that keeps cookies between requests.
struct OAuthWorld: Sendable {
    let api: APIWorld
    let workspace: Workspace
    let owner: User
    let ann: User
    /// The confidential client's secret.
    let secret: String

    static let password = "ann-has-a-long-password"
    static let redirect = "https://app.example.com/callback"
    static let issuer = "http://127.0.0.1:0"

    /// Runs `test` with `ann@acme.test` (a plain user, privacy notice accepted, password set), the public
    /// client `acme-spa` and the confidential client `acme-web` (secret in `secret`, every grant type, a resource
    /// server).
    static func run(
        framework: TestingSetup = .router, trustedProxies: [String] = [], keys: APIKeySettings? = nil,
        passwords: any PasswordHasher = Fixture.fastPasswords, mailbox: Mailbox? = nil,
        metadataDocuments: (any MetadataDocumentFetching)? = nil,
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ test: @escaping @Sendable (OAuthWorld) async throws -> Void
    ) async throws {
        try await withAPI(
            framework: framework, trustedProxies: trustedProxies, keys: keys, passwords: passwords, mailbox: mailbox,
            metadataDocuments: metadataDocuments, configure: configure
        ) { api in
            let (workspace, owner) = try await api.workspace()
            var ann = try Fixture.user("ann@acme.test", in: workspace)
            ann.privacyNoticeAcceptedAt = Fixture.epoch
            ann.passwordHash = await Fixture.fastPasswords.hash(try Password(password))
            try await api.store.insert(ann)
            let (spa, _) = try Fixture.client(
                "acme-spa", in: workspace, type: .public, redirectURIs: [redirect, "http://127.0.0.1/cb"],
                scopes: BuiltInScopes.personal.union([.usersRead]))
            var (web, secret) = try Fixture.client(
                "acme-web", in: workspace, redirectURIs: [redirect],
                scopes: BuiltInScopes.personal.union([.clientsRead, .usersRead]))
            web.name = "Acme Web"
            // The resource server of the tests: it introspects every credential of the workspace.
            web.isResourceServer = true
            for client in [spa, web] {
                try await api.store.apply(
                    .insertClient(client),
                    recording: AuditEvent(
                        workspaceID: workspace.id, actor: .commandLine, action: "client.created", targetKind: "client",
                        targetID: client.id.value, address: nil, occurredAt: Fixture.epoch))
            }
            try await test(
                OAuthWorld(api: api, workspace: workspace, owner: owner, ann: ann, secret: try #require(secret?.value)))
        }
    }

    /// A fresh browser with no cookies.
    func browser() -> Browser { Browser(client: api.client) }

    /// A browser signed in as `email`.
    func signedIn(_ email: String = "ann@acme.test", password: String = OAuthWorld.password) async throws -> Browser {
        let browser = browser()
        let answer = try await browser.signIn(email, password: password)
        #expect(answer.status == .seeOther)
        return browser
    }

    /// The query of an authorization request for `client`, with PKCE S256 for `verifier` unless nil.
    static func authorizeQuery(
        client: String = "acme-spa", scope: String? = "openid profile", state: String = "xyz",
        verifier: String? = OAuthWorld.verifier, extra: [(String, String)] = []
    ) -> [(String, String)] {
        var query = [("response_type", "code"), ("client_id", client), ("redirect_uri", redirect), ("state", state)]
        if let scope { query.append(("scope", scope)) }
        if let verifier {
            query.append(("code_challenge", challenge(of: verifier)))
            query.append(("code_challenge_method", "S256"))
        }
        return query + extra
    }

    static let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

    static func challenge(of verifier: String) -> String {
        Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncodedString()
    }

    /// Signs ann in, authorizes with `query` (allowing the consent page if it shows) and returns the code.
    func code(_ query: [(String, String)] = OAuthWorld.authorizeQuery(), browser given: Browser? = nil) async throws
        -> String
    {
        let browser: Browser
        if let given { browser = given } else { browser = try await signedIn() }
        var answer = try await browser.get("/oauth/authorize", query)
        if answer.status == .ok { answer = try await browser.decide("allow", on: answer) }
        let location = try #require(answer.headers[.location])
        return try #require(queryItems(location)["code"], "no code in \(location)")
    }

    /// Exchanges a code of `acme-spa` for tokens.
    func exchange(
        _ code: String, client: String = "acme-spa", verifier: String? = OAuthWorld.verifier,
        redirectURI: String? = OAuthWorld.redirect
    ) async throws -> APIResponse {
        var form = [("grant_type", "authorization_code"), ("code", code), ("client_id", client)]
        if let redirectURI { form.append(("redirect_uri", redirectURI)) }
        if let verifier { form.append(("code_verifier", verifier)) }
        if client == "acme-web" {
            return try await api.form("/oauth/token", form.filter { $0.0 != "client_id" }, basic: (client, secret))
        }
        return try await api.form("/oauth/token", form)
    }

    /// A browser signed in as ann, and the ID token `acme-spa` got for her in it: what an app holds before it
    /// signs her out, or sends back as `id_token_hint`.
    func signedInWithIDToken() async throws -> (Browser, String) {
        let browser = try await signedIn()
        let idToken = try #require(try await exchange(try await code(browser: browser)).string("id_token"))
        return (browser, idToken)
    }

    /// Tokens for ann through `acme-spa`, with `scope`.
    func tokens(scope: String = "openid profile") async throws -> APIResponse {
        let answer = try await exchange(try await code(OAuthWorld.authorizeQuery(scope: scope)))
        #expect(answer.status == .ok)
        return answer
    }

    func refresh(_ token: String, client: String = "acme-spa", scope: String? = nil) async throws -> APIResponse {
        var form = [("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", client)]
        if let scope { form.append(("scope", scope)) }
        return try await api.form("/oauth/token", form)
    }

    /// Whether `/oauth/introspect`, asked by `acme-web`, says `token` is active.
    func isActive(_ token: String) async throws -> Bool {
        try await api.isActive(token, asClient: "acme-web", secret: secret)
    }
}

/// A browser talking to the in-process application: keeps cookies, sends forms, never follows redirects.
final class Browser: @unchecked Sendable {
    let client: any TestClientProtocol
    private(set) var cookies: [String: String] = [:]
    /// Sent with every request, as a proxy in front of Gatehouse would add them.
    var extraHeaders: HTTPFields = [:]

    init(client: any TestClientProtocol) { self.client = client }

    func get(_ path: String, _ query: [(String, String)] = []) async throws -> APIResponse {
        let uri =
            query.isEmpty
            ? path
            : path + "?"
                + query.map { "\(formEncoded($0.0))=\(formEncoded($0.1))" }
                .joined(separator: "&")
        return try await send(.get, uri, body: nil)
    }

    func post(_ path: String, _ form: [(String, String)]) async throws -> APIResponse {
        let body = form.map { "\(formEncoded($0.0))=\(formEncoded($0.1))" }.joined(separator: "&")
        return try await send(.post, path, body: body)
    }

    /// Opens the sign-in page and submits it.
    func signIn(_ email: String, password: String, returnTo: String? = nil) async throws -> APIResponse {
        let page = try await get("/login", returnTo.map { [("return_to", $0)] } ?? [])
        var form = [("csrf_token", try Self.field("csrf_token", in: page)), ("email", email), ("password", password)]
        if let returnTo { form.append(("return_to", returnTo)) }
        return try await post("/login", form)
    }

    /// Submits the consent page `page` with `decision` (`allow` or `deny`).
    func decide(_ decision: String, on page: APIResponse) async throws -> APIResponse {
        try await post("/oauth/authorize/decision", try Self.hiddenFields(of: page) + [("decision", decision)])
    }

    /// The hidden fields of the first form on `page`.
    static func hiddenFields(of page: APIResponse) throws -> [(String, String)] {
        let pattern = try NSRegularExpression(pattern: #"<input type="hidden" name="([^"]+)" value="([^"]*)">"#)
        let text = page.text
        let form = text.range(of: "</form>").map { String(text[..<$0.lowerBound]) } ?? text
        return pattern.matches(in: form, range: NSRange(form.startIndex..., in: form)).compactMap { match in
            guard let name = Range(match.range(at: 1), in: form), let value = Range(match.range(at: 2), in: form)
            else { return nil }
            return (unescaped(String(form[name])), unescaped(String(form[value])))
        }
    }

    static func field(_ name: String, in page: APIResponse) throws -> String {
        try #require(try hiddenFields(of: page).first { $0.0 == name }?.1, "no \(name) on the page")
    }

    private static func unescaped(_ html: String) -> String {
        html.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&#x2F;", with: "/").replacingOccurrences(of: "&#x3D;", with: "=")
            .replacingOccurrences(of: "&#x60;", with: "`").replacingOccurrences(of: "&amp;", with: "&")
    }

    private func send(_ method: HTTPRequest.Method, _ uri: String, body: String?) async throws -> APIResponse {
        var headers = extraHeaders
        if !cookies.isEmpty {
            headers[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                separator: "; ")
        }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let answer = try await client.execute(
            uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }
        ) { response in
            APIResponse(status: response.status, headers: response.headers, body: Data(response.body.readableBytesView))
        }
        for header in answer.headers[values: .setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            let name = String(pair[0])
            let value = pair.count == 2 ? String(pair[1]) : ""
            if value.isEmpty || header.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        return answer
    }

    func setCookie(_ name: String, _ value: String?) { cookies[name] = value }
}

/// The query parameters of a URL or path.
func queryItems(_ location: String) -> [String: String] {
    var items: [String: String] = [:]
    for item in URLComponents(string: location)?.queryItems ?? [] { items[item.name] = item.value }
    return items
}

extension APIResponse {
    /// The location's query parameters.
    var redirectParameters: [String: String] { queryItems(headers[.location] ?? "") }
}
