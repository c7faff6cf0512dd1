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
            ])
    ]
}
