import TrunkCore

/// The simulated "kernel": every local span and channel, the cables between them, and the
/// tick that moves one millisecond of line signal across every cable. Not thread-safe by
/// itself; `LineSimulator` serialises access the way a driver's lock would.
final class SimKernel {
    enum CableEnds {
        case e1(SimSpan, SimSpan)
        case analog(SimSpan, SimSpan)
        /// One end here, the other in another process across a `SimulatorLink`.
        case remoteE1(SimSpan)
        case remoteAnalog(SimSpan)
    }

    let topology: SimulatorTopology
    private(set) var spans: [SimSpan] = []
    private var channelsByNumber: [VirtualChannel?] = [nil]
    private(set) var cables: [CableEnds] = []
    private(set) var tickCount: UInt64 = 0
    private var analogOut: [AnalogLineSignal] = []

    /// Builds the spans in `local` (all of them when nil); cables to spans outside it become remote.
    init(topology: SimulatorTopology, local: Set<Int>?, timing: AnalogTiming) throws(TrunkError) {
        try topology.validate()
        self.topology = topology
        var nextChannel = 1
        for description in topology.spans {
            // Channel numbers are assigned across all spans, local or not, so both sides agree.
            let span = SimSpan(description: description, baseChannel: nextChannel, timing: timing)
            nextChannel += description.ports
            if local == nil || local!.contains(description.number) {
                spans.append(span)
                for channel in span.channels {
                    while channelsByNumber.count <= channel.number { channelsByNumber.append(nil) }
                    channelsByNumber[channel.number] = channel
                }
            }
        }
        for cable in topology.cables {
            let a = span(cable.a)
            let b = span(cable.b)
            let kind = topology.spans.first { $0.number == cable.a }!.kind
            switch (a, b) {
            case let (a?, b?): cables.append(kind == .e1 ? .e1(a, b) : .analog(a, b))
            case let (a?, nil), let (nil, a?): cables.append(kind == .e1 ? .remoteE1(a) : .remoteAnalog(a))
            case (nil, nil): continue
            }
        }
    }

    func span(_ number: Int) -> SimSpan? { spans.first { $0.number == number } }

    /// Whether `number`'s far end is in another process (its cable crosses the simulator link).
    func isRemote(span number: Int) -> Bool {
        cables.contains { if case .remoteE1(let span) = $0 { span.number == number } else { false } }
    }

    func channel(_ number: Int) -> VirtualChannel? {
        number > 0 && number < channelsByNumber.count ? channelsByNumber[number] : nil
    }

    /// Bytes a remote exchange carries per tick for this process's remote cable ends.
    var remotePayloadSize: Int {
        cables.reduce(0) { size, cable in
            switch cable {
            case .remoteE1: size + E1Wire.bytesPerTick
            case .remoteAnalog(let span): size + span.channels.count * AnalogLinePacking.bytesPerPort
            case .e1, .analog: size
            }
        }
    }

