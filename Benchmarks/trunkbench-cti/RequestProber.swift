#if canImport(Glibc)
import Glibc
#endif
import CRealTime

/// One client on its own thread and a blocking socket, alternating `ping` and `span.status`
/// every 2 ms (steady probing without becoming load of its own); round trips of requests sent
/// inside the window are kept. A request unanswered for 5 s fails the run.
final class RequestProber: @unchecked Sendable {
    private let port: Int
    private let windowStart: Int64
    private let windowEnd: Int64
    /// Stop probing at this time.
    private let stopAt: Int64
    // Written by the prober's thread, read by the main thread after `thread.join()`.
    private(set) var ping: [Int64] = []
    private(set) var status: [Int64] = []
    private(set) var problem: String?
    private(set) var thread: BenchThread?

    init(port: Int, windowStart: Int64, windowEnd: Int64, stopAt: Int64) {
        self.port = port
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.stopAt = stopAt
        ping.reserveCapacity(4096)
        status.reserveCapacity(4096)
    }

    /// Connects and logs in on the calling thread, then probes on a thread of its own.
    func start() throws(BenchError) {
        let fd = try connectLoopback(port: port)
        let login = #"{"jsonrpc":"2.0","id":1,"method":"session.login","params":{"token":"bench","version":1,"client":"rtt"}}"#
        try sendAll(fd, login + "\n", what: "request client")
        let lines = LineReader(fd: fd)
        _ = try lines.next()  // greeting
        let answer = try lines.next()
        guard answer.contains(#""id":1,"result""#) else { throw BenchError("request client: login failed: \(answer)") }
        thread = BenchThread(name: "bench-requests") { self.run(fd: fd, lines: lines) }
    }

    private func run(fd: Int32, lines: LineReader) {
        defer { close(fd) }
        var id = 10
        do throws(BenchError) {
            while monotonicNanoseconds() < stopAt {
                id += 1
                let method = id % 2 == 0 ? "ping" : "span.status"
                let sentAt = monotonicNanoseconds()
                try sendAll(fd, #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)"}"# + "\n", what: "request client")
                let answer = try lines.next()
                let now = monotonicNanoseconds()
                guard answer.hasPrefix(#"{"jsonrpc":"2.0","id":\#(id),"result""#) else {
                    throw BenchError("request client: \(method) id \(id) answered with \(answer.prefix(200))")
                }
                if sentAt >= windowStart && sentAt < windowEnd {
                    if id % 2 == 0 { ping.append(now - sentAt) } else { status.append(now - sentAt) }
                }
                var pause = timespec(tv_sec: 0, tv_nsec: 2_000_000)
                nanosleep(&pause, nil)
            }
        } catch {
            problem = error.description
        }
    }
}

/// Lines from a blocking socket (whose reads time out).
final class LineReader {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 65_536)

    init(fd: Int32) { self.fd = fd }

    func next() throws(BenchError) -> String {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeFirst(newline + 1)
                return line
            }
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else {
                throw BenchError(count == 0 ? "request client: the server closed the connection" : "request client: no answer within 5 s (errno \(errno))")
            }
            buffer += chunk[0..<count]
        }
    }
}

/// A plain thread (pthread), named so that `perf report --sort comm` and `top -H` show who is who,
/// with a clock of its CPU time readable from any thread.
final class BenchThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: () -> Void
    private let name: String

    init(name: String, _ body: @escaping () -> Void) {
        self.name = name
        self.body = body
        let box = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { raw in
            let me = Unmanaged<BenchThread>.fromOpaque(raw!).takeRetainedValue()
            nameCurrentThread(me.name)
            me.body()
            return nil
        }, box.toOpaque())
    }

    /// CPU time of the thread so far (ns); 0 once it has ended.
    var cpuNanoseconds: Int64 {
        var clock = clockid_t()
        guard pthread_getcpuclockid(thread, &clock) == 0 else { return 0 }
        return clockNanoseconds(clock)
    }

    func join() { pthread_join(thread, nil) }
}

/// Names the calling thread (at most 15 bytes) through /proc: pthread_setname_np and prctl are not
/// in Swift's Glibc module.
func nameCurrentThread(_ name: String) {
    let path = "/proc/self/task/\(crt_current_thread_id())/comm"
    guard let file = fopen(path, "w") else { return }
    fputs(String(name.prefix(15)), file)
    fclose(file)
}

func monotonicNanoseconds() -> Int64 { clockNanoseconds(CLOCK_MONOTONIC) }

func clockNanoseconds(_ clock: clockid_t) -> Int64 {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
