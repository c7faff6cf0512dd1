import GatehouseCore
import HTTPTypes
import Hummingbird
import Synchronization

/// The methods each route path answers, learnt from the router once every route is added.
final class AllowedMethods: Sendable {
    private let routes = Mutex<[(path: RouterPath, methods: Set<HTTPRequest.Method>)]>([])

    /// Records every route of `router`; called once, when the router is complete.
    func learn(_ router: Router<AppRequestContext>) {
        var byPath: [String: (path: RouterPath, methods: Set<HTTPRequest.Method>)] = [:]
        for route in router.routes {
            byPath[route.path.description, default: (route.path, [])].methods.insert(route.method)
        }
        routes.withLock { $0 = Array(byPath.values) }
    }

    /// The methods some route answers at `path`, in name order; empty when no route has the path.
    func methods(at path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let methods = routes.withLock { routes in
            routes.filter { Self.matches($0.path, segments) }.reduce(into: Set<HTTPRequest.Method>()) {
                $0.formUnion($1.methods)
            }
        }
        return methods.sorted { $0.rawValue < $1.rawValue }
    }

    private static func matches(_ path: RouterPath, _ segments: [Substring]) -> Bool {
        var index = segments.startIndex
        for element in path {
            if element.description == "**" { return true }
            guard index != segments.endIndex, element ~= segments[index] else { return false }
            index += 1
        }
        return index == segments.endIndex
    }
}

/// A known path asked with a method it does not answer gets 405 with `Allow` (RFC 9110 §15.5.6), not the
/// router's 404.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let allowed: AllowedMethods

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let methods = allowed.methods(at: request.uri.path)
            guard !methods.isEmpty, !methods.contains(request.method) else { throw error }
            let names = methods.map(\.rawValue)
            throw APIError(
                .methodNotAllowed, code: "method_not_allowed",
                message: "This address answers \(names.joined(separator: ", ")), not \(request.method.rawValue).",
                headers: [.allow: names.joined(separator: ", ")])
        }
    }
}
