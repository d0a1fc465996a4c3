import NIOConcurrencyHelpers
import TrunkAnalog
import TrunkCore
import TrunkHardware
import TrunkMedia

/// The exchange's line cards in the lab: the FXS span (span 3 in the embedded default) whose
/// ports are wired to the gateway's FXO ports. Like `LabCarrier` for PRI, it places calls into
/// the gateway — rings with China's cadence and sends caller ID in FSK or DTMF as each call
/// asks — keys DTMF in-band after the answer and hangs up after a hold time by opening the loop
/// (kewl start); and it answers the calls the gateway places: it sees the seizure, collects the
/// dialled digits, plays ringback, then answers with a polarity reversal.
///
/// It owns its ports' audio throughout (no media loop): each tick `service()` moves one block
/// per port between the device and the port's driver.
public final class LabExchange: ChannelLender, @unchecked Sendable {
    public enum CallerIDSignal: String, Sendable, Codable, CaseIterable {
        /// V.23 FSK between the first and second ring (China's usual CLIP).
        case fsk
        /// DTMF `A…C` before the first ring.
        case dtmf
    }

    public let span: Int
    /// How long the lab's called parties hear ringback before they answer the gateway's calls.
    public let ringMs: Int64
    private let now: @Sendable () -> AnalogInstant
    private let lock = NIOLock()
    private var ports: [Int: Port] = [:]
    private var handlers: [@Sendable (LabCarrier.Event) -> Void] = []
    private var endedCalls: [LabCarrier.Call] = []
    private let tones: TrunkMedia.ToneZone

    private final class Port {
        let position: Int
        let device: any ChannelDevice
        var driver: AnalogPortDriver<FXSPort>
        var signal: CallerIDSignal
        var release: FXSConfiguration.ReleaseSignal
        var call: LabCarrier.Call?
        /// The exchange opened the loop (its subscriber hung up).
        var clearing = false
        var answerAt: Int64?
        var dtmfAt: Int64?
        var hangupAt: Int64?
        var block = [Int16](repeating: 0, count: 8)
        /// Maintenance blocking: the port is never rung.
        var blocked = false
        /// A line test has the device (see `ChannelLender`): no audio moves here meanwhile.
        var lent = false

        init(position: Int, device: any ChannelDevice, driver: AnalogPortDriver<FXSPort>, signal: CallerIDSignal,
             release: FXSConfiguration.ReleaseSignal) {
            self.position = position
            self.device = device
            self.driver = driver
            self.signal = signal
            self.release = release
        }
    }

    /// - Parameter devices: the span's FXS port devices by position, opened by the caller.
    public init(span: Int, devices: [Int: any ChannelDevice], ringMs: Int64 = 2_000, tones: TrunkMedia.ToneZone = .cn,
                now: @escaping @Sendable () -> AnalogInstant) throws(TrunkError) {
        self.span = span
        self.ringMs = ringMs
        self.now = now
        self.tones = tones
        for (position, device) in devices {
            try device.setLinear(true)
            try device.setBlockSize(8)
            try device.setBufferPolicy(.immediate, buffers: 32)
            ports[position] = Port(position: position, device: device, driver: Self.driver(device, signal: .fsk, release: .kewlOpen, tones: tones),
                                   signal: .fsk, release: .kewlOpen)
        }
    }

    /// A port driver for `device` that sends caller ID as `signal`; the exchange answers with a
    /// polarity reversal and releases as `release` says (opening the loop, as China's exchanges
    /// do for trunks, or busy tone, as many PBXs do).
    private static func driver(_ device: any ChannelDevice, signal: CallerIDSignal, release: FXSConfiguration.ReleaseSignal,
                               tones: TrunkMedia.ToneZone) -> AnalogPortDriver<FXSPort> {
        var configuration = FXSConfiguration()
        configuration.callerID = signal == .fsk ? .fsk(.fskV23, delayMs: 500) : .dtmf(.a)
        configuration.reversePolarityOnAnswer = true
        configuration.releaseSignal = release
        // The gateway dials en bloc: two seconds without a digit ends the number.
        configuration.interDigitTimeoutMs = 2_000
        return AnalogPortDriver(machine: FXSPort(configuration: configuration), device: device, detectors: [DTMFReceiver()], tones: tones)
    }

    public func onEvent(_ handler: @escaping @Sendable (LabCarrier.Event) -> Void) { lock.withLock { handlers.append(handler) } }

    public var calls: [LabCarrier.Call] { lock.withLock { ports.values.compactMap(\.call) } }
    public var ended: [LabCarrier.Call] { lock.withLock { endedCalls } }
    public var positions: [Int] { lock.withLock { ports.keys.sorted() } }

