#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers
import NIOCore

/// Who is at the other end of a connection: the TCP address, or on a Unix socket the local
/// user the kernel recorded at connect time (SO_PEERCRED), which a client cannot forge.
struct CTIPeer: Sendable {
    /// For logs, the session and the audit file: "tcp:127.0.0.1:51234", "unix:/run/x.sock pid 4411 uid 1001".
    var description: String
    /// What failed logins are counted under: the address (not the port) or the uid.
    var rateLimitKey: String
    var uid: UInt32?
    var user: String?

    static let unknown = CTIPeer(description: "unknown", rateLimitKey: "unknown")

    static func identify(_ channel: any Channel, isUnixSocket: Bool) -> CTIPeer {
        if isUnixSocket {
            let path = channel.localAddress?.pathname ?? "?"
            guard let credentials = peerCredentials(channel) else {
                return CTIPeer(description: "unix:\(path)", rateLimitKey: "unix:\(path)")
            }
            return CTIPeer(
                description: "unix:\(path) pid \(credentials.pid) uid \(credentials.uid)", rateLimitKey: "uid:\(credentials.uid)",
                uid: credentials.uid, user: userName(credentials.uid))
        }
        guard let remote = channel.remoteAddress else { return .unknown }
        return CTIPeer(
            description: "tcp:\(remote.ipAddress ?? "?"):\(remote.port ?? 0)", rateLimitKey: "ip:\(remote.ipAddress ?? "?")")
    }

    /// SO_PEERCRED: the uid and pid of the process at the other end of a Unix socket.
    private static func peerCredentials(_ channel: any Channel) -> (uid: UInt32, pid: Int32)? {
        #if os(Linux)
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        let future: EventLoopFuture<LinuxUCred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        // On the channel's own loop the option is read synchronously: the future is already done.
        let received = NIOLockedValueBox<LinuxUCred?>(nil)
        future.whenSuccess { credentials in received.withLockedValue { $0 = credentials } }
        guard let credentials = received.withLockedValue({ $0 }) else { return nil }
        return (credentials.uid, credentials.pid)
        #else
        return nil
        #endif
    }

    /// Linux's `struct ucred` (pid_t, uid_t, gid_t), which Glibc only declares under _GNU_SOURCE.
    private struct LinuxUCred: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    private static func userName(_ uid: UInt32) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else {
            return nil
        }
        return String(cString: name)
    }
}
