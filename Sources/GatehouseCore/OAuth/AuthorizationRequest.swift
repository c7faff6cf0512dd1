import Foundation

/// A checked authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1): the client and the
/// redirect URI are verified, so from here on errors may be sent back to the client.
package struct AuthorizationRequest: Equatable, Sendable {
    package var client: ClientApplication
    /// Where the response goes: the redirect URI as sent (or the only registered one).
    package var redirectURI: String
    /// Whether the request named it; if so, the token request must name it too (RFC 6749 §4.1.3).
    package var redirectURIWasSent: Bool
    package var state: String?
    /// Nil when the request named none: the client's scopes are asked for.
    package var requestedScopes: Set<Scope>?
    package var challenge: CodeChallenge?
    package var nonce: String?
    /// OIDC `prompt` values: `none`, `login`, `consent`, `select_account`.
    package var prompts: Set<String>
    /// OIDC `max_age`: the oldest sign-in, in seconds, the client accepts.
    package var maxAge: Int?
    /// The API the tokens are for (RFC 8707 `resource`); nil for Gatehouse's own.
    package var resource: ResourceServer? = nil
    /// The parameters as received, so the sign-in and consent pages can carry the request through.
    package var parameters: [String: String]

    /// The parameters to come back with after signing in: the same request, except that `prompt=login` and
    /// `max_age` have been satisfied by the sign-in itself. Kept, `max_age=0` would send the browser back to sign
    /// in for ever, since any sign-in is older than zero seconds by the time the request returns (OIDC Core
    /// §3.1.2.1 treats it as `prompt=login`). The ID token still carries `auth_time`.
    package var parametersAfterSignIn: [String: String] {
        var parameters = parameters
        let remaining = prompts.subtracting(["login", "select_account"])
        parameters["prompt"] = remaining.isEmpty ? nil : remaining.sorted().joined(separator: " ")
        parameters["max_age"] = nil
        // Whoever signed in has now answered who the request is for.
        parameters["id_token_hint"] = nil
        return parameters
    }
}

/// Why an authorization request stops.
package enum AuthorizationRefusal: Error, Equatable, Sendable {
    /// The client or the redirect URI cannot be trusted, so the user is shown the error and never redirected
    /// (RFC 6749 §4.1.2.1).
    case unsafe(String)
    /// The error goes back to the client at its verified redirect URI.
    case redirect(AuthorizationRedirect)
}

