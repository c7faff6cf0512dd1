import Foundation
import GRDB
import GatehouseCore
import PostgresNIO

/// A column's value as a row keeps it, before a dialect writes it: SQLite keeps ids as lowercase text and times
/// as microseconds since 1970; PostgreSQL as `uuid` and `timestamptz`.
enum StoredValue {
    case text(String?)
    case integer(Int64?)
    case flag(Bool)
    case id(UUID?)
    case date(Date?)
    /// JSON text, which PostgreSQL keeps as `jsonb`.
    case json(String)
}

/// A row to insert, written once for both dialects: its table, each column beside its value (so the column
/// list and the values cannot drift apart), and what a conflict does, in SQL both dialects read alike. Table and
/// column names are the code's own constants; every value is bound, never written into the SQL.
struct StoredInsert {
    let table: String
    let columns: KeyValuePairs<String, StoredValue>
    var onConflict: String? = nil

    var columnList: String { columns.map(\.key).joined(separator: ", ") }
    private var conflictClause: String { onConflict.map { " " + $0 } ?? "" }

    /// SQLite's statement, with `?` placeholders.
    var sqliteSQL: String {
        "INSERT INTO \(table) (\(columnList)) VALUES (\(repeatElement("?", count: columns.count).joined(separator: ", ")))"
            + conflictClause
    }

    var sqliteArguments: StatementArguments { StatementArguments(columns.map(\.value.sqlite)) }

    /// PostgreSQL's statement, with `$n` placeholders and typed binds.
    var postgresQuery: PostgresQuery {
        var binds = PostgresBindings(capacity: columns.count)
        let placeholders = columns.map { binds.append($0.value) }
        return PostgresQuery(
            unsafeSQL: "INSERT INTO \(table) (\(columnList)) VALUES (\(placeholders.joined(separator: ", ")))"
                + conflictClause,
            binds: binds)
    }

    /// PostgreSQL's one statement that runs `guarded` — an `UPDATE … RETURNING` that returns a row only when it
    /// changed one — and inserts `rows` only if it did, each insert taking its one row from the step before it.
    /// It returns a row when the guard changed its row. One statement is one atomic step, and one round trip where
    /// a transaction of the same took up to six. Foreign keys between the rows are checked at the statement's
    /// end, so a row may refer to one inserted in the step before.
    static func postgresQuery(_ rows: [StoredInsert], onlyIf guarded: PostgresQuery) -> PostgresQuery {
        var binds = guarded.binds
        var sql = "WITH step0 AS (\(guarded.sql))"
        for (index, row) in rows.enumerated() {
            let placeholders = row.columns.map { binds.append($0.value) }
            sql +=
                ", step\(index + 1) AS (INSERT INTO \(row.table) (\(row.columnList)) "
                + "SELECT \(placeholders.joined(separator: ", ")) FROM step\(index) RETURNING 1)"
        }
        return PostgresQuery(unsafeSQL: sql + " SELECT 1 FROM step\(rows.count)", binds: binds)
    }
}

/// A row to change, written once for both dialects: the columns it sets and those that find it. It must change
/// exactly one row; `record` names the row for `RecordNotFound`.
struct StoredUpdate {
    let table: String
    let set: KeyValuePairs<String, StoredValue>
    let matching: KeyValuePairs<String, StoredValue>
    let record: String

    /// SQLite's statement, with `?` placeholders.
    var sqliteSQL: String {
        "UPDATE \(table) SET \(set.map { "\($0.key) = ?" }.joined(separator: ", ")) WHERE "
            + matching.map { "\($0.key) = ?" }.joined(separator: " AND ")
    }

    var sqliteArguments: StatementArguments {
        StatementArguments(set.map(\.value.sqlite) + matching.map(\.value.sqlite))
    }

