import TrunkCore

/// One simulated span: an E1 port (framer, HDLC controller, elastic store) or an analog card.
/// It turns its channels' transmit buffers into line signals each tick and line signals back
/// into receive buffers and events, with the span's impairments applied on the way in.
final class SimSpan {
    let description: SimulatorTopology.Span
    let baseChannel: Int
    let channels: [VirtualChannel]
    var number: Int { description.number }

    var impairments = Impairments()
    private(set) var alarms: SpanAlarms = []
    /// Maintenance loopback; the cable applies it when it carries the tick's signals.
    var loopback: SpanLoopback = .off
    var counters = SpanCounters()

    // E1 state
    private var transmitter = E1Transmitter()
    private var receiver = E1Receiver()
    private var encoder = HDLCEncoder()
    private var decoder = HDLCDecoder()
    private var elastic = ElasticStore()
    private var random: ImpairmentRandom
    private var bitsToNextError = Int.max
    private var slipCountdown = 0
    private var ticksThisSecond = 0
    private var erroredThisSecond = false
    private var hdlcResults: [HDLCReceiveResult] = []
    private(set) var transmitBuffer: [UInt8]
    private var receiveBuffer: [UInt8]
    private var payloadBuffer: [UInt8]
    let dChannel: VirtualChannel?

    init(description: SimulatorTopology.Span, baseChannel: Int, timing: AnalogTiming) {
        self.description = description
        self.baseChannel = baseChannel
        var channels: [VirtualChannel] = []
        for position in 1...description.ports {
            let signalling: ChannelSignalling
            switch description.kind {
            case .e1: signalling = position == E1Wire.dChannelTimeslot ? .hdlc : .bearer
            case .fxs: signalling = .fxoKewlStart
            case .fxo: signalling = .fxsKewlStart
            }
            channels.append(VirtualChannel(number: baseChannel + position - 1, span: description.number, chanPos: position,
                                           signalling: signalling, law: description.law, timing: timing))
        }
        self.channels = channels
        dChannel = description.kind == .e1 ? channels[E1Wire.dChannelTimeslot - 1] : nil
        random = ImpairmentRandom(seed: 0x5EED_0000 + UInt64(description.number))
        let tickBytes = description.kind == .e1 ? E1Wire.bytesPerTick : 0
        transmitBuffer = Array(repeating: 0, count: tickBytes)
        receiveBuffer = Array(repeating: 0, count: tickBytes)
        payloadBuffer = Array(repeating: 0, count: tickBytes)
        transmitter.crc4Enabled = description.crc4
        receiver.crc4Enabled = description.crc4
        hdlcResults.reserveCapacity(8)
    }

    func channel(atPosition position: Int) -> VirtualChannel? {
        position >= 1 && position <= channels.count ? channels[position - 1] : nil
    }

    func apply(_ newImpairments: Impairments) throws(TrunkError) {
        if newImpairments.echoModel != 0 {
            guard description.kind != .e1 else { throw TrunkError(.invalidArgument, "span \(number): echo paths are set on analog ports") }
            for channel in channels {
                channel.echoPath = try EchoPath(model: newImpairments.echoModel, erlDB: newImpairments.echoReturnLossDB,
                                                delayMs: newImpairments.echoDelayMs)
            }
        } else {
            for channel in channels { channel.echoPath = nil }
        }
        guard newImpairments.bitErrorRate >= 0 && newImpairments.bitErrorRate <= 0.5 else {
            throw TrunkError(.invalidArgument, "bit error ratio must be between 0 and 0.5, not \(newImpairments.bitErrorRate)")
        }
        guard newImpairments.delayMs >= 0 && newImpairments.delayMs <= ElasticStore.maximumDelayMs else {
            throw TrunkError(.invalidArgument, "delay must be 0…\(ElasticStore.maximumDelayMs) ms, not \(newImpairments.delayMs)")
        }
        guard newImpairments.slipEveryMs >= 0 else { throw TrunkError(.invalidArgument, "slip interval cannot be negative") }
        if newImpairments.bitErrorRate != impairments.bitErrorRate {
            bitsToNextError = random.gapUntilNextError(rate: newImpairments.bitErrorRate)
        }
        elastic.setDelay(ms: newImpairments.delayMs)
        slipCountdown = newImpairments.slipEveryMs
        impairments = newImpairments
    }