/// Where the browser is sent at the end of an authorization request, with every parameter in the query.
package struct AuthorizationRedirect: Equatable, Sendable {
    package let location: String

    /// `base` with `parameters` appended to its query; names and values are percent-encoded so that nothing
    /// in a `state` can change the URL's meaning.
    package init(_ base: String, _ parameters: [(String, String?)]) {
        let pairs = parameters.compactMap { name, value in value.map { "\(Self.encoded(name))=\(Self.encoded($0))" } }
        guard !pairs.isEmpty else {
            location = base
            return
        }
        let separator = base.contains("?") ? (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&") : "?"
        location = base + separator + pairs.joined(separator: "&")
    }

    /// An error response (RFC 6749 §4.1.2.1) with `iss` (RFC 9207).
    package init(error: OAuthFailure, for request: AuthorizationRequest, issuer: String) {
        self.init(
            request.redirectURI,
            [
                ("error", error.code.rawValue), ("error_description", error.description), ("state", request.state),
                ("iss", issuer),
            ])
    }

    private static let unreserved: CharacterSet = {
        var set = CharacterSet.alphanumerics.intersection(
            CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        set.insert(charactersIn: "-._~")
        return set
    }()

    private static func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}

extension AuthorizationRequest {
    static let supportedPrompts: Set<String> = ["none", "login", "consent", "select_account"]
    /// Long enough for any sane `state` or `nonce`, short enough that the URL stays usable.
    static let maximumValueLength = 1024

    /// Checks the parameters of `/oauth/authorize`. The client and redirect URI come first: until both are
    /// verified, every error is `unsafe`; after, errors are redirected with the request's `state`.
    /// The client comes through `cache` when there is one.
    static func check(
        _ parameters: [String: String], clients: any ClientStore & ResourceServerStore, settings: OAuthSettings,
        cache: EpochCache? = nil
    ) async throws -> AuthorizationRequest {
        let issuer = settings.issuer
        guard let rawID = parameters["client_id"] else {
            throw AuthorizationRefusal.unsafe("The request has no client_id, so it cannot be answered.")
        }
        guard let id = try? ClientID(rawID),
            let client = try await EpochCache.client(id, through: cache, from: clients),
            !client.isDisabled
        else {
            throw AuthorizationRefusal.unsafe("There is no enabled client application with this client_id.")
        }
        let redirectURI: String
        if let sent = parameters["redirect_uri"] {
            guard client.redirectURI(matching: sent) != nil else {
                throw AuthorizationRefusal.unsafe("This redirect_uri is not registered for \(client.name).")
            }
            redirectURI = sent
        } else {
            // OpenID Connect makes redirect_uri required (Core §3.1.2.1); plain OAuth may leave out the one
            // registered URI (RFC 6749 §3.1.2.3).
            guard !(parameters["scope"] ?? "").split(separator: " ").contains("openid") else {
                throw AuthorizationRefusal.unsafe(
                    "An OpenID Connect request (scope openid) must send its redirect_uri.")
            }
            guard client.redirectURIs.count == 1, let only = client.redirectURIs.first else {
                throw AuthorizationRefusal.unsafe(
                    "The request has no redirect_uri, and \(client.name) has not exactly one registered.")
            }
            redirectURI = only.value
        }
        var request = AuthorizationRequest(
            client: client, redirectURI: redirectURI, redirectURIWasSent: parameters["redirect_uri"] != nil,
            state: parameters["state"], requestedScopes: nil, challenge: nil, nonce: parameters["nonce"], prompts: [],
            maxAge: nil, parameters: parameters)
        var failure = request.checkRest()
        if failure == nil {
            do {
                request.resource = try await ResourceIndicator.resolve(
                    parameters["resource"], in: client.workspaceID, settings: settings, store: clients)
            } catch let refused as OAuthFailure {
                failure = refused
            }
        }
        if let failure {
            var echoed = request
            if (echoed.state?.count ?? 0) > maximumValueLength { echoed.state = nil }
            throw AuthorizationRefusal.redirect(AuthorizationRedirect(error: failure, for: echoed, issuer: issuer))
        }
        return request
    }

    /// Everything after the client and redirect URI, in RFC 6749's order; returns the first failure.
    private mutating func checkRest() -> OAuthFailure? {
        do {
            try parseRest()
            return nil
        } catch {
            return error
        }
    }

    private mutating func parseRest() throws(OAuthFailure) {
        if parameters["request"] != nil {
            throw OAuthFailure(.requestNotSupported, "Request objects are not supported; send plain parameters.")
        }
        if parameters["request_uri"] != nil {
            throw OAuthFailure(.requestURINotSupported, "request_uri is not supported; send plain parameters.")
        }
        guard let responseType = parameters["response_type"] else {
            throw .invalidRequest("The response_type parameter is required; use code.")
        }
        guard responseType == "code" else {
            throw OAuthFailure(.unsupportedResponseType, "Only response_type=code is supported.")
        }
        if let mode = parameters["response_mode"], mode != "query" {
            throw .invalidRequest("Only response_mode=query is supported.")
        }
        guard client.grantTypes.contains(.authorizationCode) else {
            throw OAuthFailure(.unauthorizedClient, "This client is not registered for the authorization_code grant.")
        }
        for name in ["state", "nonce"] where (parameters[name]?.count ?? 0) > Self.maximumValueLength {
            throw .invalidRequest("The \(name) parameter is longer than \(Self.maximumValueLength) characters.")
        }
        requestedScopes = try GrantableScopes.parse(parameters["scope"])
        if let value = parameters["code_challenge"] {
            challenge = try CodeChallenge(value, method: parameters["code_challenge_method"])
        } else if parameters["code_challenge_method"] != nil {
            throw .invalidRequest("code_challenge_method was sent without a code_challenge.")
        } else if client.type == .public || client.requirePKCE {
            throw .invalidRequest("PKCE is required: send code_challenge with code_challenge_method=S256.")
        }
        prompts = Set((parameters["prompt"] ?? "").split(separator: " ").map(String.init))
        if let unknown = prompts.subtracting(Self.supportedPrompts).sorted().first {
            throw .invalidRequest("The prompt value '\(unknown.prefix(32))' is not supported.")
        }
        if prompts.contains("none"), prompts.count > 1 {
            throw .invalidRequest("prompt=none cannot be combined with other prompt values.")
        }
        if let raw = parameters["max_age"] {
            guard let seconds = Int(raw), seconds >= 0 else {
                throw .invalidRequest("max_age must be a whole number of seconds.")
            }
            maxAge = seconds
        }
    }
}