    /// PostgreSQL's statement, which returns the changed row's first matching column, so that changing no row is
    /// noticed.
    var postgresQuery: PostgresQuery {
        var binds = PostgresBindings(capacity: set.count + matching.count)
        let assignments = set.map { "\($0.key) = \(binds.append($0.value))" }
        let conditions = matching.map { "\($0.key) = \(binds.append($0.value))" }
        return PostgresQuery(
            unsafeSQL: "UPDATE \(table) SET \(assignments.joined(separator: ", ")) WHERE "
                + conditions.joined(separator: " AND ") + " RETURNING \(matching.first?.key ?? "1")",
            binds: binds)
    }
}

extension StoredValue {
    /// The value as SQLite keeps it.
    var sqlite: (any DatabaseValueConvertible)? {
        switch self {
        case .text(let text): text
        case .integer(let number): number
        case .flag(let flag): flag
        case .id(let id): id?.lowercasedText
        case .date(let date): date?.microsecondsSince1970
        case .json(let text): text
        }
    }
}

extension PostgresBindings {
    /// Binds `value` as PostgreSQL keeps it and returns its placeholder (`$n`, cast to `jsonb` for JSON).
    mutating func append(_ value: StoredValue) -> String {
        switch value {
        case .text(let text): append(text)
        case .integer(let number): append(number)
        case .flag(let flag): append(flag)
        case .id(let id): append(id)
        case .date(let date): append(date)
        case .json(let text): append(text)
        }
        if case .json = value { return "$\(count)::jsonb" }
        return "$\(count)"
    }
}

extension Database {
    /// Runs `row`'s insert, its statement prepared once and kept.
    func insert(_ row: StoredInsert) throws {
        try cachedExecute(sql: row.sqliteSQL, arguments: row.sqliteArguments)
    }

    /// Runs `row`'s update; `RecordNotFound` when it changes no row.
    func update(_ row: StoredUpdate) throws {
        try cachedExecute(sql: row.sqliteSQL, arguments: row.sqliteArguments)
        guard changesCount == 1 else { throw RecordNotFound(row.record) }
    }
}

/// The rows the domain types are stored as, the same columns on both backends.
extension StoredForm {
    static func row(_ workspace: Workspace) -> StoredInsert {
        StoredInsert(
            table: "workspaces",
            columns: [
                "id": .id(workspace.id.rawValue), "name": .text(workspace.name), "slug": .text(workspace.slug.value),
                "created_at": .date(workspace.createdAt),
                "require_admin_two_factor": .flag(workspace.requiresAdminTwoFactor),
                "client_registration": .text(workspace.clientRegistration.rawValue),
            ])
    }

    static func change(_ workspace: Workspace) -> StoredUpdate {
        StoredUpdate(
            table: "workspaces",
            set: [
                "name": .text(workspace.name), "require_admin_two_factor": .flag(workspace.requiresAdminTwoFactor),
                "client_registration": .text(workspace.clientRegistration.rawValue),
            ],
            matching: ["id": .id(workspace.id.rawValue)], record: "workspace \(workspace.id)")
    }

    static func row(_ user: User) -> StoredInsert {
        StoredInsert(
            table: "users",
            columns: [
                "id": .id(user.id.rawValue), "workspace_id": .id(user.workspaceID.rawValue),
                "email": .text(user.email.value), "name": .text(user.name), "employee_id": .text(user.employeeID),
                "title": .text(user.title), "department_id": .id(user.departmentID?.rawValue),
                "manager_id": .id(user.managerID?.rawValue), "role": .text(user.role.rawValue),
                "is_active": .flag(user.isActive), "privacy_notice_accepted_at": .date(user.privacyNoticeAcceptedAt),
                "password_hash": .text(user.passwordHash?.encoded), "created_at": .date(user.createdAt),
                "updated_at": .date(user.updatedAt),
            ])
    }

