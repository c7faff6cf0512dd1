import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Mustache

/// Renders the HTML pages from `Templates/*.mustache`, and serves the stylesheet and script in
/// `Templates/assets/` and the OpenAPI document of the JSON endpoints, `Templates/openapi.json`.
///
/// Every template and asset the application uses is checked when the server starts, so a missing or broken
/// one stops the start with a clear message instead of failing a request later.
package struct PageRenderer: Sendable {
    /// The templates the application renders; each must exist and compile.
    package static let requiredTemplates = [
        "layout", "home", "login", "privacy-notice", "consent", "logout", "signed-out", "account", "error",
        "secret-once", "password-link", "password-done", "forgot-password", "login-two-factor", "account-two-factor",
        "recovery-codes",
        "mail-invitation-text", "mail-invitation-html", "mail-password-reset-text", "mail-password-reset-html",
        "mail-new-sign-in-text", "mail-new-sign-in-html",
        "admin-clients", "admin-client-new", "admin-client", "admin-client-delete", "admin-client-keys",
        "admin-api-keys", "admin-users", "admin-user-new", "admin-user", "admin-scopes", "admin-audit",
        "partial-flash", "partial-csrf", "partial-keys", "partial-scope-choices",
    ]

    /// The files of `Templates/assets/` the layout links to, with their content types.
    package static let requiredAssets = [
        "gatehouse.css": "text/css; charset=utf-8", "gatehouse.js": "text/javascript; charset=utf-8",
    ]

    /// What pages may load: their own stylesheet and script (never inline script), and a client's logo
    /// from any https address. No page may be framed.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; base-uri 'none'; "
        + "frame-ancestors 'none'"

    let library: MustacheLibrary
    let assets: [String: ByteBuffer]
    /// `openapi.json`, as it is in the folder (checked to be a JSON object at start-up).
    let openAPIDocument: ByteBuffer
    /// Changes whenever an asset does; pages link to `/assets/NAME?v=VERSION`, so browsers may cache them long.
    let assetVersion: String

    /// Loads and checks every template and asset in `directory`.
    package init(directory: String) async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TemplateProblem(
                "the templates folder \(directory) does not exist (install with scripts/install, run from the project folder, or pass --templates)"
            )
        }
        do {
            library = try await MustacheLibrary(directory: directory)
        } catch let error as MustacheLibrary.ParserError {
            throw TemplateProblem("the template \(error.filename) does not compile: \(error.error)")
        }
        for name in Self.requiredTemplates where library.getTemplate(named: name) == nil {
            throw TemplateProblem("the template \(name).mustache is missing from \(directory)")
        }
        var assets: [String: ByteBuffer] = [:]
        var contents = ""
        for name in Self.requiredAssets.keys.sorted() {
            let path = "\(directory)/assets/\(name)"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TemplateProblem("the asset \(path) is missing")
            }
            assets[name] = ByteBuffer(bytes: data)
            contents += String(decoding: data, as: UTF8.self)
        }
        self.assets = assets
        assetVersion = String(SecretDigest(of: contents).hex.prefix(12))
        let openAPIPath = "\(directory)/openapi.json"
        guard let document = FileManager.default.contents(atPath: openAPIPath) else {
            throw TemplateProblem("the OpenAPI document \(openAPIPath) is missing")
        }
        guard (try? JSONSerialization.jsonObject(with: document)) is [String: Any] else {
            throw TemplateProblem("the OpenAPI document \(openAPIPath) is not a JSON object")
        }
        openAPIDocument = ByteBuffer(bytes: document)
    }

    /// The page `template` rendered with `values`, as an HTML response that is never stored by a cache and
    /// may load nothing but Gatehouse's own stylesheet and script.
    ///
    /// `values` is a struct of the page's own: its properties, in camelCase, are the template's keys in
    /// snake_case (`canWrite` is `{{can_write}}`), as `JSONWriter` writes them; an absent optional is a missing key.
    package func page(_ template: String, _ values: some Encodable, status: HTTPResponse.Status = .ok) throws
        -> Response
    {
        var values = try JSONWriter().templateValues(values)
        values["asset_version"] = assetVersion
        guard let html = library.render(values, withTemplate: template) else {
            throw TemplateProblem("the template \(template).mustache is not loaded")
        }
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .contentSecurityPolicy: Self.contentSecurityPolicy,
            ],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page with a form for someone who need not be signed in: `values` get the request's CSRF token (with a
    /// new CSRF cookie when the browser has none yet), and the page is never stored.
    func formPage(
        _ template: String, for request: Request, cookies: WebCookies, status: HTTPResponse.Status = .ok,
        _ values: (_ csrfToken: String) -> some Encodable
    ) throws -> Response {
        let (csrf, newCookie) = cookies.csrfToken(of: request)
        var response = try page(template, values(csrf), status: status).notStored()
        if let newCookie { response.setCookie(newCookie) }
        return response
    }

    /// `template` rendered with `values` as a string: a mail's text or HTML body. A `-text` template writes its
    /// values with `{{{…}}}`, unescaped.
    func text(_ template: String, _ values: some Encodable) throws -> String {
        guard let text = library.render(try JSONWriter().templateValues(values), withTemplate: template) else {
            throw TemplateProblem("the template \(template).mustache is not loaded")
        }
        return text
    }

    /// `GET /assets/{name}`: the stylesheet and the script, cacheable for a day (their links carry the version);
    /// `GET /openapi.json`: the OpenAPI document, cacheable for five minutes like the server metadata.
    func addAssetRoutes(to router: Router<AppRequestContext>) {
        router.get("openapi.json") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "public, max-age=300"],
                body: .init(byteBuffer: openAPIDocument))
        }
        router.get("assets/{name}") { _, context in
            guard let name = context.parameters.get("name"), let body = assets[name],
                let type = Self.requiredAssets[name]
            else { throw HTTPError(.notFound) }
            return Response(
                status: .ok,
                headers: [.contentType: type, .cacheControl: "public, max-age=86400"],
                body: .init(byteBuffer: body))
        }
    }
}

/// A template is missing or broken; reported once at start-up.
package struct TemplateProblem: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}

/// Two values' keys in one template context: `first`'s, then `second`'s (a key both have takes `second`'s).
struct Merged<First: Encodable, Second: Encodable>: Encodable {
    let first: First
    let second: Second

    init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    func encode(to encoder: any Encoder) throws {
        try first.encode(to: encoder)
        try second.encode(to: encoder)
    }
}
