import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// Renders the HTML pages from `Templates/*.mustache`.
///
/// Every template the application uses is checked when the server starts, so a missing or broken
/// template stops the start with a clear message instead of failing a request later.
package struct PageRenderer: Sendable {
    /// The templates the application renders; each must exist and compile.
    package static let requiredTemplates = [
        "layout", "home", "login", "privacy-notice", "consent", "account", "error",
    ]

    let library: MustacheLibrary

    /// Loads and checks every template in `directory`.
    package init(directory: String) async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TemplateProblem(
                "the templates folder \(directory) does not exist (run from the project folder or pass --templates)")
        }
        do {
            library = try await MustacheLibrary(directory: directory)
        } catch let error as MustacheLibrary.ParserError {
            throw TemplateProblem("the template \(error.filename) does not compile: \(error.error)")
        }
        for name in Self.requiredTemplates where library.getTemplate(named: name) == nil {
            throw TemplateProblem("the template \(name).mustache is missing from \(directory)")
        }
    }

    /// The page `template` rendered with `values`, as an HTML response.
    package func page(_ template: String, _ values: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        guard let html = library.render(values, withTemplate: template) else {
            throw TemplateProblem("the template \(template).mustache is not loaded")
        }
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

/// A template is missing or broken; reported once at start-up.
package struct TemplateProblem: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
