import Foundation

/// The claims of a logout token (OpenID Connect Back-Channel Logout 1.0 §2.4): like an ID token's, with the
/// logout event instead of a nonce. Gatehouse keeps no per-session id, so the token names the user (`sub`):
/// the app ends every session it has for them.
package struct LogoutTokenClaims: Encodable, Equatable, Sendable {
    package var iss: String
    package var sub: String
    package var aud: String
    package var iat: Int64
    package var exp: Int64
    package var jti: String
    package var events = Events()

    /// `{"http://schemas.openid.net/event/backchannel-logout": {}}`.
    package struct Events: Encodable, Equatable, Sendable {
        package struct Empty: Encodable, Equatable, Sendable {}
        let backchannelLogout = Empty()

        enum CodingKeys: String, CodingKey {
            case backchannelLogout = "http://schemas.openid.net/event/backchannel-logout"
        }
    }

    package init(iss: String, sub: String, aud: String, iat: Int64, exp: Int64, jti: String) {
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.iat = iat
        self.exp = exp
        self.jti = jti
    }
}

/// A logout token to POST to a client's `backchannel_logout_uri`.
package struct BackchannelLogoutNotice: Equatable, Sendable {
    package let clientID: ClientID
    package let uri: String
    /// The signed logout token: a credential of sorts, never logged.
    package let logoutToken: String
}

/// Delivers logout notices, away from the request that caused them: a user's sign-out never waits for an app.
package protocol LogoutNotifier: Sendable {
    func send(_ notices: [BackchannelLogoutNotice])
}

/// Decides which apps hear that a user signed out of Gatehouse, and signs what they are told (OpenID Connect
/// Back-Channel Logout 1.0): every app the user allowed that registered a `backchannel_logout_uri` and is not
/// disabled gets a logout token, signed as its ID tokens are.
package struct BackchannelLogout: Sendable {
    let store: any ConsentStore & ClientStore
    let keys: SigningKeyRing
    let issuer: String
    let clock: any WallClock

    /// How long a logout token may be used: long enough for a retried delivery to be accepted.
    package static let tokenLifetime: TimeInterval = 120

    package init(store: any ConsentStore & ClientStore, keys: SigningKeyRing, issuer: String, clock: any WallClock) {
        self.store = store
        self.keys = keys
        self.issuer = issuer
        self.clock = clock
    }

    /// The logout tokens to send now that `user`'s session has ended.
    package func notices(for user: UserID) async throws -> [BackchannelLogoutNotice] {
        let now = clock.now()
        var notices: [BackchannelLogoutNotice] = []
        for consent in try await store.consents(of: user) {
            guard let client = try await store.client(id: consent.clientID), !client.isDisabled,
                let uri = client.backchannelLogoutURI
            else { continue }
            let claims = LogoutTokenClaims(
                iss: issuer, sub: "\(user)", aud: client.id.value, iat: now.secondsSince1970,
                exp: now.addingTimeInterval(Self.tokenLifetime).secondsSince1970, jti: UUID().uuidString.lowercased())
            let token = try await keys.sign(claims, type: "logout+jwt", algorithm: client.idTokenSigningAlgorithm)
            notices.append(BackchannelLogoutNotice(clientID: client.id, uri: uri.value, logoutToken: token))
        }
        return notices
    }
}
