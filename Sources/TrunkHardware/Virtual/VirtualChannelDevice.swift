import TrunkCore

/// An open channel of the line simulator, with the semantics of an open DAHDI channel.
final class VirtualChannelDevice: ChannelDevice, @unchecked Sendable {
    let channel: Int
    private let simulator: LineSimulator
    private var closed = false

    init(simulator: LineSimulator, channel: Int) {
        self.simulator = simulator
        self.channel = channel
    }

    deinit { close() }

    private func withOpenChannel<R>(_ body: (VirtualChannel, SimSpan) throws(TrunkError) -> R) throws(TrunkError) -> R {
        try simulator.withChannel(channel) { (channel, span) throws(TrunkError) -> R in
            guard channel.isOpen else { throw TrunkError(.invalidArgument, "channel \(channel.number) is closed") }
            return try body(channel, span)
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> DeviceIO {
        (try? withOpenChannel { channel, _ in channel.read(into: buffer) }) ?? .wouldBlock
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> DeviceIO {
        (try? withOpenChannel { channel, span in channel.write(bytes) { span.queueFrame($0) } }) ?? .wouldBlock
    }

    func nextEvent() -> ChannelEvent? {
        (try? withOpenChannel { channel, _ in channel.popEvent() }) ?? nil
    }

    func hook(_ operation: HookOperation) throws(TrunkError) {
        try withOpenChannel { (channel, _) throws(TrunkError) in
            var events: [ChannelEvent] = []
            if channel.fxs != nil {
                switch operation {
                case .ring: try channel.fxs!.startRinging()
                case .ringOff, .offHook: channel.fxs!.stopRinging(events: &events)
                case .onHook: channel.fxs!.disconnect(events: &events)
                case .wink, .flash, .start:
                    throw TrunkError(.invalidArgument, "channel \(channel.number) is an FXS port: \(operation) does not apply")
                }
            } else if channel.fxo != nil {
                switch operation {
                case .offHook: channel.fxo!.setHook(offHook: true)
                case .onHook: channel.fxo!.setHook(offHook: false)
                case .flash: try channel.fxo!.flash()
                case .ring, .ringOff, .wink, .start:
                    throw TrunkError(.invalidArgument, "channel \(channel.number) is an FXO port: \(operation) does not apply")
                }
            } else {
                throw TrunkError(.invalidArgument, "channel \(channel.number) is a digital channel: hook operations need an analog port")
            }
            channel.queue(events)
        }
    }

    func setPolarity(reversed: Bool) throws(TrunkError) {
        try withOpenChannel { (channel, _) throws(TrunkError) in
            guard channel.fxs != nil else { throw TrunkError(.invalidArgument, "channel \(channel.number): only an FXS port can reverse polarity") }
            channel.fxs!.polarityReversed = reversed
        }
    }

    func setLaw(_ law: AudioLaw) throws(TrunkError) {
        try withOpenChannel { channel, _ in channel.law = law }
    }

    func setLinear(_ linear: Bool) throws(TrunkError) {
        try withOpenChannel { (channel, _) throws(TrunkError) in
            guard channel.signalling != .hdlc else { throw TrunkError(.invalidArgument, "channel \(channel.number) is a D-channel: it carries frames, not audio") }
            channel.linear = linear
        }
    }

    func setBlockSize(_ samples: Int) throws(TrunkError) {
        guard samples >= 8 && samples <= 8000 else { throw TrunkError(.invalidArgument, "block size must be 8…8000 samples, not \(samples)") }
        try withOpenChannel { channel, _ in
            channel.blockSize = samples
            channel.resizeBuffers()
        }
    }

    func setBufferPolicy(_ policy: BufferPolicy, buffers: Int) throws(TrunkError) {
        guard buffers >= 2 && buffers <= 32 else { throw TrunkError(.invalidArgument, "buffer count must be 2…32, not \(buffers)") }
        try withOpenChannel { channel, _ in
            channel.policy = policy
            channel.bufferCount = buffers
            channel.resizeBuffers()
        }
    }

    func setRingCadence(_ cadence: [Int]) throws(TrunkError) {
        guard !cadence.isEmpty, cadence.count % 2 == 0, cadence.count <= 40, cadence.allSatisfy({ $0 > 0 && $0 <= 10000 }) else {
            throw TrunkError(.invalidArgument, "a ring cadence is 2…40 on/off times of 1…10000 ms, in pairs")
        }
        try withOpenChannel { (channel, _) throws(TrunkError) in
            guard channel.fxs != nil else { throw TrunkError(.invalidArgument, "channel \(channel.number): only an FXS port rings") }
            channel.fxs!.cadence = cadence
        }
    }

    func parameters() -> ChannelParameters {
        try! simulator.withChannel(channel) { channel, span in
            ChannelParameters(channel: channel.number, span: span.number, chanPos: channel.chanPos, signalling: channel.signalling,
                              law: channel.law, linear: channel.linear, blockSize: channel.blockSize, hookState: channel.hookState,
                              polarityReversed: channel.fxs?.polarityReversed ?? channel.fxo?.polarityReversed ?? false,
                              alarms: span.alarms, isOpen: channel.isOpen)
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        try? simulator.withChannel(channel) { channel, _ in channel.close() }
    }
}
