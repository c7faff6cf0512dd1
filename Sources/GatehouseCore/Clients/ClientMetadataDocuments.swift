import Foundation

/// A client metadata document as fetched: its bytes and how long HTTP caching lets it be kept.
package struct FetchedMetadataDocument: Sendable {
    package var body: [UInt8]
    /// `Cache-Control: max-age`, in seconds, when the answer gave one; zero for `no-store` or `no-cache`.
    package var maxAge: TimeInterval?

    package init(body: [UInt8], maxAge: TimeInterval?) {
        self.body = body
        self.maxAge = maxAge
    }
}

/// Fetches a client metadata document from the URL that is its client_id: the one place Gatehouse calls out
/// on an app's word, so the fetcher guards it (https only, no private addresses, no redirects, a size cap and a
/// timeout). Throws `MetadataDocumentRefusal` with the reason.
package protocol MetadataDocumentFetching: Sendable {
    func fetch(_ url: String) async throws -> FetchedMetadataDocument
}

/// Why an app's metadata document cannot describe a client; shown to the person on the error page.
package struct MetadataDocumentRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    package let reason: String
    package init(_ reason: String) { self.reason = reason }
    package var description: String { reason }
}

/// Apps that name themselves by the URL of their client metadata document
/// (draft-ietf-oauth-client-id-metadata-document, as the MCP authorization spec uses it): the document is
/// fetched, must name itself as `client_id`, and describes a public client held to the rules of an app that
/// registers itself openly (PKCE, https or loopback redirect URIs, no administrative scope). A copy is kept as a
/// client of the registration workspace, used while HTTP caching allows (within bounds) and fetched again after.
/// Allowed where the registration workspace's policy is open.
package struct ClientMetadataDocuments: Sendable {
    let store: any ClientStore & AccessStore
    let fetcher: any MetadataDocumentFetching
    let clock: any WallClock
    let openWorkspace: WorkspaceSlug

    /// How long a copy is used at least (so a `no-store` document is not fetched on every request) and at most.
    package static let cacheBounds: ClosedRange<TimeInterval> = 60...86_400
    /// How long a copy is used when the answer says nothing.
    package static let defaultCacheTime: TimeInterval = 3_600
    package static let actor = AuditActor(user: nil, credential: "client_metadata_document")

    package init(
        store: any ClientStore & AccessStore, fetcher: any MetadataDocumentFetching, clock: any WallClock,
        openWorkspace: WorkspaceSlug
    ) {
        self.store = store
        self.fetcher = fetcher
        self.clock = clock
        self.openWorkspace = openWorkspace
    }

    /// The client `id` names, its copy fresh: kept, or fetched and stored now.
    package func client(_ id: ClientID) async throws -> ClientApplication {
        let now = clock.now()
        let kept = try await store.client(id: id)
        if let kept, kept.registeredBy != .metadataDocument {
            throw MetadataDocumentRefusal("This client_id belongs to another client.")
        }
        if let kept, let expires = kept.metadataExpiresAt, now < expires, !kept.isDisabled { return kept }
        guard let workspace = try await store.workspace(slug: openWorkspace), workspace.clientRegistration == .open
        else {
            throw MetadataDocumentRefusal(
                "This server does not accept apps that describe themselves with a metadata document; ask an admin.")
        }
        if let kept, kept.isDisabled { return kept }
        let fetched = try await fetcher.fetch(id.value)
        var client = try await described(by: fetched.body, id: id, in: workspace.id, replacing: kept, at: now)
        let cacheTime = min(
            max(fetched.maxAge ?? Self.defaultCacheTime, Self.cacheBounds.lowerBound), Self.cacheBounds.upperBound)
        client.metadataExpiresAt = now.addingTimeInterval(cacheTime)
        let event = AuditEvent(
            workspaceID: client.workspaceID, actor: Self.actor,
            action: kept == nil ? "client.registered" : "client.metadata_refreshed", targetKind: "client",
            targetID: client.id.value, address: nil,
            details: ["name": client.name, "registered_by": ClientRegistrant.metadataDocument.rawValue],
            occurredAt: now)
        do {
            try await store.apply(
                kept == nil ? .registerClient(client, usingToken: nil) : .updateClient(client), recording: event)
        } catch let conflict as UniqueViolation where conflict.field == .clientID {
            // Another request stored it at the same moment: use that copy.
            if let stored = try await store.client(id: id) { return stored }
            throw conflict
        }
        return client
    }

    /// The client the document describes, or why it cannot.
    private func described(
        by body: [UInt8], id: ClientID, in workspace: WorkspaceID, replacing kept: ClientApplication?, at now: Date
    ) async throws -> ClientApplication {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw MetadataDocumentRefusal("The client metadata document is not a JSON object.")
        }
        guard object["client_id"] as? String == id.value else {
            throw MetadataDocumentRefusal("The client metadata document does not name its own URL as client_id.")
        }
        func strings(_ name: String) throws -> [String]? {
            guard let value = object[name] else { return nil }
            guard let list = value as? [String], list.count <= 100 else {
                throw MetadataDocumentRefusal("In the client metadata document, \(name) must be an array of strings.")
            }
            return list
        }
        func string(_ name: String) throws -> String? {
            guard let value = object[name] else { return nil }
            guard let text = value as? String else {
                throw MetadataDocumentRefusal("In the client metadata document, \(name) must be a string.")
            }
            return text
        }
        if let method = try string("token_endpoint_auth_method"), method != "none" {
            throw MetadataDocumentRefusal(
                "The client metadata document asks for token_endpoint_auth_method \(method.prefix(40)); Gatehouse "
                    + "takes apps described this way as public clients (none) only.")
        }
        if object["client_secret"] != nil || object["client_secret_expires_at"] != nil {
            throw MetadataDocumentRefusal("A client metadata document must not carry a client secret.")
        }
        var grantTypes = GrantType.defaults
        if let raw = try strings("grant_types") {
            grantTypes = Set(
                try raw.map { name in
                    guard let grant = GrantType(rawValue: name), grant != .clientCredentials else {
                        throw MetadataDocumentRefusal(
                            "The client metadata document's grant type \(name.prefix(40)) is not allowed; use "
                                + "authorization_code and refresh_token.")
                    }
                    return grant
                })
            guard grantTypes.contains(.authorizationCode) else {
                throw MetadataDocumentRefusal("The client metadata document must allow authorization_code.")
            }
        }
        let redirects = try (strings("redirect_uris") ?? []).map { raw in
            guard let uri = try? RedirectURI(raw), uri.isWebOrLoopback else {
                throw MetadataDocumentRefusal(
                    "The client metadata document's redirect URI '\(raw.prefix(200))' must be https, or http on "
                        + "127.0.0.1, [::1] or localhost.")
            }
            return uri
        }
        guard !redirects.isEmpty, redirects.count <= ClientApplications.maximumRedirectURIs else {
            throw MetadataDocumentRefusal(
                "The client metadata document must name 1 to \(ClientApplications.maximumRedirectURIs) redirect_uris.")
        }
        let allowed = try await Rights.nonAdministrative(in: workspace, store: store)
        let scopes =
            try string("scope").map { raw in
                Set(raw.split(separator: " ").compactMap { try? Scope(String($0)) }).intersection(allowed)
            } ?? allowed
        let name = (try? string("client_name").map { try DisplayName($0, field: "client_name").value }) ?? nil
        let web = { (field: String) -> String? in
            guard let raw = try? string(field), raw.utf8.count <= 2000, raw.lowercased().hasPrefix("https://") else {
                return nil
            }
            return raw
        }
        var client = ClientApplication(
            id: id, workspaceID: kept?.workspaceID ?? workspace, name: name ?? Self.host(of: id),
            logoURL: web("logo_uri"), homepageURL: web("client_uri"), type: .public, redirectURIs: redirects,
            grantTypes: grantTypes, scopes: scopes, secret: nil, requirePKCE: true, createdBy: nil,
            createdAt: kept?.createdAt ?? now, updatedAt: now)
        client.registeredBy = .metadataDocument
        client.tokenEndpointAuthMethod = TokenEndpointAuthMethod.none
        client.lastUsedAt = kept?.lastUsedAt
        client.idTokenSigningAlgorithm = kept?.idTokenSigningAlgorithm ?? .rs256
        return client
    }

    /// The host of a metadata document's URL: what the consent page shows people, whatever name the document
    /// claims.
    package static func host(of id: ClientID) -> String {
        let afterScheme = id.value.dropFirst("https://".count)
        return String(afterScheme.prefix { $0 != "/" })
    }
}
