import Foundation
import GRDB
import GatehouseCore

extension SQLiteStore {
    package func client(id: ClientID) async throws -> ClientApplication? {
        try await read { db in
            try db.cachedRow(sql: "SELECT * FROM clients WHERE client_id = ?", arguments: [id.value], StoredForm.client)
        }
    }

    package func clients(
        in workspace: WorkspaceID, after cursor: ClientID?, limit: Int
    ) async throws -> [ClientApplication] {
        try await read { db in
            try db.cachedRows(
                sql: """
                    SELECT * FROM clients WHERE workspace_id = ? AND client_id > ? ORDER BY client_id LIMIT ?
                    """,
                arguments: [workspace.description, cursor?.value ?? "", limit], StoredForm.client)
        }
    }

    // MARK: Dynamic registration

    package func initialAccessToken(digest: SecretDigest) async throws -> InitialAccessToken? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM initial_access_tokens WHERE digest = ?", arguments: [digest.hex],
                StoredForm.initialAccessToken)
        }
    }

    package func initialAccessToken(id: InitialAccessTokenID) async throws -> InitialAccessToken? {
        try await read { db in
            try db.cachedRow(
                sql: "SELECT * FROM initial_access_tokens WHERE id = ?", arguments: [id.description],
                StoredForm.initialAccessToken)
        }
    }

    package func initialAccessTokens(in workspace: WorkspaceID) async throws -> [InitialAccessToken] {
        try await read { db in
            try db.cachedRows(
                sql: "SELECT * FROM initial_access_tokens WHERE workspace_id = ? ORDER BY created_at DESC, id DESC",
                arguments: [workspace.description], StoredForm.initialAccessToken)
        }
    }

    package func unusedSelfRegisteredClients(before cutoff: Date, limit: Int) async throws -> [ClientApplication] {
        try await read { db in
            try db.cachedRows(
                sql: """
                    SELECT * FROM clients WHERE registered_by IN ('app', 'metadata_document') AND coalesce(last_used_at, created_at) < ?
                    ORDER BY coalesce(last_used_at, created_at) LIMIT ?
                    """,
                arguments: [cutoff.microsecondsSince1970, limit], StoredForm.client)
        }
    }

    package func recordClientUse(_ client: ClientID, at time: Date) async throws {
        try await write { db in
            try db.cachedExecute(
                sql: "UPDATE clients SET last_used_at = ? WHERE client_id = ?",
                arguments: [time.microsecondsSince1970, client.value])
        }
    }

    static func useInitialAccessToken(_ id: InitialAccessTokenID, at time: Date, _ db: Database) throws {
        try db.cachedExecute(
            sql: """
                UPDATE initial_access_tokens SET uses = uses + 1, last_used_at = ?
                WHERE id = ? AND revoked_at IS NULL AND (single_use = 0 OR uses = 0)
                """,
            arguments: [time.microsecondsSince1970, id.description])
        guard db.changesCount == 1 else { throw RecordNotFound("initial access token \(id)") }
    }

    // MARK: Statements

    /// Deletes the client's refresh tokens, grants, codes, consents and keys first, so the client_id can be
    /// reused without inheriting anything. (Its access tokens name a grant that is gone, or, when they are its
    /// own, were issued before the new client's creation: see `AccessTokenVerifier`.)
    static func deleteHoldings(of client: ClientApplication, _ db: Database) throws {
        let id = client.id.value
        let grants = "SELECT id FROM oauth_grants WHERE client_id = ?"
        try db.cachedExecute(sql: "DELETE FROM refresh_tokens WHERE grant_id IN (\(grants))", arguments: [id])
        try db.cachedExecute(sql: "DELETE FROM oauth_grants WHERE client_id = ?", arguments: [id])
        try db.cachedExecute(sql: "DELETE FROM authorization_codes WHERE client_id = ?", arguments: [id])
        try db.cachedExecute(sql: "DELETE FROM device_codes WHERE client_id = ?", arguments: [id])
        try db.cachedExecute(sql: "DELETE FROM consents WHERE client_id = ?", arguments: [id])
        try db.cachedExecute(sql: "DELETE FROM api_keys WHERE owner_client_id = ?", arguments: [id])
    }

    static func delete(_ client: ClientApplication, _ db: Database) throws {
        try db.cachedExecute(
            sql: "DELETE FROM clients WHERE client_id = ? AND workspace_id = ?",
            arguments: [client.id.value, client.workspaceID.description])
        guard db.changesCount == 1 else { throw RecordNotFound("client \(client.id)") }
    }

}
