import NIOConcurrencyHelpers
import TrunkAnalog
import TrunkCore
import TrunkHardware
import TrunkISDN
import TrunkMedia

/// A span of FXS ports with phones on them (agents' or operators' stations) as the call manager
/// sees it: placing a call on a port rings the phone — with the port's cadence and caller ID
/// (FSK between the first and second ring, or DTMF before the first, as the port is set up) —
/// the phone going off hook answers it, and going on hook clears it. A call's token is the port
/// and a per-port seizure count, as on `AnalogTrunk`.
///
/// Audio: the span owns each port's device and moves its audio from `service()` while the phone
/// rings (caller ID) or hears a tone, and lends the device to the media engine once the phone
/// has answered; the engine hands the device's hook events back, so hanging up is seen while
/// the loop plays and listens.
///
/// A phone that goes off hook with no call gets dial tone and may dial; calls from stations
/// are not routed yet, so a dialled number gets congestion tone until the phone hangs up.
public final class AnalogStations: TrunkSignalling, ChannelLender, @unchecked Sendable {
    public let span: Int
    public let kind = TrunkKind.fxs
    public let channels: [Int]
    private let manager: CallManager
    private let now: @Sendable () -> AnalogInstant
    /// Guards `ports` and everything in them; never held while calling the manager.
    private let lock = NIOLock()
    private var ports: [Int: Port]
    /// Indications made under the lock, delivered after it is released.
    private var pending: [TrunkIndication] = []

    private final class Port {
        let position: Int
        let device: any ChannelDevice
        let driver: AnalogPortDriver<FXSPort>
        var lent = false
        var call: Call?
        var seizures: UInt64 = 0
        var block = [Int16](repeating: 0, count: AnalogStations.blockSamples)

        init(position: Int, device: any ChannelDevice, driver: AnalogPortDriver<FXSPort>) {
            self.position = position
            self.device = device
            self.driver = driver
        }
    }

    private struct Call {
        var reference: TrunkCallReference
        var answered = false
    }

    /// 1 ms blocks of linear samples, the tick the span runs on.
    static let blockSamples = 8

    /// - Parameters:
    ///   - devices: the span's FXS port devices by position (1…n), opened by the caller.
    ///   - configurations: per position, how the port rings and sends caller ID; positions not
    ///     listed use `defaultConfiguration`.
    public init(span: Int, devices: [Int: any ChannelDevice], manager: CallManager,
                configurations: [Int: FXSConfiguration] = [:], tones: TrunkMedia.ToneZone = .cn,
                now: @escaping @Sendable () -> AnalogInstant) throws(TrunkError) {
        self.span = span
        self.manager = manager
        self.now = now
        channels = devices.keys.sorted()
        var ports: [Int: Port] = [:]
        for (position, device) in devices {
            try Self.configureForSignalling(device)
            let machine = FXSPort(configuration: configurations[position] ?? Self.defaultConfiguration)
            let driver = AnalogPortDriver(machine: machine, device: device, detectors: [DTMFReceiver()], tones: tones)
            ports[position] = Port(position: position, device: device, driver: driver)
        }
        self.ports = ports
    }

    /// China's cadence (1 s on, 4 s off), V.23 FSK caller ID after the first ring, busy tone to
    /// a phone whose call the far end ended.
    public static var defaultConfiguration: FXSConfiguration {
        var configuration = FXSConfiguration()
        configuration.ringCadence = [1000, 4000]
        configuration.callerID = .fsk(.fskV23, delayMs: 500)
        configuration.releaseSignal = .busyTone
        return configuration
    }

    private static func configureForSignalling(_ device: any ChannelDevice) throws(TrunkError) {
        try device.setLinear(true)
        try device.setBlockSize(blockSamples)
        try device.setBufferPolicy(.immediate, buffers: 32)
    }

    private func reference(_ port: Port) -> TrunkCallReference {
        TrunkCallReference(span: span, token: UInt64(port.position) << 32 | port.seizures)
    }

    private func port(of call: TrunkCallReference) -> Port? {
        guard let port = ports[Int(call.token >> 32)], port.call?.reference == call else { return nil }
        return port
    }

    // MARK: the tick

    /// Moves the audio of ports not lent, polls their devices and timers, and reports what the
    /// phones did to the call manager; call every tick (1 ms).
    public func service() {
        let at = now()
        let indications = lock.withLock { () -> [TrunkIndication] in
            for position in channels {
                guard let port = ports[position] else { continue }
                if port.lent {
                    port.driver.expireTimers(now: at)
                } else {
                    port.driver.poll(now: at)
                    receive(port, now: at)
                    _ = port.block.withUnsafeMutableBufferPointer { port.driver.transmit(into: $0, now: at) }
                    _ = port.block.withUnsafeBytes { port.device.write($0) }
                }
                translate(port, now: at)
            }
            return takePending()
        }
        for indication in indications { manager.handle(indication) }
    }

