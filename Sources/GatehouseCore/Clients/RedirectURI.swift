import Foundation

/// A redirect URI a client registered, checked against RFC 6749 §3.1.2, RFC 8252 (native apps) and RFC 9700
/// §2.1 (exact matching, no wildcards).
///
/// Allowed: `https` URIs; `http` only on a loopback host (`127.0.0.1`, `[::1]`, `localhost`); and private-use
/// schemes of native apps, which are reverse domain names (`com.example.app:/callback`).
package struct RedirectURI: Hashable, Sendable, CustomStringConvertible {
    package let value: String
    package var description: String { value }

    /// Whether this is an `http` loopback URI, whose port the app picks at run time (RFC 8252 §7.3).
    package let isLoopback: Bool

    package static let maximumLength = 2000
    private static let loopbackHosts: Set<String> = ["127.0.0.1", "[::1]", "localhost"]

    /// Parses `raw`, or says which rule it breaks, naming it; `field` is the registration field it came in.
    package init(_ raw: String, field: String = "redirect_uris") throws(DomainError) {
        func refuse(_ rule: String) -> DomainError {
            .invalidInput(field: field, message: "The redirect URI '\(raw.prefix(200))' \(rule)")
        }
        guard raw.utf8.count <= Self.maximumLength else {
            throw refuse("is longer than \(Self.maximumLength) characters.")
        }
        guard !raw.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value >= 0x7F }) else {
            throw refuse("contains spaces, control or non-ASCII characters; percent-encode them.")
        }
        guard !raw.contains("*") else {
            throw refuse("contains a wildcard '*'; register every redirect URI exactly.")
        }
        guard let parts = URIParts(raw) else {
            throw refuse("is not an absolute URI; it must start with a scheme such as https://.")
        }
        guard !raw.contains("#") else {
            throw refuse("has a fragment ('#…'), which redirect URIs must not have (RFC 6749 §3.1.2).")
        }
        guard parts.hasValidPort else { throw refuse("has a port that is not a number.") }
        guard parts.userinfo == nil else {
            throw refuse("contains a user name or password before '@', which redirect URIs must not have.")
        }
        switch parts.scheme {
        case "https":
            guard let host = parts.host, !host.isEmpty else { throw refuse("has no host name.") }
            isLoopback = false
        case "http":
            guard let host = parts.host, Self.loopbackHosts.contains(host.lowercased()) else {
                throw refuse(
                    "uses http on a host that is not a loopback address; use https, or http only with "
                        + "127.0.0.1, [::1] or localhost (RFC 8252 §7.3).")
            }
            isLoopback = true
        default:
            guard parts.scheme.contains(".") else {
                throw refuse(
                    "uses the scheme '\(parts.scheme)'; use https, http on a loopback address, or a native app's "
                        + "private-use scheme that is a reverse domain name, like com.example.app:/callback "
                        + "(RFC 8252 §7.1).")
            }
            isLoopback = false
        }
        self.value = raw
    }

    /// Parses every URI of a registration, naming each one that is refused (not only the first) in one error.
    package static func parseAll(_ raws: [String], field: String = "redirect_uris") throws(DomainError)
        -> [RedirectURI]
    {
        var parsed: [RedirectURI] = []
        var problems: [String] = []
        for raw in raws {
            do {
                parsed.append(try RedirectURI(raw, field: field))
            } catch {
                problems.append(error.message)
            }
        }
        guard problems.isEmpty else {
            throw .invalidInput(field: field, message: problems.joined(separator: " "))
        }
        return parsed
    }

    /// Whether an app that registers itself may use it: https, or http on a loopback address. Not a private-use
    /// scheme, which any app on a device can claim, so only an admin may vouch for one.
    package var isWebOrLoopback: Bool { isLoopback || value.lowercased().hasPrefix("https://") }

    /// Whether a redirect URI sent in an authorization request is this one: the exact string, except that a
    /// loopback URI may name any port.
    package func matches(_ requested: String) -> Bool {
        guard isLoopback else { return requested == value }
        guard let mine = URIParts(value), let theirs = URIParts(requested) else { return false }
        return theirs.scheme == mine.scheme && theirs.userinfo == nil && theirs.host == mine.host
            && theirs.rest == mine.rest && theirs.hasValidPort
    }
}

/// The pieces of an absolute URI that the redirect rules look at (RFC 3986 §3), split by hand so the result
/// does not depend on a platform's URL parser.
private struct URIParts {
    /// Lowercased.
    let scheme: String
    let userinfo: Substring?
    /// As written, IPv6 literals with their brackets; nil when there is no authority.
    let host: String?
    let port: Substring
    /// Path, query and fragment.
    let rest: Substring

    /// No port, or one of 1 to 5 digits.
    var hasValidPort: Bool {
        port.count <= 5 && port.unicodeScalars.allSatisfy(\.isASCIIDigit)
    }

    init?(_ uri: String) {
        guard let colon = uri.firstIndex(of: ":") else { return nil }
        let scheme = uri[..<colon]
        guard let first = scheme.unicodeScalars.first, first.isASCIILetter,
            scheme.unicodeScalars.allSatisfy({
                $0.isASCIILetter || $0.isASCIIDigit || "+-.".unicodeScalars.contains($0)
            })
        else { return nil }
        self.scheme = scheme.lowercased()
        let afterScheme = uri[uri.index(after: colon)...]
        guard afterScheme.hasPrefix("//") else {
            guard !afterScheme.isEmpty else { return nil }
            userinfo = nil
            host = nil
            port = ""
            rest = afterScheme
            return
        }
        let authorityStart = afterScheme.index(afterScheme.startIndex, offsetBy: 2)
        let authorityEnd = afterScheme[authorityStart...].firstIndex { "/?#".contains($0) } ?? afterScheme.endIndex
        var authority = afterScheme[authorityStart..<authorityEnd]
        rest = afterScheme[authorityEnd...]
        if let at = authority.lastIndex(of: "@") {
            userinfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
        } else {
            userinfo = nil
        }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[...close])
            let afterHost = authority[authority.index(after: close)...]
            port = afterHost.hasPrefix(":") ? afterHost.dropFirst() : afterHost
        } else if let portColon = authority.lastIndex(of: ":") {
            host = String(authority[..<portColon])
            port = authority[authority.index(after: portColon)...]
        } else {
            host = String(authority)
            port = ""
        }
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
