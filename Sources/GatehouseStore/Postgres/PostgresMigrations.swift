/// The PostgreSQL schema, one migration per change, mirroring `SQLiteMigrations` with native types.
enum PostgresMigrations {
    static let all: [Migration] = [
        Migration(
            version: 1, name: "directory",
            statements: [
                """
                CREATE TABLE workspaces (
                    id uuid PRIMARY KEY,
                    name text NOT NULL,
                    slug text NOT NULL CONSTRAINT workspaces_slug_key UNIQUE,
                    created_at timestamptz NOT NULL
                )
                """,
                """
                CREATE TABLE departments (
                    id uuid PRIMARY KEY,
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    name text NOT NULL,
                    created_at timestamptz NOT NULL,
                    CONSTRAINT departments_name_key UNIQUE (workspace_id, name),
                    CONSTRAINT departments_workspace_id_id_key UNIQUE (workspace_id, id)
                )
                """,
                """
                CREATE TABLE users (
                    id uuid PRIMARY KEY,
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    email text NOT NULL CONSTRAINT users_email_key UNIQUE,
                    name text NOT NULL,
                    employee_id text,
                    title text,
                    department_id uuid,
                    manager_id uuid,
                    role text NOT NULL CHECK (role IN ('super_admin', 'admin', 'hr_admin', 'user')),
                    is_active boolean NOT NULL,
                    privacy_notice_accepted_at timestamptz,
                    password_hash text,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    CONSTRAINT users_workspace_id_id_key UNIQUE (workspace_id, id),
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
                    id uuid PRIMARY KEY,
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    owner_kind text NOT NULL CHECK (owner_kind IN ('user', 'client')),
                    owner_user_id uuid,
                    name text NOT NULL,
                    prefix text NOT NULL,
                    last_four text NOT NULL,
                    secret_digest text NOT NULL CONSTRAINT api_keys_secret_digest_key UNIQUE,
                    pepper_version integer NOT NULL,
                    scopes text,
                    status text NOT NULL CHECK (status IN ('active', 'revoked')),
                    rate_limit_per_minute integer,
                    created_by uuid,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    expires_at timestamptz,
                    last_used_at timestamptz,
                    CHECK (owner_kind <> 'user' OR owner_user_id IS NOT NULL),
                    FOREIGN KEY (workspace_id, owner_user_id) REFERENCES users(workspace_id, id)
                )
                """,
                "CREATE INDEX api_keys_by_workspace ON api_keys(workspace_id, created_at)",
                "CREATE INDEX api_keys_by_owner_user ON api_keys(owner_user_id)",
                """
                CREATE TABLE scope_definitions (
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    name text NOT NULL,
                    description text NOT NULL,
                    roles text NOT NULL,
                    created_at timestamptz NOT NULL,
                    CONSTRAINT scope_definitions_pkey PRIMARY KEY (workspace_id, name)
                )
                """,
                """
                CREATE TABLE rate_limit_windows (
                    bucket text NOT NULL,
                    window_start bigint NOT NULL,
                    count integer NOT NULL,
                    PRIMARY KEY (bucket, window_start)
                )
                """,
                """
                CREATE TABLE audit_events (
                    sequence bigserial PRIMARY KEY,
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    actor_user_id uuid,
                    actor_credential text NOT NULL,
                    action text NOT NULL,
                    target_kind text NOT NULL,
                    target_id text NOT NULL,
                    address text,
                    details jsonb NOT NULL,
                    occurred_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX audit_events_by_workspace ON audit_events(workspace_id, sequence)",
            ]),
        Migration(
            version: 3, name: "clients",
            statements: [
                // redirect_uris: one per line; grant_types and scopes: sorted and space-separated. client_id
                // sorts bytewise ("C"), as SQLite does, so pages come in the same order on both.
                """
                CREATE TABLE clients (
                    client_id text COLLATE "C" CONSTRAINT clients_pkey PRIMARY KEY,
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    name text NOT NULL,
                    description text,
                    logo_url text,
                    homepage_url text,
                    type text NOT NULL CHECK (type IN ('confidential', 'public')),
                    redirect_uris text NOT NULL,
                    grant_types text NOT NULL,
                    scopes text NOT NULL,
                    secret_digest text,
                    previous_secret_digest text,
                    previous_secret_expires_at timestamptz,
                    is_disabled boolean NOT NULL,
                    created_by uuid,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    CHECK ((type = 'confidential') = (secret_digest IS NOT NULL))
                )
                """,
                "CREATE INDEX clients_by_workspace ON clients(workspace_id, client_id)",
                "ALTER TABLE api_keys ADD COLUMN owner_client_id text REFERENCES clients(client_id)",
                "CREATE INDEX api_keys_by_owner_client ON api_keys(owner_client_id)",
            ]),
        Migration(
            version: 4, name: "oauth",
            statements: [
                "ALTER TABLE clients ADD COLUMN require_pkce boolean NOT NULL DEFAULT true",
                // The OpenID scopes arrive now; clients that had the personal scope get them too.
                "UPDATE clients SET scopes = scopes || ' email openid' WHERE ' ' || scopes || ' ' LIKE '% profile %'",
                """
                CREATE TABLE signing_keys (
                    kid text PRIMARY KEY,
                    public_key text NOT NULL,
                    sealed_private_key text NOT NULL,
                    created_at timestamptz NOT NULL,
                    retired_at timestamptz
                )
                """,
                """
                CREATE TABLE oauth_grants (
                    id uuid PRIMARY KEY,
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    client_id text NOT NULL REFERENCES clients(client_id),
                    user_id uuid REFERENCES users(id),
                    scopes text NOT NULL,
                    auth_time timestamptz,
                    created_at timestamptz NOT NULL,
                    revoked_at timestamptz
                )
                """,
                "CREATE INDEX oauth_grants_by_user ON oauth_grants(user_id, client_id)",
                "CREATE INDEX oauth_grants_by_client ON oauth_grants(client_id)",
                """
                CREATE TABLE authorization_codes (
                    digest text PRIMARY KEY,
                    grant_id uuid NOT NULL,
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    client_id text NOT NULL REFERENCES clients(client_id),
                    user_id uuid NOT NULL REFERENCES users(id),
                    redirect_uri text,
                    scopes text NOT NULL,
                    code_challenge text,
                    nonce text,
                    auth_time timestamptz NOT NULL,
                    issued_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    consumed_at timestamptz
                )
                """,
                "CREATE INDEX authorization_codes_by_client ON authorization_codes(client_id)",
                """
                CREATE TABLE access_tokens (
                    jti text PRIMARY KEY,
                    grant_id uuid NOT NULL REFERENCES oauth_grants(id),
                    expires_at timestamptz NOT NULL,
                    revoked_at timestamptz
                )
                """,
                "CREATE INDEX access_tokens_by_grant ON access_tokens(grant_id)",
                """
                CREATE TABLE refresh_tokens (
                    digest text PRIMARY KEY,
                    grant_id uuid NOT NULL REFERENCES oauth_grants(id),
                    scopes text NOT NULL,
                    issued_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    used_at timestamptz
                )
                """,
                "CREATE INDEX refresh_tokens_by_grant ON refresh_tokens(grant_id)",
                """
                CREATE TABLE consents (
                    user_id uuid NOT NULL REFERENCES users(id),
                    client_id text NOT NULL REFERENCES clients(client_id),
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    scopes text NOT NULL,
                    granted_at timestamptz NOT NULL,
                    PRIMARY KEY (user_id, client_id)
                )
                """,
                "CREATE INDEX consents_by_client ON consents(client_id)",
                """
                CREATE TABLE web_sessions (
                    digest text PRIMARY KEY,
                    user_id uuid NOT NULL REFERENCES users(id),
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    auth_time timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX web_sessions_by_user ON web_sessions(user_id)",
            ]),
        Migration(
            version: 5, name: "web_session_idle",
            statements: [
                // Sessions end after 30 idle minutes; existing ones count as last used when they signed in.
                "ALTER TABLE web_sessions ADD COLUMN last_seen_at timestamptz",
                "UPDATE web_sessions SET last_seen_at = auth_time",
                "ALTER TABLE web_sessions ALTER COLUMN last_seen_at SET NOT NULL",
            ]),
        Migration(
            version: 6, name: "credential_epoch",
            statements: [
                // One counter raised, in the same transaction, by every change that can alter what a key or token
                // may do, by whichever process makes it; instances compare it with what their caches were read at,
                // and hear of each raise at once on the channel gatehouse_credentials_<schema>.
                "CREATE TABLE credential_epoch (id smallint PRIMARY KEY CHECK (id = 1), value bigint NOT NULL)",
                "INSERT INTO credential_epoch (id, value) VALUES (1, 0)",
                """
                CREATE FUNCTION gatehouse_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE raised bigint;
                BEGIN
                    UPDATE credential_epoch SET value = value + 1 WHERE id = 1 RETURNING value INTO raised;
                    PERFORM pg_notify('gatehouse_credentials_' || current_schema(), raised::text);
                    RETURN NULL;
                END
                $$
                """,
                """
                CREATE TRIGGER api_keys_changed AFTER UPDATE OF status, scopes, expires_at, rate_limit_per_minute, secret_digest, owner_user_id, owner_client_id OR DELETE ON api_keys
                FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_credentials_changed()
                """,
                """
                CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users
                FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_credentials_changed()
                """,
                """
                CREATE TRIGGER clients_changed AFTER UPDATE OR DELETE ON clients
                FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_credentials_changed()
                """,
                """
                CREATE TRIGGER scope_definitions_changed AFTER INSERT OR UPDATE OR DELETE ON scope_definitions
                FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_credentials_changed()
                """,
                """
                CREATE TRIGGER oauth_grants_changed AFTER UPDATE OF revoked_at OR DELETE ON oauth_grants
                FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_credentials_changed()
                """,
                """
                CREATE TRIGGER access_tokens_changed AFTER UPDATE OF revoked_at OR DELETE ON access_tokens
                FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_credentials_changed()
                """,
            ]),
        Migration(
            version: 7, name: "revoked_client_tokens",
            statements: [
                // Client-credentials tokens carry all they grant and have no row; revoking one records its id here
                // until it expires, and raises the epoch like any other revocation.
                """
                CREATE TABLE revoked_client_tokens (
                    jti text PRIMARY KEY,
                    client_id text NOT NULL,
                    expires_at timestamptz NOT NULL,
                    revoked_at timestamptz NOT NULL
                )
                """,
                // For each row: a statement trigger would fire for a repeated revocation that inserted nothing.
                """
                CREATE TRIGGER revoked_client_tokens_added AFTER INSERT ON revoked_client_tokens
                FOR EACH ROW EXECUTE FUNCTION gatehouse_credentials_changed()
                """,
            ]),
        Migration(
            version: 8, name: "revoked_access_tokens",
            statements: [
                // Every access token now carries what it grants and names its grant: none is stored, and revoking
                // one records its id on the one revocation list. Tokens issued before this version, which name no
                // grant, are refused; they lived minutes, and their clients refresh or ask again.
                "ALTER TABLE revoked_client_tokens RENAME TO revoked_access_tokens",
                "ALTER TRIGGER revoked_client_tokens_added ON revoked_access_tokens RENAME TO revoked_access_tokens_added",
                "DROP TABLE access_tokens",
            ]),
        Migration(
            version: 9, name: "consent_terms_resource_servers_and_sign_in_attempts",
            statements: [
                // A consent covers the client as it was when given: its redirect URIs, grant types and scopes
                // then. Consents stored before this version have none, and cover no client: users are asked again.
                "ALTER TABLE consents ADD COLUMN client_redirect_uris text",
                "ALTER TABLE consents ADD COLUMN client_grant_types text",
                "ALTER TABLE consents ADD COLUMN client_scopes text",
                // A resource server may introspect any credential of its workspace; other clients only their own.
                "ALTER TABLE clients ADD COLUMN resource_server boolean NOT NULL DEFAULT false",
                // Failed sign-ins counted per account and per address in quarter-hour windows, apart from the
                // per-minute request counts: their own table, their own lifetime.
                """
                CREATE TABLE sign_in_attempts (
                    bucket text NOT NULL,
                    window_start bigint NOT NULL,
                    count integer NOT NULL,
                    PRIMARY KEY (bucket, window_start)
                )
                """,
            ]),
        Migration(
            version: 10, name: "rsa_signing_keys_and_logout",
            statements: [
                // The installation keeps a current key of each algorithm; the keys stored so far are ES256.
                """
                ALTER TABLE signing_keys ADD COLUMN algorithm text NOT NULL DEFAULT 'ES256'
                    CHECK (algorithm IN ('ES256', 'RS256'))
                """,
                // New clients default to RS256 ID tokens; the clients there are keep the ES256 their apps verify.
                """
                ALTER TABLE clients ADD COLUMN id_token_signed_response_alg text NOT NULL DEFAULT 'ES256'
                    CHECK (id_token_signed_response_alg IN ('ES256', 'RS256'))
                """,
                "ALTER TABLE clients ADD COLUMN post_logout_redirect_uris text NOT NULL DEFAULT ''",
                "ALTER TABLE clients ADD COLUMN backchannel_logout_uri text",
            ]),
        Migration(
            version: 11, name: "web_session_details",
            statements: [
                // What a person sees of each of their sessions on /account; unknown for the sessions there are.
                "ALTER TABLE web_sessions ADD COLUMN user_agent text",
                "ALTER TABLE web_sessions ADD COLUMN address text",
            ]),
        Migration(
            version: 12, name: "password_links",
            statements: [
                // One-time links to set a password (only digests of their tokens): at most one of each purpose
                // per user.
                """
                CREATE TABLE password_links (
                    digest text PRIMARY KEY,
                    user_id uuid NOT NULL REFERENCES users(id),
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    purpose text NOT NULL CHECK (purpose IN ('invitation', 'reset')),
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
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
                    user_id uuid PRIMARY KEY REFERENCES users(id),
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    sealed_secret text NOT NULL,
                    created_at timestamptz NOT NULL,
                    confirmed_at timestamptz,
                    last_used_step bigint
                )
                """,
                // Digests of the recovery codes, each used once.
                """
                CREATE TABLE recovery_codes (
                    user_id uuid NOT NULL REFERENCES users(id),
                    digest text NOT NULL,
                    used_at timestamptz,
                    PRIMARY KEY (user_id, digest)
                )
                """,
                // How a session's person proved who they are (OIDC amr), and whether a second factor is awaited.
                "ALTER TABLE web_sessions ADD COLUMN amr text NOT NULL DEFAULT 'pwd'",
                "ALTER TABLE web_sessions ADD COLUMN awaits_second_factor boolean NOT NULL DEFAULT false",
                "ALTER TABLE authorization_codes ADD COLUMN amr text",
                "ALTER TABLE oauth_grants ADD COLUMN amr text",
            ]),
        Migration(
            version: 14, name: "admin_two_factor_policy",
            statements: [
                "ALTER TABLE workspaces ADD COLUMN require_admin_two_factor boolean NOT NULL DEFAULT false"
            ]),
        Migration(
            version: 15, name: "known_devices",
            statements: [
                // The browsers each user signed in from (digests of a long-lived cookie): a new one is told of.
                """
                CREATE TABLE known_devices (
                    user_id uuid NOT NULL REFERENCES users(id),
                    digest text NOT NULL,
                    first_seen_at timestamptz NOT NULL,
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
                    id uuid PRIMARY KEY,
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    identifier text NOT NULL UNIQUE,
                    name text NOT NULL,
                    scopes text NOT NULL,
                    access_token_lifetime integer,
                    created_by uuid,
                    created_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX resource_servers_by_workspace ON resource_servers(workspace_id, identifier)",
                "ALTER TABLE authorization_codes ADD COLUMN resource text",
                "ALTER TABLE oauth_grants ADD COLUMN resource text",
            ]),
        Migration(
            version: 17, name: "dynamic_registration",
            statements: [
                // Who registered a client, and what a client that registered itself holds (RFC 7591, RFC 7592).
                """
                ALTER TABLE clients ADD COLUMN registered_by text NOT NULL DEFAULT 'admin'
                    CHECK (registered_by IN ('admin', 'app', 'app_with_token', 'metadata_document'))
                """,
                "ALTER TABLE clients ADD COLUMN registration_token_digest text",
                "ALTER TABLE clients ADD COLUMN token_endpoint_auth_method text",
                "ALTER TABLE clients ADD COLUMN last_used_at timestamptz",
                "ALTER TABLE clients ADD COLUMN metadata_expires_at timestamptz",
                "CREATE INDEX clients_by_registrant ON clients(registered_by, last_used_at)",
                """
                ALTER TABLE workspaces ADD COLUMN client_registration text NOT NULL DEFAULT 'off'
                    CHECK (client_registration IN ('off', 'token', 'open'))
                """,
                // Tokens an admin issues for apps to register with; digests only.
                """
                CREATE TABLE initial_access_tokens (
                    id uuid PRIMARY KEY,
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    digest text NOT NULL UNIQUE,
                    label text NOT NULL,
                    scopes text NOT NULL,
                    single_use boolean NOT NULL,
                    expires_at timestamptz,
                    created_by uuid,
                    created_at timestamptz NOT NULL,
                    uses integer NOT NULL DEFAULT 0,
                    last_used_at timestamptz,
                    revoked_at timestamptz
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
                    device_digest text PRIMARY KEY,
                    user_code_digest text NOT NULL UNIQUE,
                    workspace_id uuid NOT NULL REFERENCES workspaces(id),
                    client_id text NOT NULL REFERENCES clients(client_id),
                    requested_scopes text,
                    resource text,
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    poll_interval integer NOT NULL,
                    last_polled_at timestamptz,
                    approved_user_id uuid REFERENCES users(id),
                    approved_scopes text,
                    auth_time timestamptz,
                    amr text,
                    decided_at timestamptz,
                    denied_at timestamptz,
                    consumed_at timestamptz
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
            version: 20, name: "leases",
            statements: [
                // Instances lease rate-limit quota from a window's count rather than adding each request to it:
                // the last lease's size, read back with the count.
                "ALTER TABLE rate_limit_windows ADD COLUMN granted integer NOT NULL DEFAULT 0",
                // Each serving instance renews a lease here while its listener is up, and acknowledges each epoch
                // it has heard; a change that raised the epoch answers once every live lease has acknowledged it
                // or run out. Unlogged: nothing here outlives a crash of the server, and renewals flush no WAL.
                """
                CREATE UNLOGGED TABLE instance_leases (
                    instance_id uuid PRIMARY KEY,
                    expires_at timestamptz NOT NULL,
                    acknowledged_epoch bigint NOT NULL
                )
                """,
                // The raise also tells its own transaction the epoch it reached, so the writer knows what to wait for.
                """
                CREATE OR REPLACE FUNCTION gatehouse_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE raised bigint;
                BEGIN
                    UPDATE credential_epoch SET value = value + 1 WHERE id = 1 RETURNING value INTO raised;
                    PERFORM pg_notify('gatehouse_credentials_' || current_schema(), raised::text);
                    PERFORM set_config('gatehouse.raised_epoch', raised::text, true);
                    RETURN NULL;
                END
                $$
                """,
            ]),
    ]
}
