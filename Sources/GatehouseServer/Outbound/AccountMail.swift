import Foundation
import GatehouseCore

/// The messages of a person's account life (an invitation, a password reset link), written from the
/// `mail-*.mustache` templates and handed to the outbox; and the links they carry.
package struct AccountMail: Sendable {
    let pages: PageRenderer
    let issuer: URL
    /// Nil when no mail server is configured: links are then only shown to admins.
    let outbox: (any MailSending)?

    var isConfigured: Bool { outbox != nil }

    /// Where a password link's token is used: `/password?token=…` (the query, which request logs leave out).
    func url(of issued: IssuedPasswordLink) -> String { Self.url(of: issued, issuer: issuer) }

    package static func url(of issued: IssuedPasswordLink, issuer: URL) -> String {
        issuer.absoluteString + WebInput.url("/password", ["token": issued.token.value])
    }

    /// Sends the link to its user; false when no mail server is configured.
    @discardableResult
    func send(_ issued: IssuedPasswordLink, inviter: String? = nil, workspace: String? = nil) throws -> Bool {
        guard let outbox else { return false }
        let user = issued.user
        let values = MailValues(
            name: user.name, email: user.email.value, url: url(of: issued),
            expires: PageFormat.date(issued.link.expiresAt),
            site: issuer.host() ?? issuer.absoluteString, inviter: inviter ?? "An administrator",
            workspace: workspace ?? "your workspace")
        let (template, subject, kind) =
            switch issued.link.purpose {
            case .invitation: ("mail-invitation", "You are invited to \(values.workspace) on Gatehouse", "invitation")
            case .reset: ("mail-password-reset", "Choose a new Gatehouse password", "password_reset")
            }
        let message = MailMessage(
            to: user.email.value, subject: subject, text: try pages.text(template + "-text", values),
            html: try pages.text(template + "-html", values))
        outbox.send(OutgoingMail(message: message, kind: kind, user: user))
        return true
    }
}

extension AccountMail {
    /// Tells `user` of a sign-in to their account from a browser they had not used before, with where from;
    /// nothing when no mail server is configured.
    func sendSignInNotice(to user: User, from session: WebSession) throws {
        guard let outbox else { return }
        let values = SignInNoticeValues(
            name: user.name, email: user.email.value, browser: session.userAgent ?? "an unknown browser",
            address: session.address ?? "an unknown address", time: PageFormat.date(session.authTime),
            account: issuer.absoluteString + "/account", site: issuer.host() ?? issuer.absoluteString)
        let message = MailMessage(
            to: user.email.value, subject: "New sign-in to your Gatehouse account",
            text: try pages.text("mail-new-sign-in-text", values), html: try pages.text("mail-new-sign-in-html", values)
        )
        outbox.send(OutgoingMail(message: message, kind: "new_sign_in", user: user))
    }
}

/// What the new-sign-in notice shows.
struct SignInNoticeValues: Encodable {
    let name: String
    let email: String
    let browser: String
    let address: String
    let time: String
    let account: String
    let site: String
}

/// What the mail templates show.
struct MailValues: Encodable {
    let name: String
    let email: String
    let url: String
    let expires: String
    let site: String
    let inviter: String
    let workspace: String
}
