#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore

/// How much of what the server sent a client it has not read yet: NIO's own buffer plus what
/// the kernel still holds for it (SO_MEMINFO's send-side counts, Linux). A closing connection
/// watches this fall to tell a client that reads slowly from one that has stopped, even while
/// its progress is only visible in the kernel (a socket is reported writable again only after
/// half its send buffer has drained).
enum UnreadBytes {
    /// SO_MEMINFO (`<asm-generic/socket.h>`): an array of SK_MEMINFO_* counters.
    private static let soMemInfo: CInt = 55
    private struct MemoryInfo: Sendable {
        // SK_MEMINFO_RMEM_ALLOC, RCVBUF, WMEM_ALLOC, SNDBUF, FWD_ALLOC, WMEM_QUEUED, OPTMEM, BACKLOG, DROPS
        var counters: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
    }

    /// On the channel's event loop: the bytes not yet taken by the client (NIO's part alone
    /// where the kernel's cannot be read).
    static func count(_ channel: any Channel) -> Int {
        channel.eventLoop.preconditionInEventLoop()
        let buffered = (try? channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        #if os(Linux)
        guard let provider = channel as? any SocketOptionProvider else { return buffered }
        let future: EventLoopFuture<MemoryInfo> = provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET), name: NIOBSDSocket.Option(rawValue: soMemInfo))
        // On the loop the option is read at once: the future is already complete.
        let kernel = NIOLockedValueBox(0)
        future.whenSuccess { info in kernel.withLockedValue { $0 = Int(info.counters.2) + Int(info.counters.5) } }
        return buffered + kernel.withLockedValue { $0 }
        #else
        return buffered
        #endif
    }
}
