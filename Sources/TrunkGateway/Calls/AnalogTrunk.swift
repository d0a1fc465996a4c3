import NIOConcurrencyHelpers
import TrunkAnalog
import TrunkCore
import TrunkHardware
import TrunkISDN
import TrunkMedia

/// A span of FXO ports (lines from the exchange) as the call manager sees it: the port
/// machines' indications become `TrunkIndication`s, call requests become hook operations and
/// dialling. A call's token is the port and a per-port seizure count.
///
/// Audio: the trunk owns each port's device and moves its audio from `service()` (every tick)
/// while a call is being set up — caller ID between the rings, dial tone, DTMF dialling, call
/// progress — and lends the device to the media engine once the call is answered (see
/// `ChannelLender`); the engine hands device events and busy/congestion detections back, so
/// disconnect supervision goes on while the loop plays and listens.
public final class AnalogTrunk: TrunkSignalling, ChannelLender, @unchecked Sendable {
    public let span: Int
    public let kind = TrunkKind.fxo
    public let channels: [Int]
    private let manager: CallManager
    private let now: @Sendable () -> AnalogInstant
    /// The line's own number per port: an analog line has no DNIS, the number the caller dialled
    /// is the line's directory number.
    private let lineNumbers: [Int: String]
    /// Guards `ports` and everything in them; never held while calling the manager.
    private let lock = NIOLock()
    private var ports: [Int: Port]
    /// Indications made under the lock, delivered after it is released.
    private var pending: [TrunkIndication] = []
    /// Caller ID or ring cadences refused (calls never offered), for status and tests.
    private var rejected = 0
    /// Device operations that failed outside the port drivers.
    private var deviceErrors: [TrunkError] = []

    private final class Port {
        let position: Int
        let device: any ChannelDevice
        let driver: AnalogPortDriver<FXOPort>
        /// The media loop has the device: no audio here, events come through `deviceEvent`.
        var lent = false
        /// When the device was lent: the loop's sample clock of the channel counts from here.
        var lentAt = AnalogInstant.zero
        var call: Call?
        var seizures: UInt64 = 0
        /// Maintenance blocking: no calls out, rings not answered, the line busied out.
        var blocked = false
        /// Held off hook by the trunk itself so the exchange sees the line busy.
        var busiedOut = false
        /// Since when the port has had no call and its machine has been idle (nil: it has not).
        var quietSince: AnalogInstant?
        /// Rings that arrived while the line was blocked (never offered).
        var refusedWhileBlocked = 0
        var block = [Int16](repeating: 0, count: AnalogTrunk.blockSamples)

        init(position: Int, device: any ChannelDevice, driver: AnalogPortDriver<FXOPort>) {
            self.position = position
            self.device = device
            self.driver = driver
        }
    }

    private struct Call {
        var reference: TrunkCallReference
        var outbound: Bool
        var answered = false
        var clearingLocally = false
    }

    /// The trunk moves audio in 1 ms blocks of linear samples, the tick it runs on.
    static let blockSamples = 8
    /// A blocked line goes off hook only after this long on hook and idle, so the exchange has
    /// seen the last call's release (a shorter on-hook is a hook flash to it).
    public static let busyOutGuardMs: Int64 = 2_000
    /// Peak above which an idle line carries signal (about −40 dBm0): caller ID, not line noise.
    static let idleLinePeak: Int32 = 330

