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
            ])
    ]
}
