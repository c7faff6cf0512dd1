/// Why a presented credential was refused. Deliberately coarse: a caller learns nothing about which keys
/// exist, except that the holder of a genuine key learns why its user cannot act.
package enum CredentialRefusal: Error, Equatable, Sendable {
    /// Malformed, unknown, revoked or expired: one answer for all of them.
    case invalid
    /// The credential is genuine but its user is deactivated.
    case userDeactivated
    /// The credential is genuine but its user has not accepted the privacy notice yet.
    case privacyNoticeNotAccepted
    /// The credential is genuine but the client application it belongs to is disabled.
    case clientDisabled
    /// The key is genuine but the person who made it for its owner is deactivated (or gone).
    case makerDeactivated
}

/// Turns one kind of bearer credential into a principal. The Bearer authenticator asks each verifier in
/// turn; API keys are one kind, OAuth access tokens another.
package protocol CredentialVerifier: Sendable {
    /// The principal `bearer` stands for; nil when `bearer` is not this verifier's kind of credential.
    /// Throws `CredentialRefusal` when it is this kind but is refused.
    func principal(for bearer: String) async throws -> Principal?
}
