import Foundation
import GatehouseCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
// Several C modules declare `struct stat`; which one's copy the compiler takes differs between builds (Dispatch's
// in a debug build, CoreFoundation's with the Swift runtime linked in), so both are imported.
#if canImport(CoreFoundation)
    import CoreFoundation
#endif
#if canImport(CDispatch)
    import CDispatch
#endif

/// An exclusive `flock` on `<database>-serve.lock`, held while one server process serves the SQLite file.
///
/// That process keeps request counts in memory, so a second server on the same file would count apart and
/// break the rate limits; it refuses to start instead. The lock goes with the process, however it ends, so a
/// crash leaves nothing to clean up but the empty file; a clean stop deletes the file too (`release()`).
/// Commands (`gatehouse keys …`) never take it.
final class ServingLock: Sendable {
    private let path: String
    private let descriptor: Mutex<Int32?>

    init(databasePath: String) throws {
        path = databasePath + "-serve.lock"
        // A process stopping deletes the file while it still holds the lock; one that opened the file just before
        // would then lock a file nobody else can find. So the lock counts only if the path still names the file
        // locked; if not, try again with the new one.
        for _ in 0..<5 {
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
            if Self.isSameFile(descriptor, path) {
                self.descriptor = Mutex(descriptor)
                return
            }
            close(descriptor)
        }
        throw StoreUnavailable("cannot lock \(path): it keeps being replaced")
    }

    /// Deletes the lock file and lets the lock go: the server has stopped serving. Once; later calls do nothing.
    func release() {
        descriptor.withLock { descriptor in
            guard let held = descriptor else { return }
            unlink(path)
            close(held)
            descriptor = nil
        }
    }

    deinit {
        descriptor.withLock { descriptor in
            if let held = descriptor { close(held) }
        }
    }

    private static func isSameFile(_ descriptor: Int32, _ path: String) -> Bool {
        var opened = stat()
        var named = stat()
        guard fstat(descriptor, &opened) == 0, stat(path, &named) == 0 else { return false }
        return opened.st_dev == named.st_dev && opened.st_ino == named.st_ino
    }

    private static func reason(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
