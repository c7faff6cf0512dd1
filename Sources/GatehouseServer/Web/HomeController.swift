import Foundation
import HTTPTypes
import Hummingbird

/// The landing page: what this server is and where its health endpoints are.
package struct HomeController: Sendable {
    let pages: PageRenderer
    let issuer: URL

    package init(pages: PageRenderer, issuer: URL) {
        self.pages = pages
        self.issuer = issuer
    }

    package func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/") { _, _ in
            try pages.page("home", HomePage(title: "Gatehouse", issuer: issuer.absoluteString))
        }
    }
}

/// `home.mustache`.
struct HomePage: Encodable {
    let title: String
    let issuer: String
}
