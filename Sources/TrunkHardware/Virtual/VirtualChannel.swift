import TrunkCore

/// One channel of the simulated "kernel": its buffers, settings, event queue and, for analog
/// ports, the port's supervision state. Only an open channel buffers audio and queues events,
/// as with DAHDI, where nobody is there to read them otherwise.
final class VirtualChannel {
    static let maximumQueuedEvents = 64
    static let maximumQueuedFrames = 32

    let number: Int
    let span: Int
    let chanPos: Int
    let signalling: ChannelSignalling
    var law: AudioLaw
    var linear = false
    var blockSize = 160
    var bufferCount = 4
    var policy = BufferPolicy.immediate
    private(set) var isOpen = false

    private(set) var rx: ByteRing
    private(set) var tx: ByteRing
    private var transmitting = false
    private var underrunReported = false
    private var overrunReported = false
    private var events: [ChannelEvent] = []
    private var eventHead = 0
    /// D-channel frames received, each with its 2 FCS bytes.
    var receivedFrames: [[UInt8]] = []

    var fxs: FXSPortState?
    var fxo: FXOPortState?
    var echoPath: EchoPath?

    init(number: Int, span: Int, chanPos: Int, signalling: ChannelSignalling, law: AudioLaw, timing: AnalogTiming) {
        self.number = number
        self.span = span
        self.chanPos = chanPos
        self.signalling = signalling
        self.law = law
        rx = ByteRing(capacity: 160 * 4)
        tx = ByteRing(capacity: 160 * 4)
        switch signalling {
        case .fxoKewlStart: fxs = FXSPortState(timing: timing)
        case .fxsKewlStart: fxo = FXOPortState(timing: timing)
        case .bearer, .hdlc: break
        }
    }

    var hookState: HookState { fxs?.hookState ?? fxo?.hookState ?? .offHook }
    var hasPendingEvent: Bool { eventHead < events.count }

    func open() throws(TrunkError) {
        guard !isOpen else { throw TrunkError(.busy, "channel \(number) is already open") }
        isOpen = true
        linear = false
        blockSize = 160
        bufferCount = 4
        rx.resize(capacity: blockSize * bufferCount)
        tx.resize(capacity: blockSize * bufferCount)
        events.removeAll()
        eventHead = 0
        receivedFrames.removeAll()
    }

    func close() {
        isOpen = false
        rx.removeAll()
        tx.removeAll()
        receivedFrames.removeAll()
        events.removeAll()
        eventHead = 0
        // Closing a channel puts analog ports back on hook, as the kernel does on release.
        var ignored: [ChannelEvent] = []
        fxs?.stopRinging(events: &ignored)
        fxo?.setHook(offHook: false)
    }

    func resizeBuffers() {
        rx.resize(capacity: blockSize * bufferCount)
        tx.resize(capacity: blockSize * bufferCount)
        transmitting = false
    }

    func queue(_ event: ChannelEvent) {
        guard isOpen else { return }
        if events.count - eventHead >= Self.maximumQueuedEvents { eventHead += 1 }
        events.append(event)
        if eventHead > 32 {
            events.removeFirst(eventHead)
            eventHead = 0
        }
    }

    func queue(_ newEvents: [ChannelEvent]) {
        for event in newEvents { queue(event) }
    }

    func popEvent() -> ChannelEvent? {
        guard eventHead < events.count else { return nil }
        let event = events[eventHead]
        eventHead += 1
        if eventHead == events.count {
            events.removeAll(keepingCapacity: true)
            eventHead = 0
        }
        return event
    }

    // MARK: audio as the line sees it (one tick: 8 samples)

    /// Bytes for the line this tick, in the channel's law; silence when idle or underrun.
    func pullTransmitChunk() -> SIMD8<UInt8> {
        var chunk = SIMD8<UInt8>(repeating: law.silence)
        guard isOpen else { return chunk }
        if !transmitting {
            let threshold: Int
            switch policy {
            case .immediate: threshold = 1
            case .whenFull: threshold = tx.capacity
            case .halfFull: threshold = tx.capacity / 2
            }
            guard tx.count >= threshold else { return chunk }
            transmitting = true
        }
        if tx.count < Tick.samplesPerTick {
            if !underrunReported {
                underrunReported = true
                queue(ChannelEvent(.writeUnderrun))
            }
            transmitting = policy == .immediate ? transmitting : false
        } else {
            underrunReported = false
        }
        for lane in 0..<Tick.samplesPerTick {
            guard let byte = tx.pop() else { break }
            chunk[lane] = byte
        }
        return chunk
    }

    /// Stores 8 received bytes (already in the channel's law) for the reader.
    func pushReceiveChunk(_ chunk: SIMD8<UInt8>) {
        guard isOpen else { return }
        guard rx.freeSpace >= Tick.samplesPerTick else {
            if !overrunReported {
                overrunReported = true
                queue(ChannelEvent(.readOverrun))
            }
            return
        }
        overrunReported = false
        for lane in 0..<Tick.samplesPerTick { rx.append(chunk[lane]) }
    }

    // MARK: the reader's and writer's side

    func read(into buffer: UnsafeMutableRawBufferPointer) -> DeviceIO {
        if hasPendingEvent { return .eventPending }
        if signalling == .hdlc {
            guard !receivedFrames.isEmpty else { return .wouldBlock }
            let frame = receivedFrames.removeFirst()
            let count = min(frame.count, buffer.count)
            for index in 0..<count { buffer[index] = frame[index] }
            return .transferred(count)
        }
        let samples = min(blockSize, buffer.count / (linear ? 2 : 1))
        guard samples > 0, rx.count >= samples else { return .wouldBlock }
        if linear {
            for index in 0..<samples {
                let value = UInt16(bitPattern: law.decode(rx.pop()!))
                buffer[2 * index] = UInt8(truncatingIfNeeded: value)
                buffer[2 * index + 1] = UInt8(truncatingIfNeeded: value >> 8)
            }
            return .transferred(samples * 2)
        }
        return .transferred(rx.pop(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<samples])))
    }

    /// Writes audio; for an HDLC channel, one frame plus 2 bytes of FCS room, handed to `sendFrame`.
    func write(_ bytes: UnsafeRawBufferPointer, sendFrame: ([UInt8]) -> Bool) -> DeviceIO {
        if hasPendingEvent { return .eventPending }
        if signalling == .hdlc {
            guard bytes.count > 2 else { return .transferred(0) }
            return sendFrame(Array(bytes[0..<(bytes.count - 2)])) ? .transferred(bytes.count) : .wouldBlock
        }
        if linear {
            let samples = min(bytes.count / 2, tx.freeSpace)
            guard samples > 0 else { return .wouldBlock }
            for index in 0..<samples {
                let value = Int16(bitPattern: UInt16(bytes[2 * index]) | UInt16(bytes[2 * index + 1]) << 8)
                tx.append(law.encode(value))
            }
            return .transferred(samples * 2)
        }
        let taken = tx.append(bytes)
        return taken == 0 && bytes.count > 0 ? .wouldBlock : .transferred(taken)
    }
}
