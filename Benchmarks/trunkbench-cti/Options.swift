#if canImport(Glibc)
import Glibc
#endif

/// The benchmark's command line.
struct Options: Sendable {
    var rate = 20_000
    var seconds = 5.0
    var full = 20
    var narrow = 100
    var runs = 5
    /// Channels the generated events are spread over, round robin (seq % channels + 1).
    var channels = 960
    /// Narrow clients subscribe to channels no event is on: what a filtered-out client costs
    /// by itself, apart from delivering its own events.
    var quietNarrow = false
    /// The subscribers are 120 NIO channels on a 2-thread client group (the harness before
    /// 2026-12) instead of plain sockets read by poll threads.
    var nioClients = false
    /// Threads reading the subscriber sockets. One thread reading 33,000 narrow deliveries a
    /// second (--channels 60) queues the full clients' reads behind them and adds its own delay
    /// to the latency measured; two spread that over both cores, as separate client processes would.
    var readers = 2
    /// The hub's coalescing window (while its loops keep up) and the longest it stretches to
    /// (while they run behind); nil: the hub's defaults. Both 500 µs: the fixed window the node
    /// had before; both 2000 µs: what a starved node settles at.
    var coalescingMicroseconds: Int?
    var maximumCoalescingMicroseconds: Int?

    static let usage = """
        usage: trunkbench-cti [--rate N] [--seconds S] [--full N] [--narrow N] [--runs N] [--channels N]
                              [--quiet-narrow] [--nio-clients] [--readers N] [--coalescing-us N] [--max-coalescing-us N]
        """

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--quiet-narrow":
                quietNarrow = true
                continue
            case "--nio-clients":
                nioClients = true
                continue
            default:
                break
            }
            let value = iterator.next() ?? ""
            switch argument {
            case "--rate": rate = Self.number(argument, value)
            case "--seconds":
                guard let number = Double(value), number > 0 else { Self.fail("--seconds takes a number of seconds, got \"\(value)\"") }
                seconds = number
            case "--full": full = Self.number(argument, value)
            case "--narrow": narrow = Self.number(argument, value)
            case "--runs": runs = max(1, Self.number(argument, value))
            case "--readers": readers = max(1, Self.number(argument, value))
            case "--channels":
                channels = Self.number(argument, value)
                if channels < 1 || channels > 960 { Self.fail("--channels: 1 to 960 (the channels of a 32-E1 node), got \(channels)") }
            case "--coalescing-us": coalescingMicroseconds = Self.number(argument, value)
            case "--max-coalescing-us": maximumCoalescingMicroseconds = Self.number(argument, value)
            default: Self.fail("unknown option \(argument)")
            }
        }
    }

    private static func number(_ option: String, _ value: String) -> Int {
        guard let number = Int(value), number >= 0 else { fail("\(option) takes a whole number, got \"\(value)\"") }
        return number
    }

    private static func fail(_ message: String) -> Never {
        print("trunkbench-cti: \(message)\n\(usage)")
        exit(2)
    }

    /// The channel narrow client `index` subscribes to: one with events on it, or (quiet) one
    /// above every channel events are generated on (961–1024).
    func narrowChannel(_ index: Int) -> Int {
        quietNarrow ? 961 + index % 64 : index % channels + 1
    }
}