    /// Advances one millisecond. `exchange` carries the remote cable ends' outgoing payload to
    /// the other process and returns what came back for the same tick (nil if the peer is gone).
    func tick(exchange: ((UnsafeRawBufferPointer) -> UnsafeRawBufferPointer?)? = nil, outgoing: inout [UInt8]) {
        // 1. Every local end puts its signal on the line.
        var remoteOffset = 0
        for cable in cables {
            switch cable {
            case .e1(let a, let b):
                a.transmitE1()
                b.transmitE1()
            case .analog: break
            case .remoteE1(let span):
                span.transmitE1()
                span.transmitBuffer.withUnsafeBytes { bytes in
                    for index in 0..<E1Wire.bytesPerTick { outgoing[remoteOffset + index] = bytes[index] }
                }
                remoteOffset += E1Wire.bytesPerTick
            case .remoteAnalog(let span):
                for position in 1...span.channels.count {
                    let signal = span.transmitAnalog(position: position)
                    AnalogLinePacking.pack(signal, into: &outgoing, at: remoteOffset)
                    remoteOffset += AnalogLinePacking.bytesPerPort
                }
            }
        }
        // 2. Remote ends swap payloads with the other process.
        let incoming: UnsafeRawBufferPointer?
        if remoteOffset > 0, let exchange {
            incoming = outgoing.withUnsafeBytes { exchange(UnsafeRawBufferPointer(rebasing: $0[0..<remoteOffset])) }
        } else {
            incoming = nil
        }
        // 3. Every local end takes what arrived.
        remoteOffset = 0
        for cable in cables {
            switch cable {
            case .e1(let a, let b):
                // Local loopback: a span hears itself. Network loopback at one end: the other
                // end hears its own signal come back down the line.
                let toA = a.loopback == .local || b.loopback == .network ? a : b
                let toB = b.loopback == .local || a.loopback == .network ? b : a
                toA.transmitBuffer.withUnsafeBufferPointer { a.receiveE1($0) }
                toB.transmitBuffer.withUnsafeBufferPointer { b.receiveE1($0) }
            case .analog(let a, let b):
                for position in 1...a.channels.count {
                    let fromA = a.transmitAnalog(position: position)
                    let fromB = b.transmitAnalog(position: position)
                    a.receiveAnalog(position: position, from: fromB, own: fromA)
                    b.receiveAnalog(position: position, from: fromA, own: fromB)
                }
            case .remoteE1(let span):
                if span.loopback == .local {
                    span.transmitBuffer.withUnsafeBufferPointer { span.receiveE1($0) }
                } else if let incoming, incoming.count >= remoteOffset + E1Wire.bytesPerTick {
                    span.receiveE1(UnsafeBufferPointer(rebasing: incoming.bindMemory(to: UInt8.self)[remoteOffset..<(remoteOffset + E1Wire.bytesPerTick)]))
                } else {
                    span.receiveE1(nil)
                }
                remoteOffset += E1Wire.bytesPerTick
            case .remoteAnalog(let span):
                for position in 1...span.channels.count {
                    let own = AnalogLinePacking.unpack(outgoing, at: remoteOffset)
                    let far = incoming.flatMap { AnalogLinePacking.unpack($0, at: remoteOffset) }
                    span.receiveAnalog(position: position, from: far, own: own ?? AnalogLineSignal())
                    remoteOffset += AnalogLinePacking.bytesPerPort
                }
            }
        }
        tickCount += 1
    }

    /// The span that times the system: the best-priority span whose line is healthy, else none
    /// (0, the internal clock), as DAHDI picks its master.
    var syncSource: Int {
        var best: SimSpan?
        for span in spans where span.description.timingPriority > 0 && !span.alarms.contains(.red) && !span.alarms.contains(.blue) {
            if best == nil || span.description.timingPriority < best!.description.timingPriority { best = span }
        }
        return best?.number ?? 0
    }
}

/// Fixed layout of one analog port's line signal in a remote exchange: a flag byte and 8
/// little-endian samples.
enum AnalogLinePacking {
    static let bytesPerPort = 1 + 2 * Tick.samplesPerTick

    static func pack(_ signal: AnalogLineSignal, into buffer: inout [UInt8], at offset: Int) {
        var flags: UInt8 = 0
        if signal.battery { flags |= 1 }
        if signal.ringing { flags |= 2 }
        if signal.polarityReversed { flags |= 4 }
        if signal.loopClosed { flags |= 8 }
        buffer[offset] = flags
        for lane in 0..<Tick.samplesPerTick {
            let value = UInt16(bitPattern: signal.samples[lane])
            buffer[offset + 1 + 2 * lane] = UInt8(truncatingIfNeeded: value)
            buffer[offset + 2 + 2 * lane] = UInt8(truncatingIfNeeded: value >> 8)
        }
    }

    static func unpack(_ buffer: UnsafeRawBufferPointer, at offset: Int) -> AnalogLineSignal? {
        guard buffer.count >= offset + bytesPerPort else { return nil }
        var signal = AnalogLineSignal()
        let flags = buffer[offset]
        signal.battery = flags & 1 != 0
        signal.ringing = flags & 2 != 0
        signal.polarityReversed = flags & 4 != 0
        signal.loopClosed = flags & 8 != 0
        for lane in 0..<Tick.samplesPerTick {
            signal.samples[lane] = Int16(bitPattern: UInt16(buffer[offset + 1 + 2 * lane]) | UInt16(buffer[offset + 2 + 2 * lane]) << 8)
        }
        return signal
    }

    static func unpack(_ buffer: [UInt8], at offset: Int) -> AnalogLineSignal? {
        buffer.withUnsafeBytes { unpack($0, at: offset) }
    }
}
