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

    // MARK: Dynamic registration

    package func initialAccessToken(digest: SecretDigest) async throws -> InitialAccessToken? {
        try await rows("SELECT * FROM initial_access_tokens WHERE digest = \(digest.hex)").first.map(
            StoredForm.initialAccessToken)
    }

    package func initialAccessToken(id: InitialAccessTokenID) async throws -> InitialAccessToken? {
        try await rows("SELECT * FROM initial_access_tokens WHERE id = \(id.rawValue)").first.map(
            StoredForm.initialAccessToken)
    }

    package func initialAccessTokens(in workspace: WorkspaceID) async throws -> [InitialAccessToken] {
        try await rows(
            """
            SELECT * FROM initial_access_tokens WHERE workspace_id = \(workspace.rawValue)
            ORDER BY created_at DESC, id DESC
            """
        ).map(StoredForm.initialAccessToken)
    }

    package func unusedSelfRegisteredClients(before cutoff: Date, limit: Int) async throws -> [ClientApplication] {
        try await rows(
            """
            SELECT * FROM clients WHERE registered_by IN ('app', 'metadata_document') AND coalesce(last_used_at, created_at) < \(cutoff)
            ORDER BY coalesce(last_used_at, created_at) LIMIT \(limit)
            """
        ).map(StoredForm.client)
    }

    package func recordClientUse(_ client: ClientID, at time: Date) async throws {
        _ = try await changing("UPDATE clients SET last_used_at = \(time) WHERE client_id = \(client.value)")
    }

    static func useInitialAccessTokenQuery(_ id: InitialAccessTokenID, at time: Date) -> PostgresQuery {
        """
        UPDATE initial_access_tokens SET uses = uses + 1, last_used_at = \(time)
        WHERE id = \(id.rawValue) AND revoked_at IS NULL AND (NOT single_use OR uses = 0)
        RETURNING id
        """
    }

    // MARK: Statements

    /// What a client holds (`StoreStep.deleteHoldings`).
    static func deleteHoldingsQueries(of client: ClientApplication) -> [PostgresQuery] {
        let id = client.id.value
        return [
            "DELETE FROM refresh_tokens WHERE grant_id IN (SELECT id FROM oauth_grants WHERE client_id = \(id))",
            "DELETE FROM oauth_grants WHERE client_id = \(id)",
            "DELETE FROM authorization_codes WHERE client_id = \(id)",
            "DELETE FROM device_codes WHERE client_id = \(id)",
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
