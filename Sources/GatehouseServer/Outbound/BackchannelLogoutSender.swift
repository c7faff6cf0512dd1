import AsyncHTTPClient
import Foundation
import GatehouseCore
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Posts logout tokens to apps' back-channel logout URIs (OpenID Connect Back-Channel Logout 1.0 §2.5), in the
/// background: a sign-out hands its notices over and returns at once, whatever the apps do.
///
/// A delivery is tried again after each of `retryDelays` while the app does not answer, times out, or
/// answers 5xx or 429; any other answer is final (a 400 is the app refusing the token, §2.8). Redirects are
/// not followed. At most `queueLimit` notices wait; beyond that, and for those still waiting when the server
/// stops, a notice is dropped with a warning, and the app's session lasts until its own expiry.
final class BackchannelLogoutSender: LogoutNotifier, Service, Sendable {
    static let queueLimit = 10_000
    /// How long one attempt may take, connection included.
    static let timeout = TimeAmount.seconds(10)

    private let notices: AsyncStream<BackchannelLogoutNotice>
    private let continuation: AsyncStream<BackchannelLogoutNotice>.Continuation
    private let retryDelays: [Duration]
    private let logger: Logger

    init(retryDelays: [Duration], logger: Logger) {
        (notices, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(Self.queueLimit))
        self.retryDelays = retryDelays
        self.logger = logger
    }

    func send(_ notices: [BackchannelLogoutNotice]) {
        for notice in notices {
            if case .dropped = continuation.yield(notice) {
                logger.warning(
                    "back-channel logout dropped: too many waiting", metadata: ["client_id": "\(notice.clientID)"])
            }
        }
    }

    func run() async throws {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: Self.timeout))
        configuration.httpVersion = .http1Only
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for await notice in self.notices {
                    group.addTask { await self.deliver(notice, with: client) }
                }
            }
        }
        continuation.finish()
        try await client.shutdown()
    }

    private func deliver(_ notice: BackchannelLogoutNotice, with client: HTTPClient) async {
        var request = HTTPClientRequest(url: notice.uri)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: FormBody.encode([("logout_token", notice.logoutToken)])))
        var metadata: Logger.Metadata = ["client_id": "\(notice.clientID)"]
        for attempt in 0...retryDelays.count {
            if attempt > 0 {
                do { try await Task.sleep(for: retryDelays[attempt - 1]) } catch { break }
            }
            metadata["attempt"] = "\(attempt + 1)"
            do {
                let response = try await client.execute(request, timeout: Self.timeout)
                _ = try? await response.body.collect(upTo: 64 * 1024)
                metadata["status"] = "\(response.status.code)"
                if (200..<300).contains(response.status.code) {
                    logger.info("back-channel logout delivered", metadata: metadata)
                    return
                }
                guard response.status.code >= 500 || response.status == .tooManyRequests else {
                    logger.warning("back-channel logout refused by the app", metadata: metadata)
                    return
                }
            } catch {
                metadata["error"] = "\(String(describing: type(of: error)))"
            }
        }
        logger.warning("back-channel logout not delivered", metadata: metadata)
    }
}

/// `application/x-www-form-urlencoded` (WHATWG URL §5.2): what an app's endpoint reads.
enum FormBody {
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    private static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(
            CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "*-._")
        return (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "").replacingOccurrences(
            of: "%20", with: "+")
    }
}
