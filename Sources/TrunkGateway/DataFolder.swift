#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TrunkCore

/// Where trunkd keeps its state: the control socket, the instance lock and, as later parts
/// arrive, recordings and databases. Nothing is written outside it, and it needs no root.
public struct DataFolder: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// `--data`, else `$TRUNKLINE_DATA`, else `$XDG_STATE_HOME/trunkline`, else `~/.local/state/trunkline`.
    public static func resolve(_ explicit: String?) -> DataFolder {
        let environment = ProcessInfo.processInfo.environment
        if let explicit, !explicit.isEmpty { return DataFolder(path: absolute(explicit)) }
        if let fromEnvironment = environment["TRUNKLINE_DATA"], !fromEnvironment.isEmpty { return DataFolder(path: absolute(fromEnvironment)) }
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return DataFolder(path: state + "/trunkline") }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return DataFolder(path: home + "/.local/state/trunkline")
    }

    private static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    public var controlSocketPath: String { path + "/control.sock" }
    public var simulatorSocketPath: String { path + "/sim.sock" }
    /// Call detail records (SQLite).
    public var callRecordsPath: String { path + "/calls.sqlite" }
    /// Prompts played by name (CTI `channel.play {files}`).
    public var promptsPath: String { path + "/prompts" }

    /// Creates the folder (owner-only: it holds the control socket).
    public func create() throws(TrunkError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw TrunkError(.permissionDenied, "cannot create data folder \(path): \(error.localizedDescription)")
        }
    }

    /// Takes the folder for this process, or says which process has it. The lock is an
    /// flock on a file, so it is released by the kernel even if the holder is killed.
    public func lock(role: String, file: String = "trunkd.lock") throws(TrunkError) -> InstanceLock {
        let lockPath = path + "/" + file
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw TrunkError(.permissionDenied, "cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = read(fd, &buffer, buffer.count)
            close(fd)
            let holder = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            throw TrunkError(.alreadyRunning, "\(role) is already running on data folder \(path) (pid \(holder)); stop it first or use another --data folder")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        return InstanceLock(fd: fd)
    }
}

/// Held for the life of the process; closing the descriptor releases the lock.
public final class InstanceLock: Sendable {
    private let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}
