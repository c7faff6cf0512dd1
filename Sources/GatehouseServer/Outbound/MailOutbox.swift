import Foundation
import GatehouseCore
import Logging
import ServiceLifecycle

/// A message to send, and what it is about, for the audit trail when it cannot be delivered.
package struct OutgoingMail: Sendable {
    package let message: MailMessage
    /// `invitation`, `password_reset`: what the audit trail calls it.
    package let kind: String
    package let user: User
}

/// Takes messages for sending without waiting for the mail server: what the pages and the API hand mail to.
package protocol MailSending: Sendable {
    func send(_ mail: OutgoingMail)
}

/// Sends mail in the background through SMTP: a request hands its message over and returns at once.
///
/// A message the server does not take is tried again after each of `retryDelays` while the failure is transient
/// (no connection, a timeout, a 4xx reply); when it is given up, the failure is logged and recorded in the audit
/// trail (`mail.failed`, never with the message's link), so an admin can see it and make a new link. At most
/// `queueLimit` messages wait; beyond that a message is refused the same way, at once.
final class MailOutbox: MailSending, Service, Sendable {
    static let queueLimit = 10_000

    private let client: SMTPClient
    private let retryDelays: [Duration]
    private let trail: any AuditStore
    private let clock: any WallClock
    private let logger: Logger
    private let queue: AsyncStream<OutgoingMail>
    private let continuation: AsyncStream<OutgoingMail>.Continuation

    init(client: SMTPClient, retryDelays: [Duration], trail: any AuditStore, clock: any WallClock, logger: Logger) {
        self.client = client
        self.retryDelays = retryDelays
        self.trail = trail
        self.clock = clock
        self.logger = logger
        (queue, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(Self.queueLimit))
    }

    func send(_ mail: OutgoingMail) {
        if case .dropped = continuation.yield(mail) {
            Task { await self.giveUp(mail, because: "too many messages are waiting to be sent") }
        }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for await mail in self.queue {
                    group.addTask { await self.deliver(mail) }
                }
            }
        }
        continuation.finish()
    }

    private func deliver(_ mail: OutgoingMail) async {
        var metadata: Logger.Metadata = ["mail.kind": "\(mail.kind)", "user_id": "\(mail.user.id)"]
        var reason = ""
        for attempt in 0...retryDelays.count {
            if attempt > 0 {
                do { try await Task.sleep(for: retryDelays[attempt - 1]) } catch { break }
            }
            metadata["attempt"] = "\(attempt + 1)"
            do {
                try await client.send(mail.message)
                logger.info("mail sent", metadata: metadata)
                return
            } catch let error as SMTPError {
                reason = error.description
                logger.warning("mail not sent", metadata: metadata.merging(["error": "\(reason)"]) { $1 })
                if !error.isTransient { break }
            } catch {
                reason = "could not reach the mail server (\(String(reflecting: type(of: error))))"
                logger.warning("mail not sent", metadata: metadata.merging(["error": "\(reason)"]) { $1 })
            }
        }
        await giveUp(mail, because: reason)
    }

    private func giveUp(_ mail: OutgoingMail, because reason: String) async {
        logger.error(
            "mail given up",
            metadata: ["mail.kind": "\(mail.kind)", "user_id": "\(mail.user.id)", "error": "\(reason)"])
        let event = AuditEvent.about(
            mail.user, "mail.failed", by: AuditActor(user: nil, credential: "mail"), address: nil,
            details: ["kind": mail.kind, "error": String(reason.prefix(300))], at: clock.now())
        do {
            try await trail.append(event)
        } catch {
            logger.error("mail failure not recorded in the audit trail", metadata: ["user_id": "\(mail.user.id)"])
        }
    }
}
