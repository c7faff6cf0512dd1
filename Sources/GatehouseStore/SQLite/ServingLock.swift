import GatehouseCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive `flock` on `<database>-serve.lock`, held while one server process serves the SQLite file.
///
/// That process keeps request counts in memory, so a second server on the same file would count apart and
/// break the rate limits; it refuses to start instead. The lock goes with the process, however it ends, so a
/// crash leaves nothing to clean up. Commands (`gatehouse keys …`) never take it.
final class ServingLock: Sendable {
    private let descriptor: Int32

    init(databasePath: String) throws {
        let path = databasePath + "-serve.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StoreUnavailable("cannot open \(path): \(Self.reason(errno))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(descriptor)
            if code == EWOULDBLOCK {
                throw StoreUnavailable(
                    "another gatehouse server is already serving \(databasePath); one process serves an SQLite "
                        + "database (run several instances on PostgreSQL instead)")
            }
            throw StoreUnavailable("cannot lock \(path): \(Self.reason(code))")
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    private static func reason(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