    /// Damage the FCS of the next `count` D-channel frames this span sends.
    func corruptOutgoingFrames(_ count: Int) { encoder.corruptNextFrames(count) }

    func queueFrame(_ frame: [UInt8]) -> Bool {
        guard encoder.queuedFrames < VirtualChannel.maximumQueuedFrames else { return false }
        encoder.enqueue(frame)
        return true
    }

    func resetCounters() {
        counters = SpanCounters()
        receiver.fasErrors = 0
        receiver.crc4Errors = 0
        receiver.eBitErrors = 0
    }

    // MARK: E1

    /// Builds this tick's 256 bytes for the line.
    func transmitE1() {
        transmitBuffer.withUnsafeMutableBufferPointer { out in
            for channel in channels where channel.signalling == .bearer {
                let chunk = channel.pullTransmitChunk()
                for frame in 0..<E1Wire.framesPerTick {
                    out[E1Wire.index(frame: frame, timeslot: channel.chanPos)] = chunk[frame]
                }
            }
            for frame in 0..<E1Wire.framesPerTick {
                out[E1Wire.index(frame: frame, timeslot: E1Wire.dChannelTimeslot)] = encoder.nextOctet()
            }
            transmitter.frameTick(out, remoteAlarm: alarms.contains(.red) || alarms.contains(.blue))
        }
    }

    /// Takes the far end's 256 bytes for this tick (nil: nothing arrives, as on a dead link).
    func receiveE1(_ wire: UnsafeBufferPointer<UInt8>?) {
        receiveBuffer.withUnsafeMutableBufferPointer { rx in
            if let wire, !impairments.cut {
                for index in 0..<E1Wire.bytesPerTick { rx[index] = wire[index] }
            } else {
                for index in 0..<E1Wire.bytesPerTick { rx[index] = 0 }
            }
            if impairments.alarmIndicationSignal {
                for index in 0..<E1Wire.bytesPerTick { rx[index] = 0xFF }
            }
            injectBitErrors(rx)
            receiver.receive(UnsafeBufferPointer(rx))
        }
        if receiver.crcErrorThisTick { transmitter.pendingEBits[0] = false }
        counters.framingErrors = receiver.fasErrors
        counters.crc4Errors = receiver.crc4Errors
        counters.eBitErrors = receiver.eBitErrors
        if receiver.crcErrorThisTick || receiver.los || receiver.lfa { erroredThisSecond = true }
        ticksThisSecond += 1
        if ticksThisSecond == Tick.ticksPerSecond {
            if erroredThisSecond { counters.erroredSeconds += 1 }
            ticksThisSecond = 0
            erroredThisSecond = false
        }
        updateAlarms()

        var slip = false
        if impairments.slipEveryMs > 0 {
            slipCountdown -= 1
            if slipCountdown <= 0 {
                slip = true
                slipCountdown = impairments.slipEveryMs
                counters.slips += 1
            }
        }
        let idleByte = description.law.silence
        receiveBuffer.withUnsafeBufferPointer { rx in
            payloadBuffer.withUnsafeMutableBufferPointer { payload in
                elastic.pass(rx, into: payload, slip: slip) { out, frame in
                    for slot in 0..<E1Wire.timeslots { out[E1Wire.index(frame: frame, timeslot: slot)] = idleByte }
                    out[E1Wire.index(frame: frame, timeslot: E1Wire.dChannelTimeslot)] = 0x7E
                }
            }
        }
        deliverPayload()
    }

    private func injectBitErrors(_ rx: UnsafeMutableBufferPointer<UInt8>) {
        guard impairments.bitErrorRate > 0 else { return }
        let dOnly = impairments.bitErrorsOnDChannelOnly
        var bitsLeft = dOnly ? E1Wire.framesPerTick * 8 : E1Wire.bytesPerTick * 8
        var position = 0
        while bitsToNextError < bitsLeft {
            position += bitsToNextError
            bitsLeft -= bitsToNextError + 1
            let byteIndex = dOnly ? E1Wire.index(frame: position / 8, timeslot: E1Wire.dChannelTimeslot) : position / 8
            rx[byteIndex] ^= UInt8(0x80) >> UInt8(position % 8)
            // HDB3 turns a single bit error into a bipolar violation at the line interface.
            counters.bipolarViolations += 1
            position += 1
            bitsToNextError = random.gapUntilNextError(rate: impairments.bitErrorRate)
        }
        bitsToNextError -= bitsLeft
    }

