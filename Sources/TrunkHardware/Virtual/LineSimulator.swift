import TrunkCore

/// The virtual backend: a line simulator that behaves like DAHDI hardware. Spans are cabled in
/// pairs and every tick moves real line signals between them: E1 frames with G.704 framing,
/// CRC-4 and an HDLC D-channel; analog loops with battery, ringing, polarity and audio.
/// It is driven by `SimulatorClock` (real time), by `tick(count:)` (tests, as fast as the CPU
/// allows), or by a `SimulatorLink` when the far ends live in another process.
public final class LineSimulator: TelephonyBackend, @unchecked Sendable {
    public let name = "virtual"
    private let lock = KernelLock()
    private let kernel: SimKernel
    private var outgoing: [UInt8]
    private var observers: [@Sendable (UInt64) -> Void] = []
    /// How ticks reach the far ends across a `SimulatorLinkMaster`; nil: they stay dead.
    private var linkExchange: ((UnsafeRawBufferPointer, UInt64) -> UnsafeRawBufferPointer?)?

    public init(topology: SimulatorTopology = .embeddedDefault, localSpans: Set<Int>? = nil,
                timing: AnalogTiming = AnalogTiming()) throws(TrunkError) {
        kernel = try SimKernel(topology: topology, local: localSpans, timing: timing)
        outgoing = Array(repeating: 0, count: kernel.remotePayloadSize)
    }

    public var topology: SimulatorTopology { kernel.topology }
    public var localSpanNumbers: [Int] { lock.withLock { kernel.spans.map(\.number) } }
    public var tickCount: UInt64 { lock.withLock { kernel.tickCount } }
    /// Bytes each tick carries across a `SimulatorLink` in each direction.
    public var remotePayloadSize: Int { outgoing.count }
    public var hasRemoteEnds: Bool { !outgoing.isEmpty }

    /// Called after every tick, outside the simulator's lock, on the ticking thread.
    public func addTickObserver(_ observer: @escaping @Sendable (UInt64) -> Void) {
        lock.withLock { observers.append(observer) }
    }

    /// Advances the simulator `count` milliseconds at once.
    public func tick(count: Int = 1) {
        for _ in 0..<count { tickOnce(exchange: linkExchange) }
    }

    func attach(exchange: @escaping (UnsafeRawBufferPointer, UInt64) -> UnsafeRawBufferPointer?) {
        lock.withLock { linkExchange = exchange }
    }

    /// One tick whose remote ends swap payloads through `exchange` (see `SimulatorLink`).
    func tickOnce(exchange: ((UnsafeRawBufferPointer, UInt64) -> UnsafeRawBufferPointer?)?) {
        let (now, observers) = lock.withLock {
            let tick = kernel.tickCount
            kernel.tick(exchange: exchange.map { exchange in { exchange($0, tick) } }, outgoing: &outgoing)
            return (kernel.tickCount, self.observers)
        }
        for observer in observers { observer(now) }
    }

    // MARK: status

    public func spanStatuses() -> [SpanStatus] {
        lock.withLock { kernel.spans.map(status(of:)) }
    }

    public func spanStatus(_ number: Int) throws(TrunkError) -> SpanStatus {
        try lock.withLock { () throws(TrunkError) -> SpanStatus in status(of: try span(number)) }
    }

    /// DAHDI's system timing source: a span number, or 0 for the internal clock.
    public var syncSource: Int { lock.withLock { kernel.syncSource } }

    public func channelParameters(span number: Int) throws(TrunkError) -> [ChannelParameters] {
        try lock.withLock { () throws(TrunkError) -> [ChannelParameters] in
            let span = try span(number)
            return span.channels.map { parameters(of: $0, span: span) }
        }
    }

    private func span(_ number: Int) throws(TrunkError) -> SimSpan {
        guard let span = kernel.span(number) else {
            let known = kernel.spans.map { String($0.number) }.joined(separator: ", ")
            throw TrunkError(.notFound, "span \(number) does not exist (spans here: \(known))")
        }
        return span
    }