    /// Rings the gateway's line on `port` (nil: the first idle one) with caller ID `calling` sent
    /// as `signal`; `dtmf` is keyed 1 s after the answer, and the caller hangs up `holdMs` after
    /// the answer (nil: waits for the gateway to hang up), signalling it as `release` says.
    @discardableResult
    public func place(called: String, calling: String?, port position: Int? = nil, callerID signal: CallerIDSignal = .fsk,
                      dtmf: String = "", holdMs: Int? = nil,
                      release: FXSConfiguration.ReleaseSignal = .kewlOpen) throws(TrunkError) -> LabCarrier.Call {
        let at = now()
        let result = lock.withLock { () -> Result<LabCarrier.Call, TrunkError> in
            let idle = ports.values.filter { $0.call == nil && !$0.blocked && !$0.lent && $0.driver.machine.stateName == "idle" }
                .sorted { $0.position < $1.position }
            let port: Port
            if let position {
                guard let found = ports[position] else {
                    return .failure(TrunkError(.notFound, "span \(span) has no FXS port \(position) (ports: \(ports.keys.sorted().map(String.init).joined(separator: ", ")))"))
                }
                guard !found.blocked else { return .failure(TrunkError(.busy, "span \(span) port \(position) is blocked for maintenance: it is never rung")) }
                guard !found.lent else { return .failure(TrunkError(.busy, "span \(span) port \(position) is under a line test")) }
                guard idle.contains(where: { $0 === found }) else {
                    return .failure(TrunkError(.busy, "span \(span) port \(position) is \(found.driver.machine.stateName), not idle"))
                }
                port = found
            } else {
                guard let first = idle.first else { return .failure(TrunkError(.busy, "span \(span): every FXS port is busy")) }
                port = first
            }
            if port.signal != signal || port.release != release {
                // Caller ID and release signalling are port settings on a line card; the lab
                // changes them per call, on an idle port.
                port.driver = Self.driver(port.device, signal: signal, release: release, tones: tones)
                port.signal = signal
                port.release = release
            }
            let callerID = calling.map { CallerID(number: $0) }
            port.driver.request(now: at) { machine, now, actions in machine.ring(callerID: callerID, now: now, into: &actions) }
            let call = LabCarrier.Call(reference: "\(span):\(port.position):\(at.milliseconds)", channel: port.position, called: called,
                                       calling: calling, placedAtMs: at.milliseconds, dtmf: dtmf, holdMs: holdMs)
            port.call = call
            port.clearing = false
            return .success(call)
        }
        return try result.get()
    }

    /// Hangs up the exchange's call `reference`, as its subscriber would.
    public func hangup(reference: String) throws(TrunkError) {
        let at = now()
        let found = lock.withLock { () -> Bool in
            guard let port = ports.values.first(where: { $0.call?.reference == reference }) else { return false }
            release(port, now: at)
            return true
        }
        guard found else { throw TrunkError(.notFound, "the exchange has no call \(reference)") }
    }

    private func release(_ port: Port, now at: AnalogInstant) {
        port.clearing = true
        port.hangupAt = nil
        port.dtmfAt = nil
        port.answerAt = nil
        if port.call?.answeredAtMs == nil {
            port.driver.request(now: at) { machine, now, actions in machine.stopRinging(now: now, into: &actions) }
            finish(port, at: at)
        } else {
            port.driver.request(now: at) { machine, now, actions in machine.farEndReleased(now: now, into: &actions) }
        }
    }

    // MARK: the tick

    /// Moves each port's audio, polls it, and answers, keys DTMF and hangs up when due; call
    /// every tick.
    public func service() {
        let at = now()
        let events = lock.withLock { () -> [LabCarrier.Event] in
            var events: [LabCarrier.Event] = []
            for position in ports.keys.sorted() {
                guard let port = ports[position] else { continue }
                if port.lent {
                    port.driver.expireTimers(now: at)
                    while let (indication, _) = port.driver.nextIndication() { handle(indication, port: port, now: at, into: &events) }
                    continue
                }
                port.driver.poll(now: at)
                receive(port, now: at)
                due(port, now: at)
                _ = port.block.withUnsafeMutableBufferPointer { port.driver.transmit(into: $0, now: at) }
                _ = port.block.withUnsafeBytes { port.device.write($0) }
                while let (indication, _) = port.driver.nextIndication() {
                    handle(indication, port: port, now: at, into: &events)
                }
            }
            return events
        }
        let handlers = lock.withLock { self.handlers }
        for event in events { for handler in handlers { handler(event) } }
    }

    private func receive(_ port: Port, now at: AnalogInstant) {
        while true {
            switch port.block.withUnsafeMutableBytes({ port.device.read(into: $0) }) {
            case .transferred(let bytes) where bytes == 16:
                port.block.withUnsafeBufferPointer { port.driver.process(received: $0, now: at) }
            case .eventPending:
                port.driver.poll(now: at)
            default:
                return
            }
        }
    }

