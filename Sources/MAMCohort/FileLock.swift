import Foundation

/// An advisory lock on a file (flock): held by one process at a time, released when closed or
/// when the process ends, however it ends, so that a killed batch never leaves a stale lock.
final class FileLock {
    private let descriptor: Int32

    /// Why a lock could not be taken.
    enum Failure: Error, CustomStringConvertible {
        /// Another process holds it.
        case held
        /// The lock file cannot be created or opened (the folder is read-only, say).
        case cannotOpen(String)

        var description: String {
            switch self {
            case .held: return "locked by another run"
            case .cannotOpen(let reason): return reason
            }
        }
    }

    /// Takes the lock on `path` (created if need be; never through a symbolic link), waiting
    /// for it when `wait` is true, else failing with `.held` at once.
    init(path: String, wait: Bool) throws(Failure) {
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotOpen(String(cString: strerror(errno))) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            if code == EWOULDBLOCK { throw .held }
            throw .cannotOpen(String(cString: strerror(code)))
        }
        descriptor = fd
    }

    deinit { close(descriptor) }
}
