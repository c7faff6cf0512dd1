/// The SQLite schema, one migration per change. Times are integer microseconds since 1970 (UTC);
/// identifiers are lowercase UUID text.
enum SQLiteMigrations {
    static let all: [Migration] = [
        Migration(
            version: 1, name: "directory",
            statements: [
                """
                CREATE TABLE workspaces (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    slug TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL
                )
                """,
                """
                CREATE TABLE departments (
                    id TEXT PRIMARY KEY NOT NULL,
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    name TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    UNIQUE (workspace_id, name),
                    UNIQUE (workspace_id, id)
                )
                """,
                """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY NOT NULL,
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    email TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    employee_id TEXT,
                    title TEXT,
                    department_id TEXT,
                    manager_id TEXT,
                    role TEXT NOT NULL CHECK (role IN ('super_admin', 'admin', 'hr_admin', 'user')),
                    is_active INTEGER NOT NULL CHECK (is_active IN (0, 1)),
                    privacy_notice_accepted_at INTEGER,
                    password_hash TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    UNIQUE (workspace_id, id),
                    FOREIGN KEY (workspace_id, department_id) REFERENCES departments(workspace_id, id),
                    FOREIGN KEY (workspace_id, manager_id) REFERENCES users(workspace_id, id)
                )
                """,
                """
                CREATE INDEX users_by_workspace ON users(workspace_id, email)
                """,
            ]),
        Migration(
            version: 2, name: "access",
            statements: [
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY NOT NULL,
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('user', 'client')),
                    owner_user_id TEXT,
                    name TEXT NOT NULL,
                    prefix TEXT NOT NULL,
                    last_four TEXT NOT NULL,
                    secret_digest TEXT NOT NULL UNIQUE,
                    pepper_version INTEGER NOT NULL,
                    scopes TEXT,
                    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
                    rate_limit_per_minute INTEGER,
                    created_by TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    expires_at INTEGER,
                    last_used_at INTEGER,
                    CHECK (owner_kind <> 'user' OR owner_user_id IS NOT NULL),
                    FOREIGN KEY (workspace_id, owner_user_id) REFERENCES users(workspace_id, id)
                )
                """,
                "CREATE INDEX api_keys_by_workspace ON api_keys(workspace_id, created_at)",
                "CREATE INDEX api_keys_by_owner_user ON api_keys(owner_user_id)",
                """
                CREATE TABLE scope_definitions (
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    name TEXT NOT NULL,
                    description TEXT NOT NULL,
                    roles TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (workspace_id, name)
                )
                """,
                """
                CREATE TABLE rate_limit_windows (
                    bucket TEXT NOT NULL,
                    window_start INTEGER NOT NULL,
                    count INTEGER NOT NULL,
                    PRIMARY KEY (bucket, window_start)
                ) WITHOUT ROWID
                """,
                """
                CREATE TABLE audit_events (
                    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    actor_user_id TEXT,
                    actor_credential TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target_kind TEXT NOT NULL,
                    target_id TEXT NOT NULL,
                    address TEXT,
                    details TEXT NOT NULL,
                    occurred_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX audit_events_by_workspace ON audit_events(workspace_id, sequence)",
            ]),
        Migration(
            version: 3, name: "clients",
            statements: [
                // redirect_uris: one per line; grant_types and scopes: sorted and space-separated.
                """
                CREATE TABLE clients (
                    client_id TEXT PRIMARY KEY NOT NULL,
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    name TEXT NOT NULL,
                    description TEXT,
                    logo_url TEXT,
                    homepage_url TEXT,
                    type TEXT NOT NULL CHECK (type IN ('confidential', 'public')),
                    redirect_uris TEXT NOT NULL,
                    grant_types TEXT NOT NULL,
                    scopes TEXT NOT NULL,
                    secret_digest TEXT,
                    previous_secret_digest TEXT,
                    previous_secret_expires_at INTEGER,
                    is_disabled INTEGER NOT NULL CHECK (is_disabled IN (0, 1)),
                    created_by TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    CHECK ((type = 'confidential') = (secret_digest IS NOT NULL))
                )
                """,
                "CREATE INDEX clients_by_workspace ON clients(workspace_id, client_id)",
                "ALTER TABLE api_keys ADD COLUMN owner_client_id TEXT REFERENCES clients(client_id)",
                "CREATE INDEX api_keys_by_owner_client ON api_keys(owner_client_id)",
            ]),
        Migration(
            version: 4, name: "oauth",
            statements: [
                """
                ALTER TABLE clients ADD COLUMN require_pkce INTEGER NOT NULL DEFAULT 1 CHECK (require_pkce IN (0, 1))
                """,
                // The OpenID scopes arrive now; clients that had the personal scope get them too.
                "UPDATE clients SET scopes = scopes || ' email openid' WHERE ' ' || scopes || ' ' LIKE '% profile %'",
                """
                CREATE TABLE signing_keys (
                    kid TEXT PRIMARY KEY NOT NULL,
                    public_key TEXT NOT NULL,
                    sealed_private_key TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    retired_at INTEGER
                )
                """,
                """
                CREATE TABLE oauth_grants (
                    id TEXT PRIMARY KEY NOT NULL,
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    client_id TEXT NOT NULL REFERENCES clients(client_id),
                    user_id TEXT REFERENCES users(id),
                    scopes TEXT NOT NULL,
                    auth_time INTEGER,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER
                )
                """,
                "CREATE INDEX oauth_grants_by_user ON oauth_grants(user_id, client_id)",
                "CREATE INDEX oauth_grants_by_client ON oauth_grants(client_id)",
                """
                CREATE TABLE authorization_codes (
                    digest TEXT PRIMARY KEY NOT NULL,
                    grant_id TEXT NOT NULL,
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    client_id TEXT NOT NULL REFERENCES clients(client_id),
                    user_id TEXT NOT NULL REFERENCES users(id),
                    redirect_uri TEXT,
                    scopes TEXT NOT NULL,
                    code_challenge TEXT,
                    nonce TEXT,
                    auth_time INTEGER NOT NULL,
                    issued_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    consumed_at INTEGER
                )
                """,
                "CREATE INDEX authorization_codes_by_client ON authorization_codes(client_id)",
                """
                CREATE TABLE access_tokens (
                    jti TEXT PRIMARY KEY NOT NULL,
                    grant_id TEXT NOT NULL REFERENCES oauth_grants(id),
                    expires_at INTEGER NOT NULL,
                    revoked_at INTEGER
                )
                """,
                "CREATE INDEX access_tokens_by_grant ON access_tokens(grant_id)",
                """
                CREATE TABLE refresh_tokens (
                    digest TEXT PRIMARY KEY NOT NULL,
                    grant_id TEXT NOT NULL REFERENCES oauth_grants(id),
                    scopes TEXT NOT NULL,
                    issued_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    used_at INTEGER
                )
                """,
                "CREATE INDEX refresh_tokens_by_grant ON refresh_tokens(grant_id)",
                """
                CREATE TABLE consents (
                    user_id TEXT NOT NULL REFERENCES users(id),
                    client_id TEXT NOT NULL REFERENCES clients(client_id),
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    scopes TEXT NOT NULL,
                    granted_at INTEGER NOT NULL,
                    PRIMARY KEY (user_id, client_id)
                )
                """,
                "CREATE INDEX consents_by_client ON consents(client_id)",
                """
                CREATE TABLE web_sessions (
                    digest TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    auth_time INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX web_sessions_by_user ON web_sessions(user_id)",
            ]),
        Migration(
            version: 5, name: "web_session_idle",
            statements: [
                // Sessions end after 30 idle minutes; existing ones count as last used when they signed in.
                "ALTER TABLE web_sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0",
                "UPDATE web_sessions SET last_seen_at = auth_time",
            ]),
        Migration(
            version: 6, name: "credential_epoch",
            statements: [
                // One counter raised, in the same transaction, by every change that can alter what a key or token
                // may do, by whichever process makes it; instances compare it with what their caches were read at.
                "CREATE TABLE credential_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)",
                "INSERT INTO credential_epoch (id, value) VALUES (1, 0)",
                """
                CREATE TRIGGER api_keys_changed AFTER UPDATE OF status, scopes, expires_at, rate_limit_per_minute, secret_digest, owner_user_id, owner_client_id ON api_keys
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
                """
                CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
                """
                CREATE TRIGGER users_changed AFTER UPDATE ON users
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
                """
                CREATE TRIGGER users_deleted AFTER DELETE ON users
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
                """
                CREATE TRIGGER clients_changed AFTER UPDATE ON clients
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
                """
                CREATE TRIGGER clients_deleted AFTER DELETE ON clients
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
                """
                CREATE TRIGGER scope_definitions_added AFTER INSERT ON scope_definitions
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
                """
                CREATE TRIGGER scope_definitions_changed AFTER UPDATE ON scope_definitions
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
                """
                CREATE TRIGGER scope_definitions_deleted AFTER DELETE ON scope_definitions
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
                """
                CREATE TRIGGER oauth_grants_revoked AFTER UPDATE OF revoked_at ON oauth_grants
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
                """
                CREATE TRIGGER oauth_grants_deleted AFTER DELETE ON oauth_grants
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
                """
                CREATE TRIGGER access_tokens_revoked AFTER UPDATE OF revoked_at ON access_tokens
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
                """
                CREATE TRIGGER access_tokens_deleted AFTER DELETE ON access_tokens
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
            ]),
        Migration(
            version: 7, name: "revoked_client_tokens",
            statements: [
                // Client-credentials tokens carry all they grant and have no row; revoking one records its id here
                // until it expires, and raises the epoch like any other revocation.
                """
                CREATE TABLE revoked_client_tokens (
                    jti TEXT PRIMARY KEY NOT NULL,
                    client_id TEXT NOT NULL,
                    expires_at INTEGER NOT NULL,
                    revoked_at INTEGER NOT NULL
                ) WITHOUT ROWID
                """,
                """
                CREATE TRIGGER revoked_client_tokens_added AFTER INSERT ON revoked_client_tokens
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
            ]),
        Migration(
            version: 8, name: "revoked_access_tokens",
            statements: [
                // Every access token now carries what it grants and names its grant: none is stored, and revoking
                // one records its id on the one revocation list. Tokens issued before this version, which name no
                // grant, are refused; they lived minutes, and their clients refresh or ask again.
                "ALTER TABLE revoked_client_tokens RENAME TO revoked_access_tokens",
                "DROP TRIGGER revoked_client_tokens_added",
                """
                CREATE TRIGGER revoked_access_tokens_added AFTER INSERT ON revoked_access_tokens
                BEGIN UPDATE credential_epoch SET value = value + 1 WHERE id = 1; END
                """,
                "DROP TABLE access_tokens",
            ]),
        Migration(
            version: 9, name: "consent_terms_and_resource_servers",
            statements: [
                // A consent covers the client as it was when given: its redirect URIs, grant types and scopes
                // then. Consents stored before this version have none, and cover no client: users are asked again.
                "ALTER TABLE consents ADD COLUMN client_redirect_uris TEXT",
                "ALTER TABLE consents ADD COLUMN client_grant_types TEXT",
                "ALTER TABLE consents ADD COLUMN client_scopes TEXT",
                // A resource server may introspect any credential of its workspace; other clients only their own.
                """
                ALTER TABLE clients ADD COLUMN resource_server INTEGER NOT NULL DEFAULT 0
                    CHECK (resource_server IN (0, 1))
                """,
            ]),
        Migration(
            version: 10, name: "rsa_signing_keys_and_logout",
            statements: [
                // The installation keeps a current key of each algorithm; the keys stored so far are ES256.
                """
                ALTER TABLE signing_keys ADD COLUMN algorithm TEXT NOT NULL DEFAULT 'ES256'
                    CHECK (algorithm IN ('ES256', 'RS256'))
                """,
                // New clients default to RS256 ID tokens; the clients there are keep the ES256 their apps verify.
                """
                ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'ES256'
                    CHECK (id_token_signed_response_alg IN ('ES256', 'RS256'))
                """,
                "ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT",
            ]),
        Migration(
            version: 11, name: "web_session_details",
            statements: [
                // What a person sees of each of their sessions on /account; unknown for the sessions there are.
                "ALTER TABLE web_sessions ADD COLUMN user_agent TEXT",
                "ALTER TABLE web_sessions ADD COLUMN address TEXT",
            ]),
        Migration(
            version: 12, name: "password_links",
            statements: [
                // One-time links to set a password (only digests of their tokens): at most one of each purpose
                // per user.
                """
                CREATE TABLE password_links (
                    digest TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users(id),
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    purpose TEXT NOT NULL CHECK (purpose IN ('invitation', 'reset')),
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    UNIQUE (user_id, purpose)
                )
                """,
                "CREATE INDEX password_links_by_workspace ON password_links(workspace_id)",
            ]),
        Migration(
            version: 13, name: "two_factor",
            statements: [
                // A user's TOTP secret, sealed with the installation secret; unconfirmed until a first code.
                """
                CREATE TABLE second_factors (
                    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id),
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    sealed_secret TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    confirmed_at INTEGER,
                    last_used_step INTEGER
                )
                """,
                // Digests of the recovery codes, each used once.
                """
                CREATE TABLE recovery_codes (
                    user_id TEXT NOT NULL REFERENCES users(id),
                    digest TEXT NOT NULL,
                    used_at INTEGER,
                    PRIMARY KEY (user_id, digest)
                )
                """,
                // How a session's person proved who they are (OIDC amr), and whether a second factor is awaited.
                "ALTER TABLE web_sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd'",
                """
                ALTER TABLE web_sessions ADD COLUMN awaits_second_factor INTEGER NOT NULL DEFAULT 0
                    CHECK (awaits_second_factor IN (0, 1))
                """,
                "ALTER TABLE authorization_codes ADD COLUMN amr TEXT",
                "ALTER TABLE oauth_grants ADD COLUMN amr TEXT",
            ]),
        Migration(
            version: 14, name: "admin_two_factor_policy",
            statements: [
                """
                ALTER TABLE workspaces ADD COLUMN require_admin_two_factor INTEGER NOT NULL DEFAULT 0
                    CHECK (require_admin_two_factor IN (0, 1))
                """
            ]),
        Migration(
            version: 15, name: "known_devices",
            statements: [
                // The browsers each user signed in from (digests of a long-lived cookie): a new one is told of.
                """
                CREATE TABLE known_devices (
                    user_id TEXT NOT NULL REFERENCES users(id),
                    digest TEXT NOT NULL,
                    first_seen_at INTEGER NOT NULL,
                    PRIMARY KEY (user_id, digest)
                )
                """
            ]),
        Migration(
            version: 16, name: "resource_servers",
            statements: [
                // The APIs of a workspace that tokens may be asked for (RFC 8707); the identifier is their `aud`.
                """
                CREATE TABLE resource_servers (
                    id TEXT PRIMARY KEY NOT NULL,
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    identifier TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    scopes TEXT NOT NULL,
                    access_token_lifetime INTEGER,
                    created_by TEXT,
                    created_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX resource_servers_by_workspace ON resource_servers(workspace_id, identifier)",
                "ALTER TABLE authorization_codes ADD COLUMN resource TEXT",
                "ALTER TABLE oauth_grants ADD COLUMN resource TEXT",
            ]),
        Migration(
            version: 17, name: "dynamic_registration",
            statements: [
                // Who registered a client, and what a client that registered itself holds (RFC 7591, RFC 7592).
                """
                ALTER TABLE clients ADD COLUMN registered_by TEXT NOT NULL DEFAULT 'admin'
                    CHECK (registered_by IN ('admin', 'app', 'app_with_token', 'metadata_document'))
                """,
                "ALTER TABLE clients ADD COLUMN registration_token_digest TEXT",
                "ALTER TABLE clients ADD COLUMN token_endpoint_auth_method TEXT",
                "ALTER TABLE clients ADD COLUMN last_used_at INTEGER",
                "ALTER TABLE clients ADD COLUMN metadata_expires_at INTEGER",
                "CREATE INDEX clients_by_registrant ON clients(registered_by, last_used_at)",
                """
                ALTER TABLE workspaces ADD COLUMN client_registration TEXT NOT NULL DEFAULT 'off'
                    CHECK (client_registration IN ('off', 'token', 'open'))
                """,
                // Tokens an admin issues for apps to register with; digests only.
                """
                CREATE TABLE initial_access_tokens (
                    id TEXT PRIMARY KEY NOT NULL,
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    digest TEXT NOT NULL UNIQUE,
                    label TEXT NOT NULL,
                    scopes TEXT NOT NULL,
                    single_use INTEGER NOT NULL CHECK (single_use IN (0, 1)),
                    expires_at INTEGER,
                    created_by TEXT,
                    created_at INTEGER NOT NULL,
                    uses INTEGER NOT NULL DEFAULT 0,
                    last_used_at INTEGER,
                    revoked_at INTEGER
                )
                """,
                "CREATE INDEX initial_access_tokens_by_workspace ON initial_access_tokens(workspace_id, created_at)",
            ]),
        Migration(
            version: 18, name: "device_codes",
            statements: [
                // Device authorization requests (RFC 8628): digests of both codes, and the person's answer.
                """
                CREATE TABLE device_codes (
                    device_digest TEXT PRIMARY KEY NOT NULL,
                    user_code_digest TEXT NOT NULL UNIQUE,
                    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
                    client_id TEXT NOT NULL REFERENCES clients(client_id),
                    requested_scopes TEXT,
                    resource TEXT,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    poll_interval INTEGER NOT NULL,
                    last_polled_at INTEGER,
                    approved_user_id TEXT REFERENCES users(id),
                    approved_scopes TEXT,
                    auth_time INTEGER,
                    amr TEXT,
                    decided_at INTEGER,
                    denied_at INTEGER,
                    consumed_at INTEGER
                )
                """,
                "CREATE INDEX device_codes_by_client ON device_codes(client_id)",
            ]),
        Migration(
            version: 19, name: "retention",
            statements: [
                // Retention deletes the events older than the period kept, oldest first.
                "CREATE INDEX audit_events_by_time ON audit_events(occurred_at)"
            ]),
        Migration(
            // PostgreSQL's rate-limit and instance leases. One process serves an SQLite file and counts its windows
            // in memory: nothing to store. Kept so both backends number their versions alike.
            version: 20, name: "leases", statements: []),
    ]
}
