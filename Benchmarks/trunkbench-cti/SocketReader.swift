#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A CTI client connection on a plain socket: connected, logged in and subscribed with blocking
/// calls before the run (so every subscription is live before the first event), then read by
/// `SocketReader`.
struct SubscriberSocket {
    let fd: Int32
    let tally: Tally
    /// Bytes read during the handshake after its last response (none expected).
    var leftover: [UInt8]

    /// Connects to 127.0.0.1:`port`, logs in and subscribes with `filter` (a JSON object), and
    /// waits for the greeting and both answers.
    static func open(port: Int, filter: String, tally: Tally) throws(BenchError) -> SubscriberSocket {
        let fd = try connectLoopback(port: port)
        let login = #"{"jsonrpc":"2.0","id":1,"method":"session.login","params":{"token":"bench","version":1,"client":"bench"}}"#
        let subscribe = #"{"jsonrpc":"2.0","id":2,"method":"events.subscribe","params":"# + filter + "}"
        try sendAll(fd, login + "\n" + subscribe + "\n", what: tally.label)
        var buffer = [UInt8]()
        var lines = 0
        var chunk = [UInt8](repeating: 0, count: 4096)
        while lines < 3 {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { throw BenchError("\(tally.label): the server closed or failed during login/subscribe (read \(count), errno \(errno))") }
            buffer += chunk[0..<count]
            while let newline = buffer.firstIndex(of: 10) {
                let line = Array(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                lines += 1
                line.withUnsafeBytes { tally.take($0, now: 0) }
            }
        }
        guard tally.responses == 2 && tally.problemCount == 0 else {
            throw BenchError("\(tally.label): login/subscribe failed: \(tally.problems)")
        }
        return SubscriberSocket(fd: fd, tally: tally, leftover: buffer)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A blocking TCP socket to 127.0.0.1:`port` with TCP_NODELAY; reads time out after 5 s.
func connectLoopback(port: Int) throws(BenchError) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw BenchError("socket(): errno \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        throw BenchError("connect(127.0.0.1:\(port)): errno \(errno)")
    }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
}

func sendAll(_ fd: Int32, _ text: String, what: String) throws(BenchError) {
    var bytes = Array(text.utf8)
    var sent = 0
    while sent < bytes.count {
        let count = bytes.withUnsafeMutableBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
        guard count > 0 else { throw BenchError("\(what): send failed, errno \(errno)") }
        sent += count
    }
}

/// Reads its share of the subscriber sockets on one thread with poll and large reads: the clients are the
/// measuring instrument and share the two cores with the server, so they must cost as little
/// as possible. Each read is stamped once (CLOCK_MONOTONIC) and every line in it is checked by
/// its client's `Tally`. The thread ends when every client has received everything published
/// (`finish(published:)`), or 10 s after that if some never do.
final class SocketReader: @unchecked Sendable {
    private var sockets: [SubscriberSocket]
    private var partials: [[UInt8]]
    private let published = Atomic<Int64>(-1)
    private let readCount = Atomic<Int>(0)
    private(set) var thread: BenchThread?

    init(sockets: [SubscriberSocket]) {
        self.sockets = sockets
        self.partials = sockets.map(\.leftover)
        for socket in sockets { _ = fcntl(socket.fd, F_SETFL, fcntl(socket.fd, F_GETFL) | O_NONBLOCK) }
    }

    func start() {
        thread = BenchThread(name: "bench-reader") { self.run() }
    }
    // poll, not epoll: Swift's Glibc module has no <sys/epoll.h>; for 120 sockets woken a few
    // thousand times a second the difference is a few percent of one core.

    /// The publisher is done: `count` events were published in all.
    func finish(published count: Int64) { published.store(count, ordering: .releasing) }

    /// Reads done (after the thread ended).
    var reads: Int { readCount.load(ordering: .relaxed) }

    private func run() {
        var descriptors = sockets.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        let capacity = 1 << 18
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity + 65_536, alignment: 64)
        defer { buffer.deallocate() }
        var open = sockets.count
        var deadline = Int64.max
        var reads = 0
        while open > 0 {
            let ready = descriptors.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), 20) }
            if ready < 0 && errno != EINTR { preconditionFailure("poll: errno \(errno)") }
            var left = Int(max(0, ready))
            var index = 0
            while left > 0 && index < descriptors.count {
                defer { index += 1 }
                guard descriptors[index].revents != 0 else { continue }
                left -= 1
                let socket = sockets[index]
                // A partial line from the previous read goes first, then the new bytes after it.
                let carried = partials[index].count
                precondition(carried <= 65_536, "\(socket.tally.label): a line over 64 KiB")
                if carried > 0 { partials[index].withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: carried) } }
                let count = read(socket.fd, buffer.baseAddress! + carried, capacity)
                if count <= 0 {
                    if count < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                    socket.tally.closedByServer = true
                    descriptors[index].fd = -1  // poll skips negative descriptors
                    open -= 1
                    continue
                }
                reads += 1
                let now = monotonicNanoseconds()
                let total = carried + count
                let whole = socket.tally.takeLines(UnsafeRawBufferPointer(rebasing: buffer[0..<total]), now: now)
                partials[index].removeAll(keepingCapacity: true)
                if whole < total { partials[index].append(contentsOf: buffer[whole..<total]) }
            }
            let final = published.load(ordering: .acquiring)
            if final >= 0 {
                if deadline == .max { deadline = monotonicNanoseconds() + 10_000_000_000 }
                if sockets.allSatisfy({ $0.tally.closedByServer || $0.tally.isComplete(through: final) }) || monotonicNanoseconds() > deadline { break }
            }
        }
        readCount.store(reads, ordering: .relaxed)
    }

    func closeAll() {
        for socket in sockets { close(socket.fd) }
    }
}
