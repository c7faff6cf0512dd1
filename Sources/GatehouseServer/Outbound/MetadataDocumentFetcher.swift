import AsyncHTTPClient
import Foundation
import GatehouseCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Fetches client metadata documents, the one request Gatehouse makes because an app said so, guarded against
/// server-side request forgery: https only; the host resolved first and refused when the address is private,
/// loopback, link-local or otherwise not public, and the connection then made to that very address (so a second
/// answer of the name cannot send it elsewhere); no redirects; at most `maximumBytes`; `timeout` in all.
/// Hosts in `allowedHosts` skip the address check, for tests and for an operator's own network.
struct MetadataDocumentFetcher: MetadataDocumentFetching {
    let allowedHosts: Set<String>
    /// Roots trusted besides the system's, for a private CA (tests use a throwaway one).
    let trustRoots: [NIOSSLCertificate]
    var timeout: TimeAmount = .seconds(5)
    var maximumBytes = 5 * 1024

    func fetch(_ url: String) async throws -> FetchedMetadataDocument {
        guard let components = URLComponents(string: url), components.scheme == "https",
            let host = components.host, !host.isEmpty
        else { throw MetadataDocumentRefusal("The client_id is not an https URL Gatehouse can fetch.") }
        let bareHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        let port = components.port ?? 443
        let address: SocketAddress
        do {
            address = try await NIOThreadPool.singleton.runIfActive {
                try SocketAddress.makeAddressResolvingHost(bareHost, port: port)
            }
        } catch {
            throw MetadataDocumentRefusal("The host of the client_id, \(host.prefix(200)), does not resolve.")
        }
        guard allowedHosts.contains(bareHost.lowercased()) || PublicAddress.isPublic(address) else {
            throw MetadataDocumentRefusal(
                "The host of the client_id, \(host.prefix(200)), has a private, loopback or reserved address; "
                    + "Gatehouse fetches metadata documents from public addresses only.")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if !trustRoots.isEmpty { tls.additionalTrustRoots = [.certificates(trustRoots)] }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: timeout, read: timeout))
        // Connect to the address that was checked, while TLS still verifies the certificate for the host's name.
        if let ip = address.ipAddress { configuration.dnsOverride = [bareHost: ip] }
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            let document = try await get(url, with: client)
            try await client.shutdown()
            return document
        } catch {
            // Not waited for: a server that stalls would hold the answer up past the timeout.
            Task { try? await client.shutdown() }
            throw error
        }
    }

    private func get(_ url: String, with client: HTTPClient) async throws -> FetchedMetadataDocument {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: .now() + timeout)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw MetadataDocumentRefusal("The client metadata document did not arrive within \(seconds) seconds.")
        } catch {
            throw MetadataDocumentRefusal(
                "The client metadata document could not be fetched (\(Self.describe(error))).")
        }
        guard !(300..<400).contains(response.status.code) else {
            throw MetadataDocumentRefusal("The client_id URL redirects; Gatehouse does not follow redirects for it.")
        }
        guard response.status == .ok else {
            throw MetadataDocumentRefusal("The client_id URL answered \(response.status.code), not 200.")
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: maximumBytes)
        } catch is NIOTooManyBytesError {
            throw MetadataDocumentRefusal("The client metadata document is larger than \(maximumBytes) bytes.")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw MetadataDocumentRefusal("The client metadata document did not arrive within \(seconds) seconds.")
        }
        return FetchedMetadataDocument(
            body: Array(body.readableBytesView), maxAge: Self.maxAge(response.headers["Cache-Control"]))
    }

    private var seconds: Int64 { timeout.nanoseconds / 1_000_000_000 }

    /// `max-age` of a Cache-Control header; 0 for `no-store` or `no-cache`; nil when it says neither.
    static func maxAge(_ values: [String]) -> TimeInterval? {
        let directives = values.flatMap { $0.split(separator: ",") }.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        if directives.contains("no-store") || directives.contains("no-cache") { return 0 }
        for directive in directives where directive.hasPrefix("max-age=") {
            if let seconds = Int(directive.dropFirst("max-age=".count)), seconds >= 0 { return TimeInterval(seconds) }
        }
        return nil
    }

    /// A transport error in words, without anything an app could use to probe the network behind Gatehouse.
    private static func describe(_ error: any Error) -> String {
        if error is NIOSSLError || error is BoringSSLError { return "its TLS certificate is not trusted" }
        return "no connection"
    }
}

/// Whether an address is one anyone on the internet could reach: not private, loopback, link-local, shared,
/// documentation, benchmarking, multicast or otherwise reserved (RFC 6890 and the IANA special-purpose
/// registries).
enum PublicAddress {
    static func isPublic(_ address: SocketAddress) -> Bool {
        // The address's bytes are read at their place in the C structure, in network order: after the family and
        // the port in `sockaddr_in` (4 bytes), after those and the flow label in `sockaddr_in6` (8 bytes), on
        // Linux and on Darwin alike. (Naming the fields makes the build depend on which C module the compiler
        // took `struct sockaddr_in` from.)
        switch address {
        case .v4(let v4):
            let bytes = withUnsafeBytes(of: v4.address) { Array($0[4..<8]) }
            return isPublic(v4: bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address) { Array($0[8..<24]) }
            return isPublic(v6: bytes)
        default:
            return false
        }
    }

    static func isPublic(v4 address: UInt32) -> Bool {
        let blocked: [(UInt32, Int)] = [
            (0x0000_0000, 8),  // "this network"
            (0x0A00_0000, 8),  // private
            (0x6440_0000, 10),  // shared address space (carrier-grade NAT)
            (0x7F00_0000, 8),  // loopback
            (0xA9FE_0000, 16),  // link-local, cloud metadata services among them
            (0xAC10_0000, 12),  // private
            (0xC000_0000, 24),  // IETF protocol assignments
            (0xC000_0200, 24),  // documentation
            (0xC058_6300, 24),  // 6to4 relay
            (0xC0A8_0000, 16),  // private
            (0xC612_0000, 15),  // benchmarking
            (0xC633_6400, 24),  // documentation
            (0xCB00_7100, 24),  // documentation
            (0xE000_0000, 4),  // multicast
            (0xF000_0000, 4),  // reserved, and broadcast
        ]
        return !blocked.contains { network, length in
            let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
            return address & mask == network
        }
    }

    static func isPublic(v6 bytes: [UInt8]) -> Bool {
        guard bytes.count == 16 else { return false }
        // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d): the IPv4 address decides.
        let embedded = UInt32(bytes[12]) << 24 | UInt32(bytes[13]) << 16 | UInt32(bytes[14]) << 8 | UInt32(bytes[15])
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return isPublic(v4: embedded)
        }
        if bytes[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] { return isPublic(v4: embedded) }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) { return false }  // :: and ::1
        if bytes[0] & 0xFE == 0xFC { return false }  // unique local fc00::/7
        if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0x80 { return false }  // link-local fe80::/10
        if bytes[0] == 0xFF { return false }  // multicast
        if bytes[0] == 0x20, bytes[1] == 0x01, bytes[2] == 0x0D, bytes[3] == 0xB8 { return false }  // documentation
        if bytes[0] == 0x20, bytes[1] == 0x01, bytes[2] < 0x02 { return false }  // 2001::/23, IETF assignments
        if bytes[0] == 0x01, bytes[1] == 0x00, bytes[2..<8].allSatisfy({ $0 == 0 }) { return false }  // discard-only
        return true
    }
}