    private func receive(_ port: Port, now at: AnalogInstant) {
        while true {
            let result = port.block.withUnsafeMutableBytes { port.device.read(into: $0) }
            switch result {
            case .transferred(let bytes) where bytes == Self.blockSamples * 2:
                port.block.withUnsafeBufferPointer { port.driver.process(received: $0, now: at) }
            case .eventPending:
                port.driver.poll(now: at)
            default:
                return
            }
        }
    }

    private func takePending() -> [TrunkIndication] {
        defer { pending.removeAll() }
        return pending
    }

    /// Turns the port machine's indications into the call model's (under the lock).
    private func translate(_ port: Port, now at: AnalogInstant) {
        while let (indication, _) = port.driver.nextIndication() {
            switch indication {
            case .answered:
                guard var call = port.call, !call.answered else { continue }
                call.answered = true
                port.call = call
                pending.append(.answered(call.reference))
            case .disconnected(let cause):
                guard let call = port.call else { continue }
                port.call = nil
                pending.append(.cleared(call.reference, cause: AnalogTrunk.q850(cause), remote: true))
            case .digitsCollected:
                // A call from the station: not routed yet, so the phone hears congestion.
                port.driver.request(now: at) { machine, now, actions in machine.playTone(.congestion, now: now, into: &actions) }
            default:
                break
            }
        }
    }

    // MARK: TrunkSignalling

    public func canPlaceCall(on channel: Int) -> Bool {
        lock.withLock {
            guard let port = ports[channel] else { return false }
            return port.call == nil && !port.lent && port.driver.machine.stateName == "idle"
        }
    }

    /// A station has nothing to tell a caller before it answers: the ring is the progress.
    public func proceed(_ call: TrunkCallReference) {}
    public func alert(_ call: TrunkCallReference) {}
    /// We ring stations; the phone answers, not us.
    public func answer(_ call: TrunkCallReference) {}

    public func hangup(_ call: TrunkCallReference, cause: Q850Cause) {
        let at = now()
        lock.withLock {
            guard let port = port(of: call) else { return }
            let answered = port.call?.answered == true
            port.call = nil
            port.driver.request(now: at) { machine, now, actions in
                // Ringing stops at once; a phone in a call hears busy tone until it hangs up.
                if answered { machine.farEndReleased(now: now, into: &actions) } else { machine.stopRinging(now: now, into: &actions) }
            }
            pending.append(.cleared(call, cause: cause, remote: false))
        }
    }

    /// Rings the phone on `channel` (a port position); `caller` is sent as its caller ID.
    /// `number` is not dialled: a station is reached by its port.
    public func originate(channel: Int, number: String, caller: String?) throws(TrunkError) -> TrunkCallReference {
        if let caller, caller.isEmpty || !caller.allSatisfy({ "0123456789".contains($0) }) || caller.count > 20 {
            throw TrunkError(.invalidArgument, "span \(span) port \(channel): caller ID to a phone is 1-20 digits, not '\(caller)'")
        }
        let at = now()
        let result = lock.withLock { () -> Result<TrunkCallReference, TrunkError> in
            guard let port = ports[channel] else {
                return .failure(TrunkError(.notFound, "span \(span) has no FXS station port \(channel) (ports: \(channels.map(String.init).joined(separator: ", ")))"))
            }
            guard port.call == nil, !port.lent, port.driver.machine.stateName == "idle" else {
                return .failure(TrunkError(.busy, "span \(span) port \(channel) is \(port.driver.machine.stateName), not idle"))
            }
            port.seizures += 1
            let reference = reference(port)
            port.call = Call(reference: reference)
            let callerID = caller.map { CallerID(number: $0) }
            port.driver.request(now: at) { machine, now, actions in machine.ring(callerID: callerID, now: now, into: &actions) }
            // The phone rings from now on: the call is alerting (reported on the next tick).
            pending.append(.alerting(reference))
            return .success(reference)
        }
        return try result.get()
    }

    // MARK: ChannelLender

    public func lend(_ address: ChannelAddress) -> LentChannel? {
        lock.withLock {
            guard address.span == span, let port = ports[address.channel], !port.lent else { return nil }
            port.lent = true
            return LentChannel(device: port.device, detectors: [])
        }
    }

    public func deviceEvent(_ event: ChannelEvent, on address: ChannelAddress) {
        let at = now()
        let indications = lock.withLock { () -> [TrunkIndication] in
            guard let port = ports[address.channel] else { return [] }
            port.driver.deliver(event, now: at)
            translate(port, now: at)
            return takePending()
        }
        for indication in indications { manager.handle(indication) }
    }

    public func detected(_ detection: MediaDetection.Kind, sampleTime: UInt64, on address: ChannelAddress) {}

    public func returned(_ address: ChannelAddress) {
        lock.withLock {
            guard let port = ports[address.channel] else { return }
            // The loop left the device companded in its block size: back to 1 ms of linear.
            try? Self.configureForSignalling(port.device)
            port.lent = false
        }
    }

    /// The port machine's state per port (for status and tests).
    public func portStates() -> [Int: String] {
        lock.withLock { ports.mapValues { $0.driver.machine.stateName } }
    }
}
