import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Where Gatehouse sends mail, from `--smtp-url smtp[s]://user:pass@host:port` and `--mail-from`.
///
/// `smtps://` speaks TLS from the first byte (port 465 by default). `smtp://` upgrades with STARTTLS and refuses
/// to go on without it (port 587 by default); `smtp://…?tls=none` sends in the clear, for a relay on the same
/// machine, and then never sends credentials except to a loopback address. Certificates are checked against the
/// system's trust store, plus `caFile` when given (a private CA, or a test's throwaway one).
package struct SMTPSettings: Sendable, CustomStringConvertible {
    package enum Security: String, Sendable {
        case startTLS = "starttls"
        case implicitTLS = "tls"
        case none
    }

    package let host: String
    package let port: Int
    package let security: Security
    package let username: String?
    package let password: String?
    /// The `From:` header as configured (`Gatehouse <noreply@example.com>` or a bare address).
    package let from: String
    /// The bare address of `from`, for the envelope.
    package let fromAddress: String
    package let caFile: String?
    /// How long connecting, and then each reply, may take.
    package let timeout: TimeAmount

    package init(url: String, from: String, caFile: String? = nil, timeout: TimeAmount = .seconds(30)) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else { throw SMTPSettingsError("--smtp-url must look like smtp://user:password@host:port") }
        let tls = components.queryItems?.first { $0.name == "tls" }?.value?.lowercased()
        switch (scheme, tls) {
        case ("smtps", nil): security = .implicitTLS
        case ("smtp", nil), ("smtp", "starttls"): security = .startTLS
        case ("smtp", "none"): security = .none
        default:
            throw SMTPSettingsError("--smtp-url takes smtp:// (STARTTLS), smtps:// (TLS) or smtp://…?tls=none")
        }
        self.host = host
        self.port = components.port ?? (security == .implicitTLS ? 465 : 587)
        username = components.user.flatMap { $0.isEmpty ? nil : $0 }
        password = components.password
        if security == .none, username != nil, !Self.isLoopback(host) {
            throw SMTPSettingsError("--smtp-url would send its password in the clear; use smtp:// or smtps://")
        }
        guard !from.contains(where: { $0 == "\r" || $0 == "\n" }), let address = Self.address(in: from) else {
            throw SMTPSettingsError("--mail-from must be an address, or a name and <address>")
        }
        self.from = from
        self.fromAddress = address
        self.caFile = caFile
        self.timeout = timeout
    }

    /// Everything but the password.
    package var description: String {
        "\(security == .implicitTLS ? "smtps" : "smtp")://\(username.map { "\($0)@" } ?? "")\(host):\(port)"
            + (security == .none ? "?tls=none" : "")
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
    }

    /// `ann@x.org` of `Ann <ann@x.org>` or of `ann@x.org`.
    static func address(in from: String) -> String? {
        var address = from.trimmingCharacters(in: .whitespaces)
        if let open = address.lastIndex(of: "<"), address.hasSuffix(">") {
            address = String(address[address.index(after: open)..<address.index(before: address.endIndex)])
        }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            !address.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" })
        else { return nil }
        return address
    }
}

package struct SMTPSettingsError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}

/// What went wrong sending a message.
package enum SMTPError: Error, CustomStringConvertible {
    /// The server answered `code` to `command`; 4xx is worth trying again, 5xx is not.
    case refused(command: String, code: Int, text: String)
    /// The server does not offer what the settings require (STARTTLS, an AUTH mechanism).
    case unsupported(String)
    /// The server said something that is not SMTP, or nothing in time, or closed the connection.
    case broken(String)

    /// True when trying again later may succeed.
    package var isTransient: Bool {
        if case .refused(_, let code, _) = self { return code < 500 }
        return true
    }

    package var description: String {
        switch self {
        case .refused(let command, let code, let text): "the server answered \(code) to \(command): \(text)"
        case .unsupported(let what): what
        case .broken(let what): what
        }
    }
}

/// One SMTP reply: its code and its text lines.
struct SMTPReply: Sendable {
    let code: Int
    let lines: [String]
}