    static func row(_ department: Department) -> StoredInsert {
        StoredInsert(
            table: "departments",
            columns: [
                "id": .id(department.id.rawValue), "workspace_id": .id(department.workspaceID.rawValue),
                "name": .text(department.name), "created_at": .date(department.createdAt),
            ])
    }

    static func row(_ key: APIKey) -> StoredInsert {
        let owner = owner(key.owner)
        return StoredInsert(
            table: "api_keys",
            columns: [
                "id": .id(key.id.rawValue), "workspace_id": .id(key.workspaceID.rawValue),
                "owner_kind": .text(owner.kind),
                "owner_user_id": .id(owner.user?.rawValue), "owner_client_id": .text(owner.client?.value),
                "name": .text(key.name), "prefix": .text(key.prefix), "last_four": .text(key.lastFour),
                "secret_digest": .text(key.digest.hex), "pepper_version": .integer(Int64(key.digest.pepperVersion)),
                "scopes": .text(scopes(key.scopes)), "status": .text(key.status.rawValue),
                "rate_limit_per_minute": .integer(key.rateLimitPerMinute.map(Int64.init)),
                "created_by": .id(key.createdBy?.rawValue), "created_at": .date(key.createdAt),
                "updated_at": .date(key.updatedAt), "expires_at": .date(key.expiresAt),
                "last_used_at": .date(key.lastUsedAt),
            ])
    }

    static func row(_ definition: ScopeDefinition) -> StoredInsert {
        StoredInsert(
            table: "scope_definitions",
            columns: [
                "workspace_id": .id(definition.workspaceID.rawValue), "name": .text(definition.scope.name),
                "description": .text(definition.description), "roles": .text(roles(definition.roles)),
                "created_at": .date(definition.createdAt),
            ])
    }

    static func row(_ resource: ResourceServer) -> StoredInsert {
        StoredInsert(
            table: "resource_servers",
            columns: [
                "id": .id(resource.id.rawValue), "workspace_id": .id(resource.workspaceID.rawValue),
                "identifier": .text(resource.identifier.value), "name": .text(resource.name),
                "scopes": .text(scopeSet(resource.scopes)),
                "access_token_lifetime": .integer(resource.accessTokenLifetime.map { Int64($0) }),
                "created_by": .id(resource.createdBy?.rawValue), "created_at": .date(resource.createdAt),
            ])
    }

    static func row(_ token: InitialAccessToken) -> StoredInsert {
        StoredInsert(
            table: "initial_access_tokens",
            columns: [
                "id": .id(token.id.rawValue), "workspace_id": .id(token.workspaceID.rawValue),
                "digest": .text(token.digest.hex), "label": .text(token.label), "scopes": .text(scopeSet(token.scopes)),
                "single_use": .flag(token.singleUse), "expires_at": .date(token.expiresAt),
                "created_by": .id(token.createdBy?.rawValue), "created_at": .date(token.createdAt),
                "uses": .integer(Int64(token.uses)), "last_used_at": .date(token.lastUsedAt),
                "revoked_at": .date(token.revokedAt),
            ])
    }

    static func revocation(_ token: InitialAccessToken) -> StoredUpdate {
        StoredUpdate(
            table: "initial_access_tokens", set: ["revoked_at": .date(token.revokedAt)],
            matching: ["id": .id(token.id.rawValue)], record: "initial access token \(token.id)")
    }

    static func row(_ code: DeviceCode) -> StoredInsert {
        StoredInsert(
            table: "device_codes",
            columns: [
                "device_digest": .text(code.deviceDigest.hex), "user_code_digest": .text(code.userCodeDigest.hex),
                "workspace_id": .id(code.workspaceID.rawValue), "client_id": .text(code.clientID.value),
                "requested_scopes": .text(code.requestedScopes.map(scopeSet)), "resource": .text(code.resource?.value),
                "created_at": .date(code.createdAt), "expires_at": .date(code.expiresAt),
                "poll_interval": .integer(Int64(code.interval)), "last_polled_at": .date(code.lastPolledAt),
                "approved_user_id": .id(code.approval?.userID.rawValue),
                "approved_scopes": .text(code.approval.map { scopeSet($0.scopes) }),
                "auth_time": .date(code.approval?.authTime), "amr": .text(amr(code.approval?.amr)),
                "denied_at": .date(code.deniedAt), "consumed_at": .date(code.consumedAt),
            ])
    }