    /// - Parameters:
    ///   - devices: the span's FXO port devices by position (1…n), opened by the caller.
    ///   - configuration: how the ports are supervised (the lab answers on caller ID, detects
    ///     answer by polarity reversal).
    public init(span: Int, devices: [Int: any ChannelDevice], manager: CallManager,
                configuration: FXOConfiguration = AnalogTrunk.defaultConfiguration, tones: TrunkMedia.ToneZone = .cn,
                lineNumbers: [Int: String] = [:], now: @escaping @Sendable () -> AnalogInstant) throws(TrunkError) {
        self.span = span
        self.manager = manager
        self.now = now
        self.lineNumbers = lineNumbers
        channels = devices.keys.sorted()
        var ports: [Int: Port] = [:]
        for (position, device) in devices {
            try Self.configureForSignalling(device)
            // One confirmed cycle for dial tone and ringback (a dialler wants them within a
            // cycle); the disconnect tones are counted by the port machine itself.
            let detector = CallProgressToneDetector(zone: tones, configuration: CallProgressConfiguration(confirmedCycles: 1))
            let driver = AnalogPortDriver(machine: FXOPort(configuration: configuration), device: device, detectors: [detector],
                                          tones: tones, callProgress: CallProgressAnalysisConfiguration())
            ports[position] = Port(position: position, device: device, driver: driver)
        }
        self.ports = ports
    }