    private func status(of span: SimSpan) -> SpanStatus {
        let d = span.description
        let kindText: String
        switch d.kind {
        case .e1: kindText = "E1 PRI \(d.role == .network ? "network side (carrier)" : "user side (trunk)")"
        case .fxs: kindText = "analog card, \(d.ports) FXS ports"
        case .fxo: kindText = "analog card, \(d.ports) FXO ports"
        }
        var cabledTo = ""
        for cable in kernel.topology.cables where cable.a == d.number || cable.b == d.number {
            cabledTo = ", cabled to span \(cable.a == d.number ? cable.b : cable.a)"
        }
        return SpanStatus(
            span: d.number, name: "VIRTUAL/\(d.number)", description: "Virtual \(kindText)\(cabledTo)",
            type: d.kind == .e1 ? .e1 : .analog, role: d.role, alarms: span.alarms, counters: span.counters,
            timingPriority: d.timingPriority, lineCode: d.kind == .e1 ? "HDB3" : nil,
            framing: d.kind == .e1 ? (d.crc4 ? "CCS/CRC4" : "CCS") : nil,
            baseChannel: span.baseChannel, totalChannels: span.channels.count, backend: name)
    }

    private func parameters(of channel: VirtualChannel, span: SimSpan) -> ChannelParameters {
        ChannelParameters(channel: channel.number, span: span.number, chanPos: channel.chanPos, signalling: channel.signalling,
                          law: channel.law, linear: channel.linear, blockSize: channel.blockSize, hookState: channel.hookState,
                          polarityReversed: channel.fxs?.polarityReversed ?? channel.fxo?.polarityReversed ?? false,
                          alarms: span.alarms, isOpen: channel.isOpen)
    }

    // MARK: impairments

    public func impairments(span number: Int) throws(TrunkError) -> Impairments {
        try lock.withLock { () throws(TrunkError) -> Impairments in try span(number).impairments }
    }

    public func setImpairments(_ impairments: Impairments, span number: Int) throws(TrunkError) {
        try lock.withLock { () throws(TrunkError) in try span(number).apply(impairments) }
    }

    /// Puts an E1 span in (or out of) maintenance loopback; the span reports LOOPBACK meanwhile.
    public func setLoopback(_ mode: SpanLoopback, span number: Int) throws(TrunkError) {
        try lock.withLock { () throws(TrunkError) in
            let span = try span(number)
            guard span.description.kind == .e1 else {
                throw TrunkError(.invalidArgument, "span \(number) is an analog card: loopback applies to E1 spans")
            }
            guard mode != .network || !kernel.isRemote(span: number) else {
                throw TrunkError(.unavailable, "span \(number): its far end runs in trunksim; network loopback needs both ends here (use local)")
            }
            span.loopback = mode
        }
    }

    public func loopback(span number: Int) throws(TrunkError) -> SpanLoopback {
        try lock.withLock { () throws(TrunkError) -> SpanLoopback in try span(number).loopback }
    }

    /// Cuts the receive pair of `span`: it loses signal (RED); the far end gets RAI (YELLOW).
    public func cut(span number: Int) throws(TrunkError) {
        var impairments = try impairments(span: number)
        impairments.cut = true
        try setImpairments(impairments, span: number)
    }

    /// Undoes `cut` (and only that).
    public func restore(span number: Int) throws(TrunkError) {
        var impairments = try impairments(span: number)
        impairments.cut = false
        impairments.alarmIndicationSignal = false
        try setImpairments(impairments, span: number)
    }

    /// Damages the FCS of the next `count` D-channel frames that `span` sends.
    public func corruptOutgoingFrames(span number: Int, count: Int) throws(TrunkError) {
        guard count >= 0 else { throw TrunkError(.invalidArgument, "frame count cannot be negative") }
        try lock.withLock { () throws(TrunkError) in
            let span = try span(number)
            guard span.dChannel != nil else { throw TrunkError(.invalidArgument, "span \(number) has no D-channel") }
            span.corruptOutgoingFrames(count)
        }
    }

    public func resetCounters(span number: Int) throws(TrunkError) {
        try lock.withLock { () throws(TrunkError) in try span(number).resetCounters() }
    }

    // MARK: channels

    public func openChannel(_ number: Int) throws(TrunkError) -> any ChannelDevice {
        try lock.withLock { () throws(TrunkError) in
            guard let channel = kernel.channel(number) else {
                throw TrunkError(.notFound, "channel \(number) does not exist on this simulator")
            }
            try channel.open()
        }
        return VirtualChannelDevice(simulator: self, channel: number)
    }

    /// Runs `body` on a channel under the simulator's lock.
    func withChannel<R>(_ number: Int, _ body: (VirtualChannel, SimSpan) throws(TrunkError) -> R) throws(TrunkError) -> R {
        try lock.withLock { () throws(TrunkError) -> R in
            guard let channel = kernel.channel(number), let span = kernel.span(channel.span) else {
                throw TrunkError(.notFound, "channel \(number) does not exist on this simulator")
            }
            return try body(channel, span)
        }
    }
}