/// Sends one message per connection (RFC 5321), over TLS (implicit, or after STARTTLS, RFC 3207) with AUTH
/// PLAIN or LOGIN (RFC 4954) when the settings carry credentials.
package struct SMTPClient: Sendable {
    let settings: SMTPSettings
    let group: any EventLoopGroup

    package init(settings: SMTPSettings, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.settings = settings
        self.group = group
    }

    /// Sends `message`; throws `SMTPError` (or a TLS or connection error, all transient) when it was not
    /// accepted.
    package func send(_ message: MailMessage) async throws {
        let tls = try makeTLSContext()
        let replies = SMTPReplies(timeout: settings.timeout)
        let host = settings.host
        let implicit = settings.security == .implicitTLS
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(settings.timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if implicit {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tls, serverHostname: Self.serverName(host)))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                    try channel.pipeline.syncOperations.addHandler(replies)
                }
            }
            .connect(host: host, port: settings.port).get()
        do {
            try await converse(message, on: channel, replies: replies, tls: tls)
            channel.close(promise: nil)
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    private func converse(_ message: MailMessage, on channel: any Channel, replies: SMTPReplies, tls: NIOSSLContext)
        async throws
    {
        try expect(220, try await replies.next(on: channel).get(), after: "connecting")
        var capabilities = try await hello(on: channel, replies: replies)
        if settings.security == .startTLS {
            guard capabilities.contains(where: { $0.uppercased() == "STARTTLS" }) else {
                throw SMTPError.unsupported("the server does not offer STARTTLS, which smtp:// requires")
            }
            try expect(220, try await command("STARTTLS", on: channel, replies: replies), after: "STARTTLS")
            let host = settings.host
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(
                    try NIOSSLClientHandler(context: tls, serverHostname: Self.serverName(host)), position: .first)
            }.get()
            capabilities = try await hello(on: channel, replies: replies)
        }
        if let username = settings.username {
            try await authenticate(username, settings.password ?? "", capabilities, on: channel, replies: replies)
        }
        try expect(
            250, try await command("MAIL FROM:<\(settings.fromAddress)>", on: channel, replies: replies),
            after: "MAIL FROM")
        let recipient = try await command("RCPT TO:<\(message.to)>", on: channel, replies: replies)
        try expect(recipient.code == 251 ? 251 : 250, recipient, after: "RCPT TO")
        try expect(354, try await command("DATA", on: channel, replies: replies), after: "DATA")
        let data = message.rendered(from: settings.from, date: Date(), domain: Self.domain(of: settings.fromAddress))
        try expect(
            250, try await command(Self.dotStuffed(data) + "\r\n.", on: channel, replies: replies), after: "the message"
        )
        _ = try? await command("QUIT", on: channel, replies: replies)
    }

    /// EHLO, and the extensions the server offers (the first word of each line after the greeting).
    private func hello(on channel: any Channel, replies: SMTPReplies) async throws -> [String] {
        let reply = try await command("EHLO \(Self.clientName)", on: channel, replies: replies)
        try expect(250, reply, after: "EHLO")
        return reply.lines.dropFirst().map { $0 }
    }

    private func authenticate(
        _ username: String, _ password: String, _ capabilities: [String], on channel: any Channel,
        replies: SMTPReplies
    ) async throws {
        let mechanisms = Set(
            capabilities.filter { $0.uppercased().hasPrefix("AUTH") }
                .flatMap { $0.uppercased().split(whereSeparator: { $0 == " " || $0 == "=" }).dropFirst() }
                .map(String.init))
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        if mechanisms.contains("PLAIN") {
            let reply = try await command(
                "AUTH PLAIN " + base64("\u{0}\(username)\u{0}\(password)"), on: channel, replies: replies)
            try expect(235, reply, after: "AUTH PLAIN")
        } else if mechanisms.contains("LOGIN") {
            try expect(334, try await command("AUTH LOGIN", on: channel, replies: replies), after: "AUTH LOGIN")
            try expect(334, try await command(base64(username), on: channel, replies: replies), after: "AUTH LOGIN")
            try expect(235, try await command(base64(password), on: channel, replies: replies), after: "AUTH LOGIN")
        } else {
            throw SMTPError.unsupported("the server offers neither AUTH PLAIN nor AUTH LOGIN")
        }
    }

    private func command(_ line: String, on channel: any Channel, replies: SMTPReplies) async throws -> SMTPReply {
        let reply = replies.next(on: channel)
        try await channel.writeAndFlush(ByteBuffer(string: line + "\r\n"))
        return try await reply.get()
    }

    private func expect(_ code: Int, _ reply: SMTPReply, after command: String) throws {
        guard reply.code == code else {
            throw SMTPError.refused(
                command: command, code: reply.code, text: String(reply.lines.joined(separator: " ").prefix(200)))
        }
    }

    private func makeTLSContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let caFile = settings.caFile {
            configuration.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(caFile))]
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// The name TLS checks the certificate against: the host, unless it is an IP address, which SNI cannot carry.
    static func serverName(_ host: String) -> String? {
        host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
    }

    static func domain(of address: String) -> String {
        address.split(separator: "@").last.map(String.init) ?? "localhost"
    }

    /// How Gatehouse names itself in EHLO.
    static let clientName = "gatehouse.invalid"

    /// A line that starts with a dot gets another (RFC 5321 §4.5.2), so no line of the message ends it early.
    static func dotStuffed(_ data: String) -> String {
        data.split(separator: "\r\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
            .joined(separator: "\r\n")
    }
}