    static func row(_ event: AuditEvent) -> StoredInsert {
        StoredInsert(
            table: "audit_events",
            columns: [
                "workspace_id": .id(event.workspaceID.rawValue), "actor_user_id": .id(event.actor.user?.rawValue),
                "actor_credential": .text(event.actor.credential), "action": .text(event.action),
                "target_kind": .text(event.targetKind), "target_id": .text(event.targetID),
                "address": .text(event.address), "details": .json(details(event.details)),
                "occurred_at": .date(event.occurredAt),
            ])
    }

    static func row(_ client: ClientApplication) -> StoredInsert {
        StoredInsert(
            table: "clients",
            columns: [
                "client_id": .text(client.id.value), "workspace_id": .id(client.workspaceID.rawValue),
                "name": .text(client.name), "description": .text(client.description), "logo_url": .text(client.logoURL),
                "homepage_url": .text(client.homepageURL), "type": .text(client.type.rawValue),
                "redirect_uris": .text(redirectURIs(client.redirectURIs)),
                "post_logout_redirect_uris": .text(redirectURIs(client.postLogoutRedirectURIs)),
                "backchannel_logout_uri": .text(client.backchannelLogoutURI?.value),
                "id_token_signed_response_alg": .text(client.idTokenSigningAlgorithm.rawValue),
                "grant_types": .text(grantTypes(client.grantTypes)),
                "scopes": .text(scopeSet(client.scopes)), "secret_digest": .text(client.secret?.current.hex),
                "previous_secret_digest": .text(client.secret?.previous?.hex),
                "previous_secret_expires_at": .date(client.secret?.previousExpiresAt),
                "require_pkce": .flag(client.requirePKCE), "resource_server": .flag(client.isResourceServer),
                "is_disabled": .flag(client.isDisabled), "created_by": .id(client.createdBy?.rawValue),
                "registered_by": .text(client.registeredBy.rawValue),
                "registration_token_digest": .text(client.registrationTokenDigest?.hex),
                "token_endpoint_auth_method": .text(client.tokenEndpointAuthMethod?.rawValue),
                "last_used_at": .date(client.lastUsedAt), "metadata_expires_at": .date(client.metadataExpiresAt),
                "created_at": .date(client.createdAt), "updated_at": .date(client.updatedAt),
            ])
    }

    /// A new signing key, current until the next of its algorithm.
    static func row(_ key: StoredSigningKey) -> StoredInsert {
        StoredInsert(
            table: "signing_keys",
            columns: [
                "kid": .text(key.kid), "algorithm": .text(key.algorithm.rawValue), "public_key": .text(key.publicKey),
                "sealed_private_key": .text(key.sealedPrivateKey), "created_at": .date(key.createdAt),
                "retired_at": .date(key.retiredAt),
            ])
    }

    static func row(_ code: AuthorizationCode) -> StoredInsert {
        StoredInsert(
            table: "authorization_codes",
            columns: [
                "digest": .text(code.digest.hex), "grant_id": .id(code.grantID.rawValue),
                "workspace_id": .id(code.workspaceID.rawValue), "client_id": .text(code.clientID.value),
                "user_id": .id(code.userID.rawValue), "redirect_uri": .text(code.redirectURI),
                "scopes": .text(scopeSet(code.scopes)), "code_challenge": .text(code.challenge?.value),
                "nonce": .text(code.nonce), "auth_time": .date(code.authTime), "amr": .text(amr(code.amr)),
                "resource": .text(code.resource?.value), "issued_at": .date(code.issuedAt),
                "expires_at": .date(code.expiresAt), "consumed_at": .date(code.consumedAt),
            ])
    }

