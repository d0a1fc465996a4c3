// trunkbench-cti: event fan-out and request latency of the CTI socket on loopback.
//
// One process plays the node (CTIServer + CTIEventHub, a publisher thread generating events at
// a fixed rate) and the clients (NIO channels on their own event loops): `full` clients
// subscribed to everything, one request client alternating ping and span.status, and in the
// second phase `narrow` more clients each subscribed to one channel. For each phase it reports
// events/s delivered per client (the slowest client), event latency (publish stamp `mono_ns`
// to the client's read, same clock) and request round trips, then the phase B / phase A ratios.
// Runs alternate A, B, A, B … on fresh servers; figures are the median over runs.
//
//   swift build -c release --product trunkbench-cti
//   .build/release/trunkbench-cti [--rate 20000] [--seconds 5] [--full 20] [--narrow 100] [--runs 3] [--quiet-narrow]
//
// `--quiet-narrow`: the narrow clients subscribe to channels no event is on, which isolates what
// a filtered-out client costs from the cost of delivering its own events (≈ 333 events/s each).
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TrunkCTI

struct Options {
    var rate = 20_000
    var seconds = 5.0
    var full = 20
    var narrow = 100
    var runs = 3
    /// Narrow clients subscribe to channels no event is on: what a filtered-out client costs
    /// by itself, apart from delivering its own events.
    var quietNarrow = false

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            if argument == "--quiet-narrow" {
                quietNarrow = true
                continue
            }
            let value = iterator.next() ?? ""
            switch argument {
            case "--rate": rate = Int(value) ?? rate
            case "--seconds": seconds = Double(value) ?? seconds
            case "--full": full = Int(value) ?? full
            case "--narrow": narrow = Int(value) ?? narrow
            case "--runs": runs = Int(value) ?? runs
            default:
                print("usage: trunkbench-cti [--rate N] [--seconds S] [--full N] [--narrow N] [--runs N] [--quiet-narrow]")
                exit(2)
            }
        }
    }
}

func monotonicNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// The backend's only job here is span.status; events come from the publisher thread.
struct StatusBackend: CTIBackend {
    func perform(_ request: CTIRequest, session: CTISessionInfo) async throws(CTIBackendError) -> CTIResult {
        switch request {
        case .spanStatus:
            return .spanStatus([
                CTISpanStatus(span: 1, kind: "e1", signalling: "pri_net", alarms: [], dchannel: "up", channels: 31, channelsInUse: 12),
                CTISpanStatus(span: 2, kind: "e1", signalling: "pri_cpe", alarms: [], dchannel: "up", channels: 31, channelsInUse: 12),
            ])
        default:
            throw CTIBackendError(.unavailable, "not in the benchmark")
        }
    }
    func locate(_ target: CTITarget) async throws(CTIBackendError) -> CTILocation { CTILocation(span: 2, channel: 33) }
    /// As the gateway does: span status kept current and answered on the connection's loop.
    func answerImmediately(_ request: CTIRequest, session: CTISessionInfo) -> CTIResult? {
        if case .spanStatus = request { return .spanStatus(Self.spans) }
        return nil
    }
    static let spans = [
        CTISpanStatus(span: 1, kind: "e1", signalling: "pri_net", alarms: [], dchannel: "up", channels: 31, channelsInUse: 12),
        CTISpanStatus(span: 2, kind: "e1", signalling: "pri_cpe", alarms: [], dchannel: "up", channels: 31, channelsInUse: 12),
    ]
    func sessionEnded(_ session: CTISessionInfo) async {}
}

/// Newline framing for the benchmark's clients.
struct Lines: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return .needMoreData }
        let line = buffer.readSlice(length: newline - buffer.readerIndex)!
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(Self.wrapInboundOut(line))
        return .continue
    }
}

