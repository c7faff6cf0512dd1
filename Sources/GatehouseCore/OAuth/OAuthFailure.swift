/// The error codes of RFC 6749 (§4.1.2.1, §5.2), RFC 6750 (§3.1), RFC 7009 and OpenID Connect Core (§3.1.2.6)
/// that Gatehouse answers with: the only codes an OAuth endpoint can send.
package enum OAuthErrorCode: String, Sendable {
    case invalidRequest = "invalid_request"
    case invalidClient = "invalid_client"
    case invalidGrant = "invalid_grant"
    case unauthorizedClient = "unauthorized_client"
    case unsupportedGrantType = "unsupported_grant_type"
    case unsupportedResponseType = "unsupported_response_type"
    case invalidScope = "invalid_scope"
    case accessDenied = "access_denied"
    case serverError = "server_error"
    case loginRequired = "login_required"
    case consentRequired = "consent_required"
    case interactionRequired = "interaction_required"
    case requestNotSupported = "request_not_supported"
    case requestURINotSupported = "request_uri_not_supported"
    /// The authorization server cannot take the request now (RFC 6749 §4.1.2.1); Gatehouse answers it with 429.
    case temporarilyUnavailable = "temporarily_unavailable"
    /// A protected resource's refusals of a Bearer token (RFC 6750 §3.1).
    case invalidToken = "invalid_token"
    case insufficientScope = "insufficient_scope"
    /// The `resource` asked for is unknown, malformed or not the one authorized (RFC 8707 §2).
    case invalidTarget = "invalid_target"
    /// Dynamic client registration's refusals (RFC 7591 §3.2.2).
    case invalidRedirectURI = "invalid_redirect_uri"
    case invalidClientMetadata = "invalid_client_metadata"
    case invalidSoftwareStatement = "invalid_software_statement"
    /// The device authorization grant's answers to a polling device (RFC 8628 §3.5).
    case authorizationPending = "authorization_pending"
    case slowDown = "slow_down"
    case expiredToken = "expired_token"
}

/// An OAuth request refused by the rules, in RFC 6749's words: a code for the client's code and a
/// description for its developer. The server decides status codes and where the error goes.
package struct OAuthFailure: Error, Equatable, Sendable {
    package var code: OAuthErrorCode
    package var description: String

    package init(_ code: OAuthErrorCode, _ description: String) {
        self.code = code
        self.description = description
    }

    package static func invalidRequest(_ description: String) -> OAuthFailure { .init(.invalidRequest, description) }
    package static func invalidGrant(_ description: String) -> OAuthFailure { .init(.invalidGrant, description) }
    package static func invalidScope(_ description: String) -> OAuthFailure { .init(.invalidScope, description) }
}