    private func deliverPayload() {
        payloadBuffer.withUnsafeBufferPointer { payload in
            for channel in channels where channel.signalling == .bearer {
                var chunk = SIMD8<UInt8>()
                for frame in 0..<E1Wire.framesPerTick {
                    chunk[frame] = payload[E1Wire.index(frame: frame, timeslot: channel.chanPos)]
                }
                channel.pushReceiveChunk(chunk)
            }
            hdlcResults.removeAll(keepingCapacity: true)
            for frame in 0..<E1Wire.framesPerTick {
                decoder.receive(payload[E1Wire.index(frame: frame, timeslot: E1Wire.dChannelTimeslot)], into: &hdlcResults)
            }
        }
        guard let dChannel else { return }
        for result in hdlcResults {
            switch result {
            case .frame(let frame):
                guard dChannel.isOpen else { continue }
                if dChannel.receivedFrames.count >= VirtualChannel.maximumQueuedFrames {
                    counters.overruns += 1
                    dChannel.queue(ChannelEvent(.overrun))
                } else {
                    dChannel.receivedFrames.append(frame)
                }
            case .badFCS:
                counters.badFCS += 1
                dChannel.queue(ChannelEvent(.badFCS))
            case .abort:
                counters.aborts += 1
                dChannel.queue(ChannelEvent(.abort))
            }
        }
    }

    private func updateAlarms() {
        var next: SpanAlarms = []
        if receiver.ais {
            next.insert(.blue)
        } else if receiver.los {
            next.formUnion([.red, .los])
        } else if receiver.lfa {
            next.formUnion([.red, .lfa])
        } else if receiver.lmfa {
            next.formUnion([.red, .lmfa])
        } else if receiver.remoteAlarm {
            next.insert(.yellow)
        }
        if loopback != .off { next.insert(.loopback) }
        setAlarms(next)
    }

    func setAlarms(_ next: SpanAlarms) {
        guard next != alarms else { return }
        alarms = next
        let event = ChannelEvent(next.isEmpty ? .noAlarm : .alarm)
        for channel in channels { channel.queue(event) }
    }

    // MARK: analog

    /// The line signal port `position` puts on its wire this tick.
    func transmitAnalog(position: Int) -> AnalogLineSignal {
        let channel = channels[position - 1]
        var signal = AnalogLineSignal()
        var events: [ChannelEvent] = []
        channel.fxs?.transmit(&signal, events: &events)
        channel.fxo?.transmit(&signal)
        channel.queue(events)
        let chunk = channel.pullTransmitChunk()
        for lane in 0..<Tick.samplesPerTick { signal.samples[lane] = channel.law.decode(chunk[lane]) }
        return signal
    }

    /// What port `position` hears; `own` is what it sent this tick (the source of hybrid echo).
    func receiveAnalog(position: Int, from remote: AnalogLineSignal?, own: AnalogLineSignal) {
        let channel = channels[position - 1]
        var signal = remote ?? AnalogLineSignal(battery: false, ringing: false, polarityReversed: false, loopClosed: false)
        if impairments.cut { signal = AnalogLineSignal(battery: false, ringing: false, polarityReversed: false, loopClosed: false) }
        var events: [ChannelEvent] = []
        channel.fxs?.receive(signal, events: &events)
        channel.fxo?.receive(signal, events: &events)
        channel.queue(events)
        var heard = SIMD8<Float>(signal.samples)
        if channel.echoPath != nil { heard += channel.echoPath!.echo(of: own.samples) }
        var chunk = SIMD8<UInt8>()
        for lane in 0..<Tick.samplesPerTick {
            let sample = Int16(max(-32768, min(32767, heard[lane].rounded())))
            chunk[lane] = channel.law.encode(sample)
        }
        channel.pushReceiveChunk(chunk)
    }
}
