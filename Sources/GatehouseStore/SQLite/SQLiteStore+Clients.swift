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