/// Reads the integer after `key` in a line without parsing the JSON (the client must not be the bottleneck).
func integer(after key: [UInt8], in line: ByteBuffer) -> Int64? {
    let view = line.readableBytesView
    guard view.count > key.count else { return nil }
    var index = view.startIndex
    let end = view.endIndex - key.count
    outer: while index < end {
        for k in 0..<key.count where view[index + k] != key[k] {
            index += 1
            continue outer
        }
        var cursor = index + key.count
        var value: Int64 = 0
        while cursor < view.endIndex, view[cursor] >= 48, view[cursor] <= 57 {
            value = value * 10 + Int64(view[cursor] - 48)
            cursor += 1
        }
        return value
    }
    return nil
}

let monoKey = Array("\"mono_ns\":".utf8)
let seqKey = Array("\"seq\":".utf8)
let idKey = Array("\"id\":".utf8)

final class Measurement: @unchecked Sendable {
    // Written on one client's loop during the run, read after it stops.
    var latencies: [Int64] = []
    var events = 0
    var gaps = 0
    var overflowed = false
    var lastSeq: Int64 = 0
    var windowStart: Int64 = .max
    var windowEnd: Int64 = .max
    init() { latencies.reserveCapacity(400_000) }
}

/// Reads raw socket buffers and splits lines itself (no decoder stage per line): in this one-process
/// benchmark the clients share the cores with the server, so they must cost as little as possible.
final class SubscriberClient: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let subscribe: String
    let measurement: Measurement
    let checkGaps: Bool
    private var partial: ByteBuffer?

    init(subscribe: String, measurement: Measurement, checkGaps: Bool) {
        self.subscribe = subscribe
        self.measurement = measurement
        self.checkGaps = checkGaps
    }

    func channelActive(context: ChannelHandlerContext) {
        let login = #"{"jsonrpc":"2.0","id":1,"method":"session.login","params":{"token":"bench","version":1,"client":"bench"}}"#
        let request = #"{"jsonrpc":"2.0","id":2,"method":"events.subscribe","params":"# + subscribe + "}"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: login + "\n" + request + "\n")), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var pending = partial {
            pending.writeBuffer(&buffer)
            buffer = pending
            partial = nil
        }
        let now = monotonicNanoseconds()
        // memchr over the raw bytes: the per-byte cost of a generic collection scan would make
        // the in-process clients, not the server, what this benchmark measures.
        let consumed = buffer.withUnsafeReadableBytes { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            var offset = 0
            while offset < raw.count, let found = memchr(base + offset, 10, raw.count - offset) {
                let end = base.distance(to: UnsafeRawPointer(found))
                handle(UnsafeRawBufferPointer(rebasing: raw[offset..<end]), now: now)
                offset = end + 1
            }
            return offset
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        if buffer.readableBytes > 0 { partial = buffer }
    }

    private static let eventPrefix = Array(#"{"jsonrpc":"2.0","method":"event","params":{"seq":"#.utf8)
    private static let overflowPrefix = Array(#"{"jsonrpc":"2.0","method":"events.overflow""#.utf8)

    /// Events start with a fixed prefix, then seq, then `,"time":"<27 characters>","mono_ns":`.
    private func handle(_ line: UnsafeRawBufferPointer, now: Int64) {
        let prefix = Self.eventPrefix
        guard line.count > prefix.count + 40, memcmp(line.baseAddress!, prefix, prefix.count) == 0 else {
            if line.count >= Self.overflowPrefix.count, memcmp(line.baseAddress!, Self.overflowPrefix, Self.overflowPrefix.count) == 0 {
                measurement.overflowed = true
            }
            return
        }
        var index = prefix.count
        var seq: Int64 = 0
        while index < line.count, line[index] >= 48, line[index] <= 57 {
            seq = seq * 10 + Int64(line[index] - 48)
            index += 1
        }
        index += #","time":""#.utf8.count + 27 + #"","mono_ns":"#.utf8.count
        var mono: Int64 = 0
        while index < line.count, line[index] >= 48, line[index] <= 57 {
            mono = mono * 10 + Int64(line[index] - 48)
            index += 1
        }
        if checkGaps {
            if measurement.lastSeq != 0 && seq != measurement.lastSeq + 1 { measurement.gaps += 1 }
            measurement.lastSeq = seq
        }
        if mono >= measurement.windowStart && mono < measurement.windowEnd {
            measurement.events += 1
            measurement.latencies.append(now - mono)
        }
    }
}

final class RequestClient: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    var ping: [Int64] = []
    var status: [Int64] = []
    var sentAt: Int64 = 0
    var nextID = 10
    var running = true
    var measuring = false

    func channelActive(context: ChannelHandlerContext) {
        let login = #"{"jsonrpc":"2.0","id":1,"method":"session.login","params":{"token":"bench","version":1,"client":"rtt"}}"#
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: login + "\n")), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        guard let id = integer(after: idKey, in: line) else { return }
        let now = monotonicNanoseconds()
        if id >= 10 && measuring {
            if id % 2 == 0 { ping.append(now - sentAt) } else { status.append(now - sentAt) }
        }
        guard running, id >= 10 else { return }
        // A request every 2 ms: steady probing without becoming load of its own.
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(2)) {
            let (handler, context) = loopBound.value
            handler.sendNext(context)
        }
    }

    func sendNext(_ context: ChannelHandlerContext) {
        nextID += 1
        let method = nextID % 2 == 0 ? "ping" : "span.status"
        sentAt = monotonicNanoseconds()
        let request = #"{"jsonrpc":"2.0","id":\#(nextID),"method":"\#(method)"}"# + "\n"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
    }
}

