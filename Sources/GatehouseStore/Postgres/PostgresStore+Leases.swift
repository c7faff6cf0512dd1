import Foundation
import GatehouseCore
import PostgresNIO
import Synchronization

/// How an instance serves credentials from its cache without reading the credential epoch on every request, and
/// still never serves a credential after the change that ended it has answered.
///
/// - Every change that can alter a credential raises the epoch in its transaction; PostgreSQL `NOTIFY`s each rise
///   to every instance's listener, which drops its cache and acknowledges the epoch in `instance_leases`.
/// - While its listener is up, each instance renews a lease there every quarter of `leaseDuration`. It trusts
///   the newest epoch it heard (`pushedEpochIsCurrent`) only while its last renewal is younger than
///   `leaseDuration` less a tenth, by its own clock, counted from before the renewal was sent: that always ends
///   before the lease ends in the database. Without a live lease or a listener, a request reads the epoch.
/// - The change waits, after it commits, until every lease still live in the database has acknowledged the
///   epoch it reached, and at most `leaseDuration` (`awaitAcknowledgements`): by then any instance that did not
///   hear it has stopped trusting its cache. So however slow or cut off an instance is, a request it takes after
///   the change answered is checked against the change.
///
/// A renewal also brings back the epoch, and an instance tells its cache of a newer one before it trusts the
/// renewal: a lost notification costs at most a quarter of the lease, never a stale answer.
struct EpochLease {
    /// Whether the listener is up: what it hears is complete from the moment it started.
    var listening = false
    /// Until when, by this process's clock, the last renewal may be trusted.
    var trustedUntil: ContinuousClock.Instant?
    /// The newest epoch told to the observer.
    var told: Int64 = 0
}

extension PostgresStore {
    package var pushedEpochIsCurrent: Bool {
        lease.withLock { lease in
            guard lease.listening, let until = lease.trustedUntil else { return false }
            return ContinuousClock.now < until
        }
    }

    /// Listens on `gatehouse_credentials_<schema>`, which the credential triggers notify with each new epoch, on
    /// one pooled connection, and holds this instance's lease while it does; when that connection is lost, stops
    /// trusting pushed epochs, says so and listens again a second later. On cancellation the lease is given up.
    package func watchCredentialEpoch(_ signal: @escaping @Sendable (CredentialEpochSignal) async -> Void) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    let schema =
                        try await connection.query("SELECT current_schema() AS name", logger: self.logger)
                        .collect().first?.makeRandomAccess()["name"].decode(String.self) ?? "public"
                    try await connection.listen(on: "gatehouse_credentials_\(schema)") { notifications in
                        // Listening from here on: whatever rose before may have been missed.
                        await signal(.mayHaveMissed)
                        self.lease.withLock { $0.listening = true }
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask { await self.keepLease(telling: signal) }
                            for try await notification in notifications {
                                if let epoch = Int64(notification.payload) { await self.heard(epoch, telling: signal) }
                            }
                            group.cancelAll()
                        }
                    }
                }
            } catch {
                logger.info("stopped listening for credential changes", metadata: ["error": "\(Self.describe(error))"])
            }
            lease.withLock { $0 = EpochLease() }
            await signal(.mayHaveMissed)
            try? await Task.sleep(for: .seconds(1))
        }
        // A task of its own: this one is cancelled, and a change need not wait for a lease nobody holds.
        let instance = instanceID
        await Task { _ = try? await self.rows("DELETE FROM instance_leases WHERE instance_id = \(instance)") }.value
    }

    /// Renews the lease every quarter of its duration until cancelled, acknowledging the newest epoch told, and
    /// tells of a newer epoch than that before trusting the renewal.
    private func keepLease(telling signal: @escaping @Sendable (CredentialEpochSignal) async -> Void) async {
        let (seconds, attoseconds) = leaseDuration.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        var sweeps = 0
        while !Task.isCancelled {
            let sent = ContinuousClock.now
            do {
                let told = lease.withLock { $0.told }
                let renewed = try await rows(
                    """
                    INSERT INTO instance_leases AS l (instance_id, expires_at, acknowledged_epoch)
                    VALUES (\(instanceID), now() + \(milliseconds) * interval '1 millisecond', \(told))
                    ON CONFLICT (instance_id) DO UPDATE SET expires_at = EXCLUDED.expires_at,
                        acknowledged_epoch = GREATEST(l.acknowledged_epoch, EXCLUDED.acknowledged_epoch)
                    RETURNING (SELECT value FROM credential_epoch WHERE id = 1) AS epoch
                    """)
                let current = try renewed.first?["epoch"].decode(Int64.self) ?? 0
                if current > told { await heard(current, telling: signal) }
                lease.withLock { lease in
                    if lease.listening { lease.trustedUntil = sent + leaseDuration - leaseDuration / 10 }
                }
                if sweeps % 120 == 0 {
                    // Now and then, the rows of instances that stopped without giving theirs up.
                    _ = try await rows("DELETE FROM instance_leases WHERE expires_at < now() - interval '1 minute'")
                }
                sweeps += 1
            } catch {
                logger.debug("could not renew the instance lease", metadata: ["error": "\(Self.describe(error))"])
            }
            try? await Task.sleep(for: leaseDuration / 4)
        }
    }

    /// Tells the observer of `epoch`, and then acknowledges it: from here on this instance's cache holds nothing
    /// read before it.
    private func heard(_ epoch: Int64, telling signal: @escaping @Sendable (CredentialEpochSignal) async -> Void)
        async
    {
        await signal(.raised(epoch))
        let told = lease.withLock { lease in
            lease.told = max(lease.told, epoch)
            return lease.told
        }
        do {
            _ = try await rows(
                """
                UPDATE instance_leases SET acknowledged_epoch = GREATEST(acknowledged_epoch, \(told))
                WHERE instance_id = \(instanceID)
                """)
        } catch {
            // The change that raised it waits for the lease to run out instead.
            logger.debug("could not acknowledge a credential change", metadata: ["error": "\(Self.describe(error))"])
        }
    }

    /// The epoch the credential triggers raised in this transaction, if they ran.
    static func raisedEpoch(on connection: PostgresConnection, logger: Logger) async throws -> Int64? {
        let rows = try await connection.query(
            "SELECT current_setting('gatehouse.raised_epoch', true) AS raised", logger: logger
        ).collect()
        return try rows.first?.makeRandomAccess()["raised"].decode(String?.self).flatMap { Int64($0) }
    }

    /// Waits until no lease live in the database has acknowledged less than `epoch`, or `leaseDuration` has passed
    /// since the change committed: either way no instance serves a credential from before it any more. Asks
    /// again after 1, 2, 4, 8 and then every 16 ms; a database that stopped answering just means the full wait.
    func awaitAcknowledgements(of epoch: Int64, committedAt committed: ContinuousClock.Instant) async {
        lastAwaitedEpoch.max(epoch, ordering: .relaxed)
        let deadline = committed + leaseDuration
        var pause = Duration.milliseconds(1)
        while ContinuousClock.now < deadline {
            let waiting = try? await rows(
                """
                SELECT count(*) AS waiting FROM instance_leases
                WHERE expires_at > now() AND acknowledged_epoch < \(epoch)
                """
            ).first?["waiting"].decode(Int.self)
            if waiting == 0 { return }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            do { try await Task.sleep(for: min(pause, left)) } catch { return }
            pause = min(pause * 2, .milliseconds(16))
        }
        logger.info(
            "a credential change waited the whole lease for an instance that did not acknowledge it",
            metadata: ["epoch": "\(epoch)"])
    }
}
