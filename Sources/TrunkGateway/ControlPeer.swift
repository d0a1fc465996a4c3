#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Who is at the other end of a control connection, from the kernel (SO_PEERCRED), not from
/// anything the client says: every configuration apply is logged with this user.
public struct ControlPeer: Sendable, Equatable, Codable {
    public var uid: UInt32
    public var pid: Int32
    /// The login name for `uid`, or "uid N" when the passwd database has none.
    public var user: String

    public init(uid: UInt32, pid: Int32, user: String) {
        self.uid = uid
        self.pid = pid
        self.user = user
    }

    /// The peer of a Unix-socket channel; nil where the kernel cannot say (not a Unix socket).
    public static func of(_ channel: any Channel) async -> ControlPeer? {
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        // SO_PEERCRED fills a struct ucred; unsafeGetSocketOption reads it as that type.
        guard let credentials: PeerCredentials = try? await provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)).get() else { return nil }
        return ControlPeer(uid: credentials.uid, pid: credentials.pid, user: userName(uid: credentials.uid))
    }

    /// `struct ucred` (pid_t, uid_t, gid_t), which Glibc's module leaves out without _GNU_SOURCE.
    struct PeerCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    static func userName(uid: UInt32) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else { return "uid \(uid)" }
        return String(cString: name)
    }
}
