import HTTPTypes
import Hummingbird

/// The per-request state every Gatehouse handler sees.
///
/// Later the authenticated principal (API key or access token) is carried here, so handlers ask the
/// context and never read credentials from headers themselves.
package struct AppRequestContext: RequestContext {
    /// Request bodies larger than this are refused with 413.
    package static let maximumBodySize = 1 << 20

    package var coreContext: CoreRequestContextStorage

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    package var maxUploadSize: Int { Self.maximumBodySize }
}