/// Splits the byte stream into SMTP replies, joining the lines of a multi-line one (`250-…` up to `250 …`).
final class SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply
    static let maximumLine = 4096
    private var lines: [String] = []

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > Self.maximumLine { throw SMTPError.broken("a reply line too long") }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex + 1
        guard var line = buffer.readString(length: length) else { return .needMoreData }
        // By scalars: "\r\n" is one Character.
        while let last = line.unicodeScalars.last, last == "\n" || last == "\r" { line.unicodeScalars.removeLast() }
        let characters = Array(line)
        guard characters.count >= 3, let code = Int(String(characters[0..<3])), (200...599).contains(code) else {
            throw SMTPError.broken("the server's reply is not SMTP")
        }
        lines.append(characters.count > 4 ? String(characters[4...]) : "")
        if characters.count > 3, characters[3] == "-" { return .continue }
        context.fireChannelRead(wrapInboundOut(SMTPReply(code: code, lines: lines)))
        lines = []
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    { .needMoreData }
}

/// Hands each reply to the one waiting for it, or keeps it until someone asks (the greeting arrives unasked).
/// Its state is touched on its channel's event loop only.
final class SMTPReplies: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = SMTPReply
    private let timeout: TimeAmount
    private var arrived: [SMTPReply] = []
    private var waiting: EventLoopPromise<SMTPReply>?
    private var failure: SMTPError?

    init(timeout: TimeAmount) { self.timeout = timeout }

    /// The next reply, or an error when none comes in time or the connection ends first.
    func next(on channel: any Channel) -> EventLoopFuture<SMTPReply> {
        channel.eventLoop.flatSubmit {
            if !self.arrived.isEmpty { return channel.eventLoop.makeSucceededFuture(self.arrived.removeFirst()) }
            if let failure = self.failure { return channel.eventLoop.makeFailedFuture(failure) }
            let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
            self.waiting = promise
            let timer = channel.eventLoop.scheduleTask(in: self.timeout) {
                self.fail(SMTPError.broken("the server did not answer in time"))
                channel.close(promise: nil)
            }
            promise.futureResult.whenComplete { _ in timer.cancel() }
            return promise.futureResult
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        if let waiting {
            self.waiting = nil
            waiting.succeed(reply)
        } else {
            arrived.append(reply)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error as? SMTPError ?? .broken("the connection failed: \(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.broken("the server closed the connection"))
        context.fireChannelInactive()
    }

    private func fail(_ error: SMTPError) {
        if failure == nil { failure = error }
        waiting?.fail(error)
        waiting = nil
    }
}

/// A message to one person, in plain text and HTML (RFC 2045–2047, `multipart/alternative`).
package struct MailMessage: Sendable, Equatable {
    package let to: String
    package let subject: String
    package let text: String
    package let html: String

    package init(to: String, subject: String, text: String, html: String) {
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
    }

    /// The message as sent after DATA, with CRLF line ends; both bodies in base64, so no line is too long and
    /// none starts with a dot.
    func rendered(from: String, date: Date, domain: String) -> String {
        let boundary = "gatehouse-" + SecretGeneratorHex.random(16)
        let headers = [
            "From: \(from)",
            "To: <\(to)>",
            "Subject: \(Self.encodedHeader(subject))",
            "Date: \(Self.rfc5322(date))",
            "Message-ID: <\(SecretGeneratorHex.random(16))@\(domain)>",
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
        ]
        func part(_ type: String, _ body: String) -> [String] {
            [
                "--\(boundary)", "Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: base64", "",
                Self.wrapped(Data(body.utf8).base64EncodedString()),
            ]
        }
        let lines = headers + [""] + part("text/plain", text) + part("text/html", html) + ["--\(boundary)--"]
        return lines.joined(separator: "\r\n")
    }

    /// A header value as RFC 2047 needs it: itself when it is printable ASCII, else base64 UTF-8.
    static func encodedHeader(_ value: String) -> String {
        let plain = value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
        return plain ? value : "=?UTF-8?B?\(Data(value.utf8).base64EncodedString())?="
    }

    static func wrapped(_ base64: String) -> String {
        var lines: [Substring] = []
        var rest = Substring(base64)
        while !rest.isEmpty {
            lines.append(rest.prefix(76))
            rest = rest.dropFirst(76)
        }
        return lines.joined(separator: "\r\n")
    }

    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}

/// Random hex for boundaries and message ids (not secrets, just unique).
enum SecretGeneratorHex {
    static func random(_ bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}
