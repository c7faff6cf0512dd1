/// Every way a domain operation can refuse, in the domain's words.
///
/// The HTTP layer and the CLI each map these to their wire format in exactly one place; the messages are
/// written for the person who sent the request and never contain a secret.
package enum DomainError: Error, Equatable, Sendable {
    /// A value the caller supplied breaks a rule; `field` names it.
    case invalidInput(field: String, message: String)
    /// The thing asked for does not exist (or is not visible to the caller).
    case notFound(String)
    /// The change collides with existing data, such as a taken email or slug.
    case conflict(String)
    /// The caller is known but not allowed to do this.
    case forbidden(String)

    /// A sentence for the person who made the request.
    package var message: String {
        switch self {
        case .invalidInput(_, let message), .notFound(let message), .conflict(let message),
            .forbidden(let message):
            return message
        }
    }
}

/// The store could not be reached or answered with something it should not have.
///
/// Carries a description for the logs; the wire only ever says that the service is unavailable.
package struct StoreUnavailable: Error, CustomStringConvertible, Sendable {
    package let description: String
    package init(_ description: String) { self.description = description }
}
