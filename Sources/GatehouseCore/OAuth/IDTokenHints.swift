import Foundation

/// An `id_token_hint` that is no ID token this server issued: malformed, another type or algorithm, a bad
/// signature, a retired key, or another issuer.
package struct InvalidIDTokenHint: Error, Equatable, Sendable {
    package let reason: String
}

/// Reads `id_token_hint`s (OIDC Core §3.1.2.1, RP-Initiated Logout §2): ID tokens this server issued, sent back
/// by an app to say which user it means. Expiry is not checked: the hint identifies, it grants nothing, and the
/// ID token an app holds has usually expired.
package struct IDTokenHints: Sendable {
    let keys: SigningKeyRing
    let issuer: String

    package init(keys: SigningKeyRing, issuer: String) {
        self.keys = keys
        self.issuer = issuer
    }

    package func claims(of hint: String) async throws -> IDTokenClaims {
        let claims: IDTokenClaims
        do {
            claims = try await keys.verify(hint, as: IDTokenClaims.self, type: "jwt", algorithms: [.rs256, .es256])
        } catch is TokenRejected {
            throw InvalidIDTokenHint(
                reason: "The id_token_hint is not an ID token Gatehouse issued, or its key has been retired.")
        }
        guard claims.iss == issuer else {
            throw InvalidIDTokenHint(reason: "The id_token_hint was issued by another server.")
        }
        return claims
    }
}