    private func due(_ port: Port, now at: AnalogInstant) {
        let ms = at.milliseconds
        if let answerAt = port.answerAt, answerAt <= ms {
            port.answerAt = nil
            port.driver.request(now: at) { machine, now, actions in machine.farEndAnswered(now: now, into: &actions) }
            port.call?.answeredAtMs = ms
            if let hold = port.call?.holdMs { port.hangupAt = ms + Int64(hold) }
        }
        if let dtmfAt = port.dtmfAt, dtmfAt <= ms, let digits = port.call?.dtmf {
            port.dtmfAt = nil
            // In-band, on the line, as the subscriber's keypad would.
            port.driver.request(now: at) { _, _, actions in actions.append(.sendDTMF(digits)) }
        }
        if let hangupAt = port.hangupAt, hangupAt <= ms { release(port, now: at) }
    }

    private func handle(_ indication: AnalogIndication, port: Port, now at: AnalogInstant, into events: inout [LabCarrier.Event]) {
        let ms = at.milliseconds
        switch indication {
        case .answered:
            // The gateway's FXO went off hook on our ringing line.
            guard var call = port.call, call.answeredAtMs == nil else { return }
            call.answeredAtMs = ms
            port.call = call
            if !call.dtmf.isEmpty { port.dtmfAt = ms + 1_000 }
            if let hold = call.holdMs { port.hangupAt = ms + Int64(hold) }
            events.append(.answered(call))
        case .seized:
            // The gateway seized the line to call out: the exchange gives dial tone (the port
            // machine plays it) and waits for the number.
            port.call = LabCarrier.Call(reference: "\(span):\(port.position):\(ms)", channel: port.position, called: "",
                                        calling: nil, placedAtMs: ms, dtmf: "")
            port.clearing = false
        case .digitsCollected(let digits):
            port.call?.called = digits
            port.driver.request(now: at) { machine, now, actions in machine.playTone(.ringback, now: now, into: &actions) }
            port.answerAt = ms + ringMs
        case .disconnected:
            guard port.call != nil else { return }
            finish(port, at: at)
            if let call = endedCalls.last { events.append(.cleared(call)) }
        default:
            break
        }
    }

    // MARK: maintenance

    /// Blocks or unblocks FXS port `position`: a blocked port is never rung (a call on it runs
    /// to its end).
    public func setBlocked(_ position: Int, _ blocked: Bool) throws(TrunkError) {
        let found = lock.withLock { () -> Bool in
            guard let port = ports[position] else { return false }
            port.blocked = blocked
            return true
        }
        guard found else {
            throw TrunkError(.notFound, "span \(span) has no FXS port \(position) (ports: \(positions.map(String.init).joined(separator: ", ")))")
        }
    }

    /// A port's maintenance state and the exchange's call on it; nil for a port that does not exist.
    public func maintenance(_ position: Int) -> (blocked: Bool, call: LabCarrier.Call?, state: String)? {
        lock.withLock { ports[position].map { ($0.blocked, $0.call, $0.driver.machine.stateName) } }
    }

    // MARK: ChannelLender (line tests on the exchange's ports)

    public func lend(_ address: ChannelAddress) -> LentChannel? {
        lock.withLock {
            guard address.span == span, let port = ports[address.channel], !port.lent, port.call == nil,
                  port.driver.machine.stateName == "idle" else { return nil }
            port.lent = true
            return LentChannel(device: port.device, detectors: [])
        }
    }

    public func deviceEvent(_ event: ChannelEvent, on address: ChannelAddress) {
        let at = now()
        let events = lock.withLock { () -> [LabCarrier.Event] in
            guard let port = ports[address.channel] else { return [] }
            var events: [LabCarrier.Event] = []
            port.driver.deliver(event, now: at)
            while let (indication, _) = port.driver.nextIndication() { handle(indication, port: port, now: at, into: &events) }
            return events
        }
        let handlers = lock.withLock { self.handlers }
        for event in events { for handler in handlers { handler(event) } }
    }

    public func detected(_ detection: MediaDetection.Kind, sampleTime: UInt64, on address: ChannelAddress) {}

    public func returned(_ address: ChannelAddress) {
        lock.withLock {
            guard let port = ports[address.channel] else { return }
            // The loop left the device companded in its block size: back to 1 ms of linear.
            try? port.device.setLinear(true)
            try? port.device.setBlockSize(8)
            try? port.device.setBufferPolicy(.immediate, buffers: 32)
            port.lent = false
        }
    }

    private func finish(_ port: Port, at: AnalogInstant) {
        guard var call = port.call else { return }
        call.clearedAtMs = at.milliseconds
        call.cause = 16
        call.clearedBy = port.clearing ? "carrier" : "gateway"
        port.call = nil
        port.answerAt = nil
        port.dtmfAt = nil
        port.hangupAt = nil
        endedCalls.append(call)
        if endedCalls.count > 1_000 { endedCalls.removeFirst(endedCalls.count - 1_000) }
    }
}
