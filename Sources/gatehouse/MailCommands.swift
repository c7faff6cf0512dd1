import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseServer

/// Where mail goes: the SMTP server, the sender, and a CA to trust besides the system's.
struct MailOptions: ParsableArguments {
    @Option(
        name: .customLong("smtp-url"),
        help: ArgumentHelp(
            "The mail server: smtp://user:password@host:587 (STARTTLS), smtps://…:465 (TLS), or "
                + "smtp://host:25?tls=none for a relay on this machine (env GATEHOUSE_SMTP_URL, which keeps the "
                + "password out of the process list; default: no mail).", valueName: "url"))
    var smtpURL: String?

    @Option(
        help: ArgumentHelp(
            "The From of Gatehouse's mail, e.g. 'Gatehouse <noreply@example.com>' (env GATEHOUSE_MAIL_FROM).",
            valueName: "address"))
    var mailFrom: String?

    @Option(
        name: .customLong("smtp-ca-file"),
        help: ArgumentHelp(
            "A PEM file of certificates to trust for the mail server besides the system's (env "
                + "GATEHOUSE_SMTP_CA_FILE).", valueName: "path"))
    var smtpCAFile: String?

    /// The settings, or nil when no mail server is configured.
    func settings() throws -> SMTPSettings? {
        guard let url = smtpURL ?? Environment.value("GATEHOUSE_SMTP_URL") else { return nil }
        guard let from = mailFrom ?? Environment.value("GATEHOUSE_MAIL_FROM") else {
            throw ValidationError("--smtp-url needs --mail-from (or GATEHOUSE_MAIL_FROM) too.")
        }
        do {
            return try SMTPSettings(
                url: url, from: from, caFile: smtpCAFile ?? Environment.value("GATEHOUSE_SMTP_CA_FILE"))
        } catch let error as SMTPSettingsError {
            throw ValidationError(error.description)
        }
    }
}

struct MailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail", abstract: "Check the mail settings.", subcommands: [Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a test message through the configured mail server, and say how it went.")
        @Option(help: "Who gets the test message.") var to: String
        @OptionGroup var mail: MailOptions

        func run() async throws {
            try await reportingFailures {
                guard let settings = try mail.settings() else {
                    throw ValidationError(
                        "Give --smtp-url and --mail-from (or GATEHOUSE_SMTP_URL and GATEHOUSE_MAIL_FROM).")
                }
                let to = try EmailAddress(to)
                let message = MailMessage(
                    to: to.value, subject: "Gatehouse test message",
                    text: "This is a test message from Gatehouse: its mail settings work.\n",
                    html: "<p>This is a test message from Gatehouse: its mail settings work.</p>\n")
                do {
                    try await SMTPClient(settings: settings).send(message)
                } catch let error as SMTPError {
                    throw ValidationError("\(settings) did not take the message: \(error)")
                }
                print("Sent a test message to \(to) through \(settings).")
            }
        }
    }
}