    static func row(_ grant: TokenGrant) -> StoredInsert {
        StoredInsert(
            table: "oauth_grants",
            columns: [
                "id": .id(grant.id.rawValue), "workspace_id": .id(grant.workspaceID.rawValue),
                "client_id": .text(grant.clientID.value), "user_id": .id(grant.userID?.rawValue),
                "scopes": .text(scopeSet(grant.scopes)), "auth_time": .date(grant.authTime),
                "amr": .text(amr(grant.amr)), "resource": .text(grant.resource?.value),
                "created_at": .date(grant.createdAt), "revoked_at": .date(grant.revokedAt),
            ])
    }

    static func row(_ refresh: RefreshToken) -> StoredInsert {
        StoredInsert(
            table: "refresh_tokens",
            columns: [
                "digest": .text(refresh.digest.hex), "grant_id": .id(refresh.grantID.rawValue),
                "scopes": .text(scopeSet(refresh.scopes)), "issued_at": .date(refresh.issuedAt),
                "expires_at": .date(refresh.expiresAt), "used_at": .date(refresh.usedAt),
            ])
    }

    /// The rows of issued tokens: the new grant first, then the refresh token that may refer to it.
    static func rows(_ tokens: IssuedTokens) -> [StoredInsert] {
        [tokens.newGrant.map(row), tokens.refreshToken.map(row)].compactMap { $0 }
    }

    static func row(_ link: PasswordLink) -> StoredInsert {
        StoredInsert(
            table: "password_links",
            columns: [
                "digest": .text(link.digest.hex), "user_id": .id(link.userID.rawValue),
                "workspace_id": .id(link.workspaceID.rawValue), "purpose": .text(link.purpose.rawValue),
                "created_at": .date(link.createdAt), "expires_at": .date(link.expiresAt),
            ],
            // A new link replaces the user's link of the same purpose, even when two are made at once.
            onConflict: """
                ON CONFLICT (user_id, purpose) DO UPDATE SET digest = excluded.digest,
                    workspace_id = excluded.workspace_id, created_at = excluded.created_at,
                    expires_at = excluded.expires_at
                """)
    }

    static func row(_ factor: StoredSecondFactor) -> StoredInsert {
        StoredInsert(
            table: "second_factors",
            columns: [
                "user_id": .id(factor.userID.rawValue), "workspace_id": .id(factor.workspaceID.rawValue),
                "sealed_secret": .text(factor.sealedSecret), "created_at": .date(factor.createdAt),
                "confirmed_at": .date(factor.confirmedAt), "last_used_step": .integer(factor.lastUsedStep),
            ],
            onConflict: """
                ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret,
                    created_at = excluded.created_at, confirmed_at = excluded.confirmed_at,
                    last_used_step = excluded.last_used_step
                """)
    }

    static func recoveryCode(_ digest: SecretDigest, of user: UserID) -> StoredInsert {
        StoredInsert(table: "recovery_codes", columns: ["user_id": .id(user.rawValue), "digest": .text(digest.hex)])
    }

    static func row(_ session: WebSession) -> StoredInsert {
        StoredInsert(
            table: "web_sessions",
            columns: [
                "digest": .text(session.digest.hex), "user_id": .id(session.userID.rawValue),
                "workspace_id": .id(session.workspaceID.rawValue), "auth_time": .date(session.authTime),
                "expires_at": .date(session.expiresAt), "last_seen_at": .date(session.lastSeenAt),
                "user_agent": .text(session.userAgent), "address": .text(session.address),
                "amr": .text(amr(session.amr)), "awaits_second_factor": .flag(session.awaitsSecondFactor),
            ])
    }

