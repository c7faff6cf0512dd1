import Foundation
import GatehouseCore
import PostgresNIO

extension PostgresStore {
    package func client(id: ClientID) async throws -> ClientApplication? {
        try await rows("SELECT * FROM clients WHERE client_id = \(id.value)").first.map(StoredForm.client)
    }

    package func clients(
        in workspace: WorkspaceID, after cursor: ClientID?, limit: Int
    ) async throws -> [ClientApplication] {
        try await rows(
            """
            SELECT * FROM clients WHERE workspace_id = \(workspace.rawValue) AND client_id > \(cursor?.value ?? "")
            ORDER BY client_id LIMIT \(limit)
            """
        ).map(StoredForm.client)
    }

    // MARK: Statements

    /// What a client holds (`StoreStep.deleteHoldings`).
    static func deleteHoldingsQueries(of client: ClientApplication) -> [PostgresQuery] {
        let id = client.id.value
        return [
            "DELETE FROM refresh_tokens WHERE grant_id IN (SELECT id FROM oauth_grants WHERE client_id = \(id))",
            "DELETE FROM oauth_grants WHERE client_id = \(id)",
            "DELETE FROM authorization_codes WHERE client_id = \(id)",
            "DELETE FROM consents WHERE client_id = \(id)",
            "DELETE FROM api_keys WHERE owner_client_id = \(id)",
        ]
    }

    static func deleteQuery(_ client: ClientApplication) -> PostgresQuery {
        """
        DELETE FROM clients WHERE client_id = \(client.id.value) AND workspace_id = \(client.workspaceID.rawValue)
        RETURNING client_id
        """
    }

}