struct PhaseResult {
    var slowestClientEventsPerSecond: Double
    var p50LatencyMs: Double
    var p99LatencyMs: Double
    var pingP99Ms: Double
    var statusP99Ms: Double
    var gaps: Int
    var overflows: Int
    var published: Int
    var publishP50Us: Double
    var publishP99Us: Double
    /// Process CPU time (user + system) per event delivered to a client, server and clients together.
    var cpuNanosecondsPerDelivery: Double
    /// Process CPU seconds per wall second during the window (2.0 = both cores busy).
    var cpuLoad: Double
}

func processCPUNanoseconds() -> Int64 {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Int64(usage.ru_utime.tv_sec) * 1_000_000_000 + Int64(usage.ru_utime.tv_usec) * 1_000
    let system = Int64(usage.ru_stime.tv_sec) * 1_000_000_000 + Int64(usage.ru_stime.tv_usec) * 1_000
    return user + system
}

func percentile(_ values: [Int64], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1e6
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func runPhase(options: Options, narrow: Int, serverGroup: MultiThreadedEventLoopGroup, clientGroup: MultiThreadedEventLoopGroup) async throws -> PhaseResult {
    var configuration = CTIConfiguration()
    configuration.listeners = [.tcp(port: 0)]
    configuration.tokens = [.init(secret: "bench", name: "bench", permissions: [.call, .media])]
    configuration.idleTimeoutMilliseconds = 3_600_000
    let hub = CTIEventHub(capacity: 65_536)
    var logger = Logger(label: "trunkbench-cti")
    logger.logLevel = .error
    let server = try CTIServer(configuration: configuration, backend: StatusBackend(), hub: hub, logger: logger, group: serverGroup)
    let port = try await server.start()[0].port!

    func connect(framed: Bool = false, _ handler: @escaping @Sendable () -> any ChannelHandler) async throws -> any Channel {
        try await ClientBootstrap(group: clientGroup)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65536, maximum: 262_144))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if framed { try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(Lines())) }
                    try channel.pipeline.syncOperations.addHandler(handler())
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    var channels: [any Channel] = []
    var fullMeasurements: [Measurement] = []
    for _ in 0..<options.full {
        let measurement = Measurement()
        fullMeasurements.append(measurement)
        channels.append(try await connect { SubscriberClient(subscribe: "{}", measurement: measurement, checkGaps: true) })
    }
    var narrowMeasurements: [Measurement] = []
    for i in 0..<narrow {
        let measurement = Measurement()
        narrowMeasurements.append(measurement)
        let channel = options.quietNarrow ? 900 + i % 100 : i % 60 + 1
        channels.append(try await connect { SubscriberClient(subscribe: "{\"chans\":[\(channel)]}", measurement: measurement, checkGaps: false) })
    }
    let requester = RequestClient()
    let requestChannel = try await connect(framed: true) { requester }
    channels.append(requestChannel)
    try await Task.sleep(for: .milliseconds(500))
    // Start probing (the first request after login; then one per response).
    try await requestChannel.eventLoop.submit {
        let context = try requestChannel.pipeline.syncOperations.context(handlerType: RequestClient.self)
        requester.sendNext(context)
    }.get()

    // Publisher thread: keeps the count published equal to rate × elapsed, in 1 ms steps.
    let warmup: Int64 = 1_000_000_000
    let duration = Int64(options.seconds * 1e9)
    let start = monotonicNanoseconds()
    let windowStart = start + warmup
    let windowEnd = windowStart + duration
    for measurement in fullMeasurements + narrowMeasurements {
        measurement.windowStart = windowStart
        measurement.windowEnd = windowEnd
    }
    try await requestChannel.eventLoop.submit { requester.measuring = false }.get()
    let published = NIOLockedValueBox(0)
    let publishCosts = NIOLockedValueBox<[Int64]>([])
    let rate = options.rate
    let publisher = Thread {
        var count = 0
        var measured = 0
        var costs: [Int64] = []
        costs.reserveCapacity(Int(options.seconds + 2) * rate)
        while true {
            let now = monotonicNanoseconds()
            if now >= windowEnd + 200_000_000 { break }
            let due = Int((now - start) * Int64(rate) / 1_000_000_000)
            while count < due {
                count += 1
                let channel = count % 60 + 1
                let before = monotonicNanoseconds()
                hub.publish(
                    CTIEvent(
                        .channelDTMF, callID: "call-\(channel)", channel: channel, span: channel <= 31 ? 1 : 2,
                        fields: [("digit", .string(String(count % 10))), ("duration_ms", 80)]))
                costs.append(monotonicNanoseconds() - before)
                if now >= windowStart && now < windowEnd { measured += 1 }
            }
            var pause = timespec(tv_sec: 0, tv_nsec: 500_000)
            nanosleep(&pause, nil)
        }
        published.withLockedValue { $0 = measured }
        publishCosts.withLockedValue { $0 = costs }
    }
    // Switch the request client's measuring on for the window.
    try await Task.sleep(for: .nanoseconds(max(0, windowStart - monotonicNanoseconds())))
    try await requestChannel.eventLoop.submit { requester.measuring = true }.get()
    let cpuStart = processCPUNanoseconds()
    try await Task.sleep(for: .nanoseconds(max(0, windowEnd - monotonicNanoseconds())))
    let cpuUsed = processCPUNanoseconds() - cpuStart
    try await requestChannel.eventLoop.submit {
        requester.measuring = false
        requester.running = false
    }.get()
    publisher.join()
    try await Task.sleep(for: .milliseconds(300))

    for channel in channels { try? await channel.close() }
    await server.stop()

    let seconds = Double(duration) / 1e9
    let narrowDeliveries = narrowMeasurements.map(\.events).reduce(0, +)
    let deliveries = fullMeasurements.map(\.events).reduce(0, +) + narrowDeliveries
    let allLatencies = fullMeasurements.flatMap(\.latencies)
    let (pings, statuses) = try await requestChannel.eventLoop.submit { (requester.ping, requester.status) }.get()
    return PhaseResult(
        slowestClientEventsPerSecond: Double(fullMeasurements.map(\.events).min() ?? 0) / seconds,
        p50LatencyMs: percentile(allLatencies, 0.5), p99LatencyMs: percentile(allLatencies, 0.99),
        pingP99Ms: percentile(pings, 0.99), statusP99Ms: percentile(statuses, 0.99),
        gaps: fullMeasurements.map(\.gaps).reduce(0, +), overflows: fullMeasurements.filter(\.overflowed).count,
        published: published.withLockedValue { $0 },
        publishP50Us: percentile(publishCosts.withLockedValue { $0 }, 0.5) * 1000,
        publishP99Us: percentile(publishCosts.withLockedValue { $0 }, 0.99) * 1000,
        cpuNanosecondsPerDelivery: Double(cpuUsed) / Double(max(1, deliveries)), cpuLoad: Double(cpuUsed) / Double(duration))
}