    /// A consent given again replaces the one before: its scopes, the client's terms and the time.
    static func row(_ consent: Consent) -> StoredInsert {
        let terms = terms(consent.terms)
        return StoredInsert(
            table: "consents",
            columns: [
                "user_id": .id(consent.userID.rawValue), "client_id": .text(consent.clientID.value),
                "workspace_id": .id(consent.workspaceID.rawValue), "scopes": .text(scopeSet(consent.scopes)),
                "client_redirect_uris": .text(terms.redirectURIs), "client_grant_types": .text(terms.grantTypes),
                "client_scopes": .text(terms.scopes), "granted_at": .date(consent.grantedAt),
            ],
            onConflict: """
                ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes,
                    client_redirect_uris = excluded.client_redirect_uris, client_grant_types = excluded.client_grant_types,
                    client_scopes = excluded.client_scopes, granted_at = excluded.granted_at
                """)
    }

    static func change(_ user: User) -> StoredUpdate {
        StoredUpdate(
            table: "users",
            set: [
                "email": .text(user.email.value), "name": .text(user.name), "employee_id": .text(user.employeeID),
                "title": .text(user.title), "department_id": .id(user.departmentID?.rawValue),
                "manager_id": .id(user.managerID?.rawValue), "role": .text(user.role.rawValue),
                "is_active": .flag(user.isActive), "privacy_notice_accepted_at": .date(user.privacyNoticeAcceptedAt),
                "password_hash": .text(user.passwordHash?.encoded), "updated_at": .date(user.updatedAt),
            ],
            matching: ["id": .id(user.id.rawValue), "workspace_id": .id(user.workspaceID.rawValue)],
            record: "user \(user.id)")
    }

    static func change(_ key: APIKey) -> StoredUpdate {
        StoredUpdate(
            table: "api_keys",
            set: [
                "name": .text(key.name), "scopes": .text(scopes(key.scopes)), "status": .text(key.status.rawValue),
                "rate_limit_per_minute": .integer(key.rateLimitPerMinute.map(Int64.init)),
                "updated_at": .date(key.updatedAt), "expires_at": .date(key.expiresAt),
            ],
            matching: ["id": .id(key.id.rawValue), "workspace_id": .id(key.workspaceID.rawValue)],
            record: "api key \(key.id)")
    }

    /// Replaces every setting of the client, its secret digests included.
    static func change(_ client: ClientApplication) -> StoredUpdate {
        StoredUpdate(
            table: "clients",
            set: [
                "name": .text(client.name), "description": .text(client.description), "logo_url": .text(client.logoURL),
                "homepage_url": .text(client.homepageURL), "redirect_uris": .text(redirectURIs(client.redirectURIs)),
                "post_logout_redirect_uris": .text(redirectURIs(client.postLogoutRedirectURIs)),
                "backchannel_logout_uri": .text(client.backchannelLogoutURI?.value),
                "id_token_signed_response_alg": .text(client.idTokenSigningAlgorithm.rawValue),
                "grant_types": .text(grantTypes(client.grantTypes)), "scopes": .text(scopeSet(client.scopes)),
                "secret_digest": .text(client.secret?.current.hex),
                "previous_secret_digest": .text(client.secret?.previous?.hex),
                "previous_secret_expires_at": .date(client.secret?.previousExpiresAt),
                "require_pkce": .flag(client.requirePKCE), "resource_server": .flag(client.isResourceServer),
                "is_disabled": .flag(client.isDisabled),
                "registration_token_digest": .text(client.registrationTokenDigest?.hex),
                "token_endpoint_auth_method": .text(client.tokenEndpointAuthMethod?.rawValue),
                "last_used_at": .date(client.lastUsedAt), "metadata_expires_at": .date(client.metadataExpiresAt),
                "updated_at": .date(client.updatedAt),
            ],
            matching: ["client_id": .text(client.id.value), "workspace_id": .id(client.workspaceID.rawValue)],
            record: "client \(client.id)")
    }
}
