import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Behind a load balancer or reverse proxy the peer is the proxy, so every sign-in would count against one
/// address. For a peer in the trusted list, the client's address is the last one `X-Forwarded-For` names that
/// is not itself a trusted proxy (RFC 7239 §5.2's hops, read from the nearest); from any other peer the header
/// is ignored, since anyone can send it.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let trusted: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let peer = context.remoteAddress, trusted.contains(peer) else { return try await next(request, context) }
        var context = context
        context.remoteAddress = Self.clientAddress(
            peer: peer, forwardedFor: request.headers[values: .xForwardedFor], trusted: trusted)
        return try await next(request, context)
    }

    /// Walks the hops from the nearest: each trusted one vouches for the address before it. The first address
    /// that is not a trusted proxy is the client; one that is not an IP address at all ends the walk at the
    /// hop that forwarded it.
    static func clientAddress(peer: String, forwardedFor: [String], trusted: Set<String>) -> String {
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        var client = peer
        for hop in hops.reversed() {
            guard trusted.contains(client), let address = normalizedIPAddress(hop) else { break }
            client = address
        }
        return client
    }

    /// An IPv4 or IPv6 address as NIO writes it, or nil for anything else.
    static func normalizedIPAddress(_ text: String) -> String? {
        guard !text.isEmpty, let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        return address.ipAddress
    }
}

extension HTTPField.Name {
    package static let xForwardedFor = HTTPField.Name(literal: "X-Forwarded-For")
}