/// A thread for the publisher: the gateway publishes from its signalling threads, not from tasks.
final class Thread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: () -> Void
    init(_ body: @escaping () -> Void) {
        self.body = body
        let box = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { raw in
            let me = Unmanaged<Thread>.fromOpaque(raw!).takeRetainedValue()
            me.body()
            return nil
        }, box.toOpaque())
    }
    func join() { pthread_join(thread, nil) }
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)
let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)
print("trunkbench-cti: \(options.rate) events/s for \(options.seconds) s to \(options.full) full subscribers, request client ping/span.status every 2 ms; phase B adds \(options.narrow) one-channel subscribers\(options.quietNarrow ? " on channels with no events" : ""); \(options.runs) runs, medians")
print("cores: \(System.coreCount)")
var resultsA: [PhaseResult] = []
var resultsB: [PhaseResult] = []
func show(_ label: String, _ r: PhaseResult) {
    print(
        "\(label): published \(Int(Double(r.published) / options.seconds))/s, slowest client \(Int(r.slowestClientEventsPerSecond)) events/s, latency p50 \(format3(r.p50LatencyMs)) ms p99 \(format3(r.p99LatencyMs)) ms, ping p99 \(format3(r.pingP99Ms)) ms, span.status p99 \(format3(r.statusP99Ms)) ms, gaps \(r.gaps), overflows \(r.overflows), publish() p50 \(format3(r.publishP50Us)) µs p99 \(format3(r.publishP99Us)) µs, process CPU \(format3(r.cpuLoad)) cores, \(Int(r.cpuNanosecondsPerDelivery)) ns CPU per delivered event")
}
func format3(_ value: Double) -> String {
    let scaled = (value * 1000).rounded() / 1000
    return "\(scaled)"
}
for run in 1...options.runs {
    let a = try await runPhase(options: options, narrow: 0, serverGroup: serverGroup, clientGroup: clientGroup)
    show("run \(run) A (\(options.full) full)", a)
    resultsA.append(a)
    let b = try await runPhase(options: options, narrow: options.narrow, serverGroup: serverGroup, clientGroup: clientGroup)
    show("run \(run) B (\(options.full) full + \(options.narrow) narrow)", b)
    resultsB.append(b)
}
func summary(_ results: [PhaseResult]) -> (Double, Double, Double, Double, Double) {
    (
        median(results.map(\.slowestClientEventsPerSecond)), median(results.map(\.p99LatencyMs)), median(results.map(\.pingP99Ms)),
        median(results.map(\.statusP99Ms)), median(results.map(\.p50LatencyMs))
    )
}
let (rateA, p99A, pingA, statusA, p50A) = summary(resultsA)
let (rateB, p99B, pingB, statusB, p50B) = summary(resultsB)
print("")
print("median            events/s/client  latency p50 ms  latency p99 ms  ping p99 ms  span.status p99 ms")
print("A \(options.full) full        \(Int(rateA))            \(format3(p50A))           \(format3(p99A))           \(format3(pingA))        \(format3(statusA))")
print("B +\(options.narrow) narrow     \(Int(rateB))            \(format3(p50B))           \(format3(p99B))           \(format3(pingB))        \(format3(statusB))")
print("B/A ratio         \(format3(rateB / rateA))            \(format3(p50B / p50A))           \(format3(p99B / p99A))           \(format3(pingB / pingA))        \(format3(statusB / statusA))")
print("targets: ≥ \(options.rate) events/s per client, event p99 ≤ 10 ms, request p99 ≤ 5 ms, B within 10 % of A")
try await serverGroup.shutdownGracefully()
try await clientGroup.shutdownGracefully()
