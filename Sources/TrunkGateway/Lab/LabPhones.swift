import Logging
import NIOConcurrencyHelpers
import TrunkAnalog
import TrunkCore
import TrunkHardware
import TrunkMedia

/// Telephones on the lab's FXO ports, wired by the simulator to the gateway's FXS station ports:
/// each hears the ringing, reads the caller ID (FSK or DTMF, whichever comes), and goes off hook
/// when it is set to answer — the way an agent picks up — or lets it ring. What each phone saw
/// is kept for `trunkctl`-less checks and logged, so a test of trunkd can read it in the log.
///
/// It owns its ports' audio throughout (no media loop): each tick `service()` moves one block
/// per port between the device and the port's driver.
public final class LabPhones: @unchecked Sendable {
    /// What one phone saw of its latest call.
    public struct Observation: Sendable, Equatable {
        public var ringingAtMs: Int64?
        public var callerID: String?
        public var callerIDMethod: String?
        public var answeredAtMs: Int64?
        /// The ringing stopped before anyone answered (the caller gave up or timed out).
        public var ringingStoppedAtMs: Int64?
        public var hungUpAtMs: Int64?
    }

    public let span: Int
    private let now: @Sendable () -> AnalogInstant
    private let logger: Logger
    private let lock = NIOLock()
    private var ports: [Int: Port] = [:]

    private final class Port {
        let position: Int
        let device: any ChannelDevice
        let driver: AnalogPortDriver<FXOPort>
        /// Pick up when the phone rings (after caller ID, or the second ring without one).
        var answers = true
        var observation = Observation()
        var block = [Int16](repeating: 0, count: 8)

        init(position: Int, device: any ChannelDevice, driver: AnalogPortDriver<FXOPort>) {
            self.position = position
            self.device = device
            self.driver = driver
        }
    }

    /// - Parameter devices: the span's FXO port devices by position, opened by the caller.
    public init(span: Int, devices: [Int: any ChannelDevice], tones: TrunkMedia.ToneZone = .cn, logger: Logger,
                now: @escaping @Sendable () -> AnalogInstant) throws(TrunkError) {
        self.span = span
        self.now = now
        self.logger = logger
        for (position, device) in devices {
            try device.setLinear(true)
            try device.setBlockSize(8)
            try device.setBufferPolicy(.immediate, buffers: 32)
            // A phone hears busy tone when the far end has gone; it counts as the end of the call.
            let detector = CallProgressToneDetector(zone: tones, configuration: CallProgressConfiguration(tones: [.busy, .congestion]))
            let driver = AnalogPortDriver(machine: FXOPort(configuration: FXOConfiguration()), device: device, detectors: [detector], tones: tones)
            ports[position] = Port(position: position, device: device, driver: driver)
        }
    }

    public var positions: [Int] { lock.withLock { ports.keys.sorted() } }

    /// Whether the phone on `position` picks up when it rings (default: yes).
    public func setAnswers(_ answers: Bool, port position: Int) throws(TrunkError) {
        let found = lock.withLock { () -> Bool in
            guard let port = ports[position] else { return false }
            port.answers = answers
            return true
        }
        guard found else { throw TrunkError(.notFound, "span \(span) has no lab phone on port \(position)") }
    }

    /// Puts the phone on `position` back on hook.
    public func hangUp(port position: Int) throws(TrunkError) {
        let at = now()
        let found = lock.withLock { () -> Bool in
            guard let port = ports[position] else { return false }
            port.driver.request(now: at) { machine, now, actions in machine.hangUp(now: now, into: &actions) }
            port.observation.hungUpAtMs = at.milliseconds
            return true
        }
        guard found else { throw TrunkError(.notFound, "span \(span) has no lab phone on port \(position)") }
    }

    /// What the phone on `position` saw of its latest call.
    public func observation(port position: Int) -> Observation? { lock.withLock { ports[position]?.observation } }

    /// The phone's line state ("idle", "ringing", "connected" …).
    public func state(port position: Int) -> String? { lock.withLock { ports[position]?.driver.machine.stateName } }

    // MARK: the tick

    /// Moves each phone's audio, polls its line and answers when due; call every tick.
    public func service() {
        let at = now()
        var notes: [(String, Logger.Metadata)] = []
        lock.withLock {
            for position in ports.keys.sorted() {
                guard let port = ports[position] else { continue }
                port.driver.poll(now: at)
                receive(port, now: at)
                _ = port.block.withUnsafeMutableBufferPointer { port.driver.transmit(into: $0, now: at) }
                _ = port.block.withUnsafeBytes { port.device.write($0) }
                while let (indication, _) = port.driver.nextIndication() {
                    if let note = handle(indication, port: port, now: at) { notes.append(note) }
                }
            }
        }
        for (message, metadata) in notes { logger.notice("\(message)", metadata: metadata) }
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

    private func handle(_ indication: AnalogIndication, port: Port, now at: AnalogInstant) -> (String, Logger.Metadata)? {
        let ms = at.milliseconds
        let metadata: Logger.Metadata = ["span": "\(span)", "port": "\(port.position)"]
        switch indication {
        case let .incomingCall(callerID, method):
            port.observation = Observation(ringingAtMs: ms, callerID: callerID?.number, callerIDMethod: method.map { "\($0)" })
            if port.answers {
                port.driver.request(now: at) { machine, now, actions in machine.answer(now: now, into: &actions) }
            }
            return ("lab phone ringing", metadata.merging(["caller_id": "\(callerID?.number ?? "-")", "method": "\(method.map { "\($0)" } ?? "-")"]) { $1 })
        case .answered:
            port.observation.answeredAtMs = ms
            return ("lab phone off hook", metadata)
        case .disconnected(let cause):
            if port.observation.answeredAtMs == nil {
                port.observation.ringingStoppedAtMs = ms
                return ("lab phone stopped ringing", metadata)
            }
            port.driver.request(now: at) { machine, now, actions in machine.hangUp(now: now, into: &actions) }
            port.observation.hungUpAtMs = ms
            return ("lab phone hung up", metadata.merging(["cause": "\(cause.rawValue)"]) { $1 })
        default:
            return nil
        }
    }
}
