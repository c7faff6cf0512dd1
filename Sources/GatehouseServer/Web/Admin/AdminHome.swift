import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// `GET /admin`: the first section the signed-in person may open, so every role lands somewhere useful.
struct AdminHome {
    let pages: SignedInPages

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("admin") { request, context in
            let page = try await pages.open(request, context: context)
            let first = Section.allCases.first { $0.isOffered(to: page) } ?? .account
            return Response.redirect(to: first.path, after: .get)
        }
    }
}
