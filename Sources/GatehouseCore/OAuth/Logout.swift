import Foundation

/// An RP-Initiated Logout request (OpenID Connect RP-Initiated Logout 1.0 §2), checked: who the app says is
/// signing out, and where the browser may go afterwards.
package struct LogoutRequest: Equatable, Sendable {
    /// The app that sent the browser, named by `client_id` or by the audience of `id_token_hint`.
    package let client: ClientApplication?
    /// The user the `id_token_hint` names (its `sub`), when one was sent.
    package let hintedUser: String?
    /// The registered `post_logout_redirect_uri` to send the browser to afterwards, with `state` added; nil
    /// when the request named none. Only ever a URI the client registered, matched exactly.
    package let redirect: AuthorizationRedirect?
    /// The request's parameters, to carry through the confirmation form.
    package let parameters: [String: String]

    /// Whether the browser may be signed out without asking: only when the app proved, with an ID token it was
    /// issued, that it speaks for the user who is signed in. Without a hint, or with one for someone else, the
    /// user is asked, so a link alone cannot sign anyone out (§2, §6).
    package func mayEndSessionWithoutAsking(_ signedIn: SignedInUser?) -> Bool {
        guard let signedIn else { return true }
        return hintedUser == "\(signedIn.user.id)"
    }
}

/// A logout request that cannot be honoured: shown to the user, never redirected (§3: no post-logout
/// redirection after an error).
package struct LogoutRefusal: Error, Equatable, Sendable {
    package let message: String

    package init(_ message: String) { self.message = message }
}

/// Checks RP-Initiated Logout requests. Ending the session itself is `SignIn.signOut`.
package struct Logout: Sendable {
    let clients: any ClientStore
    let hints: IDTokenHints

    package init(clients: any ClientStore, hints: IDTokenHints) {
        self.clients = clients
        self.hints = hints
    }

    /// Checks `id_token_hint`, `client_id`, `post_logout_redirect_uri` and `state`; other parameters
    /// (`logout_hint`, `ui_locales`) are accepted and not used. Throws `LogoutRefusal`.
    package func check(_ parameters: [String: String]) async throws -> LogoutRequest {
        var audience: String?
        var hintedUser: String?
        if let hint = parameters["id_token_hint"], !hint.isEmpty {
            let claims: IDTokenClaims
            do {
                claims = try await hints.claims(of: hint)
            } catch let invalid as InvalidIDTokenHint {
                throw LogoutRefusal(invalid.reason)
            }
            audience = claims.aud
            hintedUser = claims.sub
        }
        let named = parameters["client_id"].flatMap { $0.isEmpty ? nil : $0 }
        if let named, let audience, named != audience {
            throw LogoutRefusal("The client_id is not the client the id_token_hint was issued to.")
        }
        var client: ClientApplication?
        if let id = named ?? audience {
            guard let clientID = try? ClientID(id), let found = try await clients.client(id: clientID) else {
                throw LogoutRefusal("There is no client application '\(id.prefix(64))'.")
            }
            client = found
        }
        var redirect: AuthorizationRedirect?
        if let requested = parameters["post_logout_redirect_uri"], !requested.isEmpty {
            guard let client else {
                throw LogoutRefusal(
                    "A post_logout_redirect_uri needs the client it belongs to: send id_token_hint or client_id.")
            }
            guard !client.isDisabled else {
                throw LogoutRefusal("The client application '\(client.id)' is disabled.")
            }
            guard let registered = client.postLogoutRedirectURI(matching: requested) else {
                throw LogoutRefusal(
                    "The post_logout_redirect_uri is not one that '\(client.id)' registered, so Gatehouse will not "
                        + "send you there.")
            }
            redirect = AuthorizationRedirect(registered.value, [("state", parameters["state"])])
        }
        return LogoutRequest(client: client, hintedUser: hintedUser, redirect: redirect, parameters: parameters)
    }
}