    /// China's exchanges as the lab plays them: answer detected by polarity reversal, hang-up by
    /// loop drop or busy tone (a polarity reversal at the end is not a disconnect by itself,
    /// since the exchange restores polarity as it opens the loop).
    public static var defaultConfiguration: FXOConfiguration {
        var configuration = FXOConfiguration()
        configuration.answerOnPolarityReversal = true
        configuration.disconnectOnPolarityReversal = false
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
    /// ports saw to the call manager; call every tick (1 ms).
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
                maintain(port, now: at)
            }
            return takePending()
        }
        for indication in indications { manager.handle(indication) }
    }

    /// Maintenance busy-out: a blocked line with no call goes off hook once it has been idle
    /// — no ringing, no caller ID signal — for `busyOutGuardMs`, so the exchange finds it busy
    /// and hunts past it (going off hook sooner would answer a call on its way); unblocked, it
    /// goes back on hook. The port machine stays idle meanwhile: no call exists on the line.
    private func maintain(_ port: Port, now at: AnalogInstant) {
        if port.call == nil && !port.lent && port.driver.machine.stateName == "idle" {
            if port.quietSince == nil { port.quietSince = at }
        } else if !port.busiedOut {
            port.quietSince = nil
        }
        do throws(TrunkError) {
            if port.blocked && !port.busiedOut, let quiet = port.quietSince, at - quiet >= Self.busyOutGuardMs {
                try port.device.hook(.offHook)
                port.busiedOut = true
            } else if !port.blocked && port.busiedOut && !port.lent {
                try port.device.hook(.onHook)
                port.busiedOut = false
            }
        } catch {
            deviceErrors.append(error)
        }
    }

    private func receive(_ port: Port, now at: AnalogInstant) {
        while true {
            let result = port.block.withUnsafeMutableBytes { port.device.read(into: $0) }
            switch result {
            case .transferred(let bytes) where bytes == Self.blockSamples * 2:
                port.block.withUnsafeBufferPointer { port.driver.process(received: $0, now: at) }
                // Signal on an idle on-hook line is a call on its way (caller ID before the first
                // ring): a blocked line must not go off hook now, which would answer it.
                if port.call == nil && !port.busiedOut && port.block.contains(where: { abs(Int32($0)) > Self.idleLinePeak }) {
                    port.quietSince = nil
                }
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
            case let .incomingCall(callerID, _):
                guard port.call == nil else { continue }
                // Blocked: the ring is never offered, so never answered (the exchange gives up).
                guard !port.blocked else {
                    port.refusedWhileBlocked += 1
                    continue
                }
                port.seizures += 1
                let call = Call(reference: reference(port), outbound: false)
                port.call = call
                // A line says nothing about presentation when it gives a number (as a SETUP without
                // a presentation indicator); only an absence code says why there is none.
                let presentation: String? = switch (callerID?.number, callerID?.numberAbsence) {
                case (.some, _): nil
                case (nil, .withheld?): "restricted"
                default: "unavailable"
                }
                pending.append(.offered(call.reference, channel: port.position, caller: callerID?.number, presentation: presentation,
                                        callee: lineNumbers[port.position], redirecting: nil, numberComplete: true))
            case .callerIDRejected, .ringCadenceRejected:
                rejected += 1
            case .dialled:
                if let call = port.call { pending.append(.proceeding(call.reference)) }
            case .answered:
                guard var call = port.call, !call.answered else { continue }
                call.answered = true
                port.call = call
                pending.append(call.outbound ? .answered(call.reference) : .connected(call.reference))
            case .callProgress(let event):
                progress(port, event.outcome, now: at)
            case .disconnected(let cause):
                guard let call = port.call else { continue }
                port.call = nil
                pending.append(.cleared(call.reference, cause: Self.q850(cause), remote: !call.clearingLocally))
            case .seized, .digitsCollected, .flash, .flashComplete:
                break
            }
        }
    }

    /// Call progress of an outbound call: ringback is alerting, a voice is the answer on lines
    /// without polarity reversal, busy and congestion end the call with their causes.
    private func progress(_ port: Port, _ outcome: CallProgressOutcome, now at: AnalogInstant) {
        guard let call = port.call, call.outbound, !call.answered else { return }
        switch outcome {
        case .ringback:
            pending.append(.alerting(call.reference))
        case .voice, .fax, .modem:
            port.driver.request(now: at) { machine, now, actions in machine.farEndAnswered(now: now, into: &actions) }
        case .busy, .congestion, .specialInformation, .silence:
            let cause: Q850Cause = switch outcome {
            case .busy: .userBusy
            case .congestion: .switchingEquipmentCongestion
            case .specialInformation: Q850Cause(rawValue: 1)  // unallocated number: what a SIT announces
            default: .noUserResponding
            }
            port.driver.request(now: at) { machine, now, actions in machine.hangUp(now: now, into: &actions) }
            port.call = nil
            pending.append(.cleared(call.reference, cause: cause, remote: true))
        }
    }

    /// The Q.850 cause an analog disconnect stands for: a line cannot say why, so a normal
    /// release unless the line never worked.
    static func q850(_ cause: AnalogDisconnectCause) -> Q850Cause {
        switch cause {
        case .noDialTone: .networkOutOfOrder
        case .congestionTone: .switchingEquipmentCongestion
        default: .normalCallClearing
        }
    }

    // MARK: TrunkSignalling

    public func canPlaceCall(on channel: Int) -> Bool {
        lock.withLock {
            guard let port = ports[channel] else { return false }
            return port.call == nil && !port.blocked && !port.lent && port.driver.machine.stateName == "idle"
        }
    }

    /// An analog line has no proceeding signal: the caller hears the exchange's ringback.
    public func proceed(_ call: TrunkCallReference) {}

    /// An analog line has no alerting signal either (the exchange keeps ringing the line).
    public func alert(_ call: TrunkCallReference) {}

    public func answer(_ call: TrunkCallReference) {
        let at = now()
        lock.withLock {
            port(of: call)?.driver.request(now: at) { machine, now, actions in machine.answer(now: now, into: &actions) }
        }
    }

    public func hangup(_ call: TrunkCallReference, cause: Q850Cause) {
        let at = now()
        lock.withLock {
            guard let port = port(of: call) else { return }
            port.call = nil
            port.driver.request(now: at) { machine, now, actions in machine.hangUp(now: now, into: &actions) }
            // Going on hook is the whole of an analog release: the call is gone now. Reported
            // on the next tick, as a D-channel's RELEASE COMPLETE would be.
            pending.append(.cleared(call, cause: cause, remote: false))
        }
    }

    public func originate(channel: Int, number: String, caller: String?) throws(TrunkError) -> TrunkCallReference {
        guard !number.isEmpty, number.allSatisfy({ "0123456789*#".contains($0) }) else {
            throw TrunkError(.invalidArgument, "span \(span) port \(channel): an analog line dials digits 0-9 * #, not '\(number)'")
        }
        let at = now()
        let result = lock.withLock { () -> Result<TrunkCallReference, TrunkError> in
            guard let port = ports[channel] else {
                return .failure(TrunkError(.notFound, "span \(span) has no FXO port \(channel) (ports: \(channels.map(String.init).joined(separator: ", ")))"))
            }
            guard !port.blocked else { return .failure(TrunkError(.busy, "span \(span) port \(channel) is blocked for maintenance")) }
            guard port.call == nil, !port.lent, port.driver.machine.stateName == "idle" else {
                return .failure(TrunkError(.busy, "span \(span) port \(channel) is \(port.driver.machine.stateName), not idle"))
            }
            port.seizures += 1
            let reference = reference(port)
            port.call = Call(reference: reference, outbound: true)
            // The calling number cannot be sent on an analog line: the exchange knows the line's.
            port.driver.request(now: at) { machine, now, actions in machine.dial(number, now: now, into: &actions) }
            return .success(reference)
        }
        return try result.get()
    }

    // MARK: ChannelLender

    public func lend(_ address: ChannelAddress) -> LentChannel? {
        lock.withLock {
            guard address.span == span, let port = ports[address.channel], !port.lent else { return nil }
            port.lent = true
            port.lentAt = now()
            // The loop's own detectors listen for the disconnect tones while it owns the audio.
            let detector = CallProgressToneDetector(zone: .cn, configuration: CallProgressConfiguration(tones: [.busy, .congestion]))
            return LentChannel(device: port.device, detectors: [detector])
        }
    }

    /// Only an idle line (not ringing, no call being set up): taking the audio of a ringing
    /// line would cut off its caller ID between the rings.
    public func lendForLineTest(_ address: ChannelAddress) -> LentChannel? {
        let idle = lock.withLock { () -> Bool in
            guard let port = ports[address.channel] else { return false }
            return port.call == nil && port.driver.machine.stateName == "idle"
        }
        return idle ? lend(address) : nil
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

    public func detected(_ detection: MediaDetection.Kind, sampleTime: UInt64, on address: ChannelAddress) {
        let at = now()
        let indications = lock.withLock { () -> [TrunkIndication] in
            guard let port = ports[address.channel] else { return [] }
            // The tone's cycles count from its first burst, not from its confirmation: the
            // loop's sample clock started when the device was lent (8 samples a millisecond).
            let startedAt = min(at, port.lentAt + Int(sampleTime / 8))
            port.driver.deliver(detection, startedAt: startedAt, now: at)
            translate(port, now: at)
            return takePending()
        }
        for indication in indications { manager.handle(indication) }
    }

    public func returned(_ address: ChannelAddress) {
        lock.withLock {
            guard let port = ports[address.channel] else { return }
            // The loop left the device companded in its block size: back to 1 ms of linear.
            do throws(TrunkError) {
                try Self.configureForSignalling(port.device)
            } catch {
                deviceErrors.append(error)
            }
            port.lent = false
        }
    }

    // MARK: maintenance

    /// Blocks or unblocks FXO line `position` (see `maintain`); a call on it runs to its end.
    public func setBlocked(_ position: Int, _ blocked: Bool) throws(TrunkError) {
        let found = lock.withLock { () -> Bool in
            guard let port = ports[position] else { return false }
            port.blocked = blocked
            return true
        }
        guard found else {
            throw TrunkError(.notFound, "span \(span) has no FXO port \(position) (ports: \(channels.map(String.init).joined(separator: ", ")))")
        }
    }

    /// A line's maintenance state, nil for a port that does not exist.
    public func maintenance(_ position: Int) -> (blocked: Bool, busiedOut: Bool, refusedRings: Int)? {
        lock.withLock { ports[position].map { ($0.blocked, $0.busiedOut, $0.refusedWhileBlocked) } }
    }

    /// Rings or caller ID refused, so never offered.
    public var rejectedOffers: Int { lock.withLock { rejected } }

    /// The port machine's state per port (for status and tests).
    public func portStates() -> [Int: String] {
        lock.withLock { ports.mapValues { $0.driver.machine.stateName } }
    }
}
