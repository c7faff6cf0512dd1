import Foundation
import GRDB
import GatehouseCore
import PostgresNIO

/// A row as either backend reads it: each column as the domain needs it, whatever type the dialect keeps it in
/// (SQLite ids as text and times as microseconds; PostgreSQL `uuid` and `timestamptz`). The domain types are
/// decoded from it once, in `StoredForm`'s row decoders below, for both stores; a `NULL` where a value must be
/// is a malformed row, never a crash.
protocol StoredRow {
    func optionalText(_ column: String) throws -> String?
    func optionalInteger(_ column: String) throws -> Int64?
    func optionalFlag(_ column: String) throws -> Bool?
    func optionalID(_ column: String) throws -> UUID?
    func optionalDate(_ column: String) throws -> Date?
}

extension StoredRow {
    func text(_ column: String) throws -> String { try required(optionalText(column), column) }
    func integer(_ column: String) throws -> Int64 { try required(optionalInteger(column), column) }
    func flag(_ column: String) throws -> Bool { try required(optionalFlag(column), column) }
    func id(_ column: String) throws -> UUID { try required(optionalID(column), column) }
    func date(_ column: String) throws -> Date { try required(optionalDate(column), column) }

    private func required<Value>(_ value: Value?, _ column: String) throws -> Value {
        guard let value else { throw StoreUnavailable("a NULL \(column) in the database") }
        return value
    }
}

extension Row: StoredRow {
    func optionalText(_ column: String) throws -> String? { self[column] }
    func optionalInteger(_ column: String) throws -> Int64? { self[column] }
    func optionalFlag(_ column: String) throws -> Bool? { self[column] }

    func optionalID(_ column: String) throws -> UUID? {
        try (self[column] as String?).map(SQLiteStore.uuid)
    }

    func optionalDate(_ column: String) throws -> Date? {
        (self[column] as Int64?).map(Date.init(microsecondsSince1970:))
    }
}

extension PostgresRandomAccessRow: StoredRow {
    func optionalText(_ column: String) throws -> String? { try self[column].decode(String?.self) }
    func optionalInteger(_ column: String) throws -> Int64? { try self[column].decode(Int64?.self) }
    func optionalFlag(_ column: String) throws -> Bool? { try self[column].decode(Bool?.self) }
    func optionalID(_ column: String) throws -> UUID? { try self[column].decode(UUID?.self) }
    func optionalDate(_ column: String) throws -> Date? { try self[column].decode(Date?.self) }
}

/// The domain types from their rows, the same columns on both backends.
extension StoredForm {
    static func workspace(_ row: some StoredRow) throws -> Workspace {
        var workspace = Workspace(
            id: WorkspaceID(try row.id("id")), name: try row.text("name"),
            slug: try WorkspaceSlug(try row.text("slug")),
            createdAt: try row.date("created_at"),
            requiresAdminTwoFactor: try row.flag("require_admin_two_factor"))
        guard let policy = ClientRegistrationPolicy(rawValue: try row.text("client_registration")) else {
            throw StoreUnavailable("malformed client registration policy in the database")
        }
        workspace.clientRegistration = policy
        return workspace
    }

    static func user(_ row: some StoredRow) throws -> User {
        User(
            id: UserID(try row.id("id")), workspaceID: WorkspaceID(try row.id("workspace_id")),
            email: EmailAddress(stored: try row.text("email")), name: try row.text("name"),
            employeeID: try row.optionalText("employee_id"), title: try row.optionalText("title"),
            departmentID: try row.optionalID("department_id").map(DepartmentID.init),
            managerID: try row.optionalID("manager_id").map(UserID.init), role: try Role(parsing: try row.text("role")),
            isActive: try row.flag("is_active"),
            privacyNoticeAcceptedAt: try row.optionalDate("privacy_notice_accepted_at"),
            passwordHash: try row.optionalText("password_hash").map(PasswordHash.init(encoded:)),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    static func department(_ row: some StoredRow) throws -> Department {
        Department(
            id: DepartmentID(try row.id("id")), workspaceID: WorkspaceID(try row.id("workspace_id")),
            name: try row.text("name"), createdAt: try row.date("created_at"))
    }

    static func apiKey(_ row: some StoredRow) throws -> APIKey {
        guard let status = KeyStatus(rawValue: try row.text("status")) else {
            throw StoreUnavailable("malformed API key row in the database")
        }
        return APIKey(
            id: APIKeyID(try row.id("id")), workspaceID: WorkspaceID(try row.id("workspace_id")),
            owner: try owner(
                kind: try row.text("owner_kind"), user: try row.optionalID("owner_user_id"),
                client: try row.optionalText("owner_client_id")),
            name: try row.text("name"), prefix: try row.text("prefix"), lastFour: try row.text("last_four"),
            digest: KeyDigest(
                hex: try row.text("secret_digest"), pepperVersion: Int(try row.integer("pepper_version"))),
            scopes: try scopes(try row.optionalText("scopes")), status: status,
            rateLimitPerMinute: try row.optionalInteger("rate_limit_per_minute").map { Int($0) },
            createdBy: try row.optionalID("created_by").map(UserID.init), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"), expiresAt: try row.optionalDate("expires_at"),
            lastUsedAt: try row.optionalDate("last_used_at"))
    }

    static func client(_ row: some StoredRow) throws -> ClientApplication {
        guard let type = ClientType(rawValue: try row.text("type")) else {
            throw StoreUnavailable("malformed client row in the database")
        }
        let previous = try row.optionalText("previous_secret_digest")
        let previousExpiresAt = try row.optionalDate("previous_secret_expires_at")
        guard let registeredBy = ClientRegistrant(rawValue: try row.text("registered_by")) else {
            throw StoreUnavailable("malformed client registrant in the database")
        }
        var client = ClientApplication(
            id: try ClientID(try row.text("client_id")), workspaceID: WorkspaceID(try row.id("workspace_id")),
            name: try row.text("name"), description: try row.optionalText("description"),
            logoURL: try row.optionalText("logo_url"), homepageURL: try row.optionalText("homepage_url"), type: type,
            redirectURIs: try redirectURIs(try row.text("redirect_uris")),
            postLogoutRedirectURIs: try redirectURIs(try row.text("post_logout_redirect_uris")),
            backchannelLogoutURI: try row.optionalText("backchannel_logout_uri").map { try RedirectURI($0) },
            grantTypes: try grantTypes(try row.text("grant_types")), scopes: try scopeSet(try row.text("scopes")),
            secret: try row.optionalText("secret_digest").map {
                ClientSecretDigests(
                    current: SecretDigest(storedHex: $0), previous: previous.map(SecretDigest.init(storedHex:)),
                    previousExpiresAt: previousExpiresAt)
            },
            requirePKCE: try row.flag("require_pkce"), isResourceServer: try row.flag("resource_server"),
            idTokenSigningAlgorithm: try algorithm(try row.text("id_token_signed_response_alg")),
            isDisabled: try row.flag("is_disabled"), createdBy: try row.optionalID("created_by").map(UserID.init),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
        client.registeredBy = registeredBy
        client.registrationTokenDigest = try row.optionalText("registration_token_digest").map(
            SecretDigest.init(storedHex:))
        client.tokenEndpointAuthMethod = try row.optionalText("token_endpoint_auth_method").flatMap(
            TokenEndpointAuthMethod.init(rawValue:))
        client.lastUsedAt = try row.optionalDate("last_used_at")
        client.metadataExpiresAt = try row.optionalDate("metadata_expires_at")
        return client
    }

    static func passwordLink(_ row: some StoredRow) throws -> PasswordLink {
        guard let purpose = PasswordLinkPurpose(rawValue: try row.text("purpose")) else {
            throw StoreUnavailable("malformed password link purpose in the database")
        }
        return PasswordLink(
            digest: SecretDigest(storedHex: try row.text("digest")), userID: UserID(try row.id("user_id")),
            workspaceID: WorkspaceID(try row.id("workspace_id")), purpose: purpose,
            createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"))
    }

    static func secondFactor(_ row: some StoredRow) throws -> StoredSecondFactor {
        StoredSecondFactor(
            userID: UserID(try row.id("user_id")), workspaceID: WorkspaceID(try row.id("workspace_id")),
            sealedSecret: try row.text("sealed_secret"), createdAt: try row.date("created_at"),
            confirmedAt: try row.optionalDate("confirmed_at"), lastUsedStep: try row.optionalInteger("last_used_step"))
    }

    static func session(_ row: some StoredRow) throws -> WebSession {
        WebSession(
            digest: SecretDigest(storedHex: try row.text("digest")), userID: UserID(try row.id("user_id")),
            workspaceID: WorkspaceID(try row.id("workspace_id")), authTime: try row.date("auth_time"),
            expiresAt: try row.date("expires_at"), lastSeenAt: try row.date("last_seen_at"),
            userAgent: try row.optionalText("user_agent"), address: try row.optionalText("address"),
            amr: amr(try row.text("amr")) ?? ["pwd"], awaitsSecondFactor: try row.flag("awaits_second_factor"))
    }

    static func signingKey(_ row: some StoredRow) throws -> StoredSigningKey {
        StoredSigningKey(
            kid: try row.text("kid"), algorithm: try algorithm(try row.text("algorithm")),
            publicKey: try row.text("public_key"), sealedPrivateKey: try row.text("sealed_private_key"),
            createdAt: try row.date("created_at"), retiredAt: try row.optionalDate("retired_at"))
    }

    private static func algorithm(_ raw: String) throws -> SigningAlgorithm {
        guard let algorithm = SigningAlgorithm(rawValue: raw) else {
            throw StoreUnavailable("malformed signing algorithm in the database")
        }
        return algorithm
    }

    static func code(_ row: some StoredRow) throws -> AuthorizationCode {
        AuthorizationCode(
            digest: SecretDigest(storedHex: try row.text("digest")), grantID: GrantID(try row.id("grant_id")),
            workspaceID: WorkspaceID(try row.id("workspace_id")), clientID: try ClientID(try row.text("client_id")),
            userID: UserID(try row.id("user_id")), redirectURI: try row.optionalText("redirect_uri"),
            scopes: try scopeSet(try row.text("scopes")),
            challenge: try row.optionalText("code_challenge").map(CodeChallenge.init(stored:)),
            nonce: try row.optionalText("nonce"), authTime: try row.date("auth_time"),
            amr: amr(try row.optionalText("amr")),
            resource: try row.optionalText("resource").map(ResourceIdentifier.init(trusted:)),
            issuedAt: try row.date("issued_at"),
            expiresAt: try row.date("expires_at"),
            consumedAt: try row.optionalDate("consumed_at"))
    }

    static func grant(_ row: some StoredRow) throws -> TokenGrant {
        TokenGrant(
            id: GrantID(try row.id("id")), workspaceID: WorkspaceID(try row.id("workspace_id")),
            clientID: try ClientID(try row.text("client_id")), userID: try row.optionalID("user_id").map(UserID.init),
            scopes: try scopeSet(try row.text("scopes")), authTime: try row.optionalDate("auth_time"),
            amr: amr(try row.optionalText("amr")),
            resource: try row.optionalText("resource").map(ResourceIdentifier.init(trusted:)),
            createdAt: try row.date("created_at"), revokedAt: try row.optionalDate("revoked_at"))
    }

    static func initialAccessToken(_ row: some StoredRow) throws -> InitialAccessToken {
        InitialAccessToken(
            id: InitialAccessTokenID(try row.id("id")), workspaceID: WorkspaceID(try row.id("workspace_id")),
            digest: SecretDigest(storedHex: try row.text("digest")), label: try row.text("label"),
            scopes: try scopeSet(try row.text("scopes")), singleUse: try row.flag("single_use"),
            expiresAt: try row.optionalDate("expires_at"), createdBy: try row.optionalID("created_by").map(UserID.init),
            createdAt: try row.date("created_at"), uses: Int(try row.integer("uses")),
            lastUsedAt: try row.optionalDate("last_used_at"), revokedAt: try row.optionalDate("revoked_at"))
    }

    static func deviceCode(_ row: some StoredRow) throws -> DeviceCode {
        var approval: DeviceApproval?
        if let user = try row.optionalID("approved_user_id") {
            approval = DeviceApproval(
                userID: UserID(user), scopes: try scopeSet(try row.text("approved_scopes")),
                authTime: try row.date("auth_time"), amr: amr(try row.optionalText("amr")) ?? ["pwd"])
        }
        return DeviceCode(
            deviceDigest: SecretDigest(storedHex: try row.text("device_digest")),
            userCodeDigest: SecretDigest(storedHex: try row.text("user_code_digest")),
            workspaceID: WorkspaceID(try row.id("workspace_id")), clientID: try ClientID(try row.text("client_id")),
            requestedScopes: try row.optionalText("requested_scopes").map(scopeSet),
            resource: try row.optionalText("resource").map(ResourceIdentifier.init(trusted:)),
            createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"),
            interval: Int(try row.integer("poll_interval")), lastPolledAt: try row.optionalDate("last_polled_at"),
            approval: approval, deniedAt: try row.optionalDate("denied_at"),
            consumedAt: try row.optionalDate("consumed_at"))
    }

    static func resourceServer(_ row: some StoredRow) throws -> ResourceServer {
        ResourceServer(
            id: ResourceServerID(try row.id("id")), workspaceID: WorkspaceID(try row.id("workspace_id")),
            identifier: ResourceIdentifier(trusted: try row.text("identifier")), name: try row.text("name"),
            scopes: try scopeSet(try row.text("scopes")),
            accessTokenLifetime: try row.optionalInteger("access_token_lifetime").map { TimeInterval($0) },
            createdBy: try row.optionalID("created_by").map(UserID.init), createdAt: try row.date("created_at"))
    }

    static func refreshToken(_ row: some StoredRow) throws -> RefreshToken {
        RefreshToken(
            digest: SecretDigest(storedHex: try row.text("digest")), grantID: GrantID(try row.id("grant_id")),
            scopes: try scopeSet(try row.text("refresh_scopes")), issuedAt: try row.date("issued_at"),
            expiresAt: try row.date("expires_at"), usedAt: try row.optionalDate("used_at"))
    }

    static func consent(_ row: some StoredRow) throws -> Consent {
        Consent(
            userID: UserID(try row.id("user_id")), clientID: try ClientID(try row.text("client_id")),
            workspaceID: WorkspaceID(try row.id("workspace_id")), scopes: try scopeSet(try row.text("scopes")),
            terms: try terms(
                redirectURIs: try row.optionalText("client_redirect_uris"),
                grantTypes: try row.optionalText("client_grant_types"), scopes: try row.optionalText("client_scopes")),
            grantedAt: try row.date("granted_at"))
    }

    static func auditEvent(_ row: some StoredRow) throws -> AuditEvent {
        AuditEvent(
            sequence: try row.integer("sequence"), workspaceID: WorkspaceID(try row.id("workspace_id")),
            actor: AuditActor(
                user: try row.optionalID("actor_user_id").map(UserID.init),
                credential: try row.text("actor_credential")),
            action: try row.text("action"), targetKind: try row.text("target_kind"),
            targetID: try row.text("target_id"),
            address: try row.optionalText("address"), details: details(try row.text("details")),
            occurredAt: try row.date("occurred_at"))
    }
}
