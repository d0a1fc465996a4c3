import TrunkAnalog
import TrunkCore
import TrunkHardware
import TrunkISDN
import TrunkMedia

/// A span of FXO ports (lines from the exchange) as the call manager sees it: the port
/// machines' indications become `TrunkIndication`s, call requests become hook operations and
/// dialling. The ports, their devices, call references and the tick are the
/// `AnalogPortPool`'s; the trunk keeps the FXO call logic and maintenance blocking.
///
/// Audio: the pool owns each port's device and moves its audio from `service()` (every tick)
/// while a call is being set up — caller ID between the rings, dial tone, DTMF dialling, call
/// progress — and lends the device to the media engine once the call is answered (see
/// `ChannelLender`); the engine hands device events and busy/congestion detections back, so
/// disconnect supervision goes on while the loop plays and listens.
public final class AnalogTrunk: TrunkSignalling, ChannelLender, @unchecked Sendable {
    public let kind = TrunkKind.fxo
    /// The line's own number per port: an analog line has no DNIS, the number the caller dialled
    /// is the line's directory number.
    private let lineNumbers: [Int: String]
    private let pool: AnalogPortPool<FXOPort, Call, Line>
    private typealias Port = AnalogPortPool<FXOPort, Call, Line>.Port
    /// Caller ID or ring cadences refused (calls never offered), for status and tests; under
    /// the pool's lock.
    private var rejected = 0

    private struct Call: AnalogPortCall {
        var reference: TrunkCallReference
        var outbound: Bool
        var answered = false
    }

    /// A line's maintenance state (see `maintain`).
    private struct Line {
        /// Maintenance blocking: no calls out, rings not answered, the line busied out.
        var blocked = false
        /// Held off hook by the trunk itself so the exchange sees the line busy.
        var busiedOut = false
        /// Since when the port has had no call and its machine has been idle (nil: it has not).
        var quietSince: AnalogInstant?
        /// Rings that arrived while the line was blocked (never offered).
        var refusedWhileBlocked = 0
    }

    public var span: Int { pool.span }
    public var channels: [Int] { pool.channels }

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
        self.lineNumbers = lineNumbers
        pool = try AnalogPortPool(span: span, portName: "FXO port", devices: devices, manager: manager, now: now) { _, device in
            // One confirmed cycle for dial tone and ringback (a dialler wants them within a
            // cycle); the disconnect tones are counted by the port machine itself.
            let detector = CallProgressToneDetector(zone: tones, configuration: CallProgressConfiguration(confirmedCycles: 1))
            let driver = AnalogPortDriver(machine: FXOPort(configuration: configuration), device: device, detectors: [detector],
                                          tones: tones, callProgress: CallProgressAnalysisConfiguration())
            return (driver, Line())
        }
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

    // MARK: the tick

    /// Moves the audio of ports not lent, polls their devices and timers, and reports what the
    /// ports saw to the call manager; call every tick (1 ms).
    public func service() {
        pool.service(received: { noticeSignal($0) }) { port, at in
            translate(port, now: at)
            maintain(port, now: at)
        }
    }

    /// Signal on an idle on-hook line is a call on its way (caller ID before the first ring):
    /// a blocked line must not go off hook now, which would answer it.
    private func noticeSignal(_ port: Port) {
        if port.call == nil && !port.line.busiedOut && port.block.contains(where: { abs(Int32($0)) > Self.idleLinePeak }) {
            port.line.quietSince = nil
        }
    }

    /// Maintenance busy-out: a blocked line with no call goes off hook once it has been idle
    /// — no ringing, no caller ID signal — for `busyOutGuardMs`, so the exchange finds it busy
    /// and hunts past it (going off hook sooner would answer a call on its way); unblocked, it
    /// goes back on hook. The port machine stays idle meanwhile: no call exists on the line.
    private func maintain(_ port: Port, now at: AnalogInstant) {
        if pool.isIdle(port) {
            if port.line.quietSince == nil { port.line.quietSince = at }
        } else if !port.line.busiedOut {
            port.line.quietSince = nil
        }
        do throws(TrunkError) {
            if port.line.blocked && !port.line.busiedOut, let quiet = port.line.quietSince, at - quiet >= Self.busyOutGuardMs {
                try port.device.hook(.offHook)
                port.line.busiedOut = true
            } else if !port.line.blocked && port.line.busiedOut && !port.lent {
                try port.device.hook(.onHook)
                port.line.busiedOut = false
            }
        } catch {
            pool.record(error, on: port)
        }
    }

    /// Turns the port machine's indications into the call model's (under the lock).
    private func translate(_ port: Port, now at: AnalogInstant) {
        while let (indication, _) = port.driver.nextIndication() {
            switch indication {
            case let .incomingCall(callerID, _):
                guard port.call == nil else { continue }
                // Blocked: the ring is never offered, so never answered (the exchange gives up).
                guard !port.line.blocked else {
                    port.line.refusedWhileBlocked += 1
                    continue
                }
                let call = Call(reference: pool.seize(port), outbound: false)
                port.call = call
                // A line says nothing about presentation when it gives a number (as a SETUP without
                // a presentation indicator); only an absence code says why there is none.
                let presentation: String? = switch (callerID?.number, callerID?.numberAbsence) {
                case (.some, _): nil
                case (nil, .withheld?): "restricted"
                default: "unavailable"
                }
                pool.indicate(.offered(call.reference, channel: port.position, caller: callerID?.number, presentation: presentation,
                                       callee: lineNumbers[port.position], redirecting: nil, numberComplete: true))
            case .callerIDRejected, .ringCadenceRejected:
                rejected += 1
            case .dialled:
                if let call = port.call { pool.indicate(.proceeding(call.reference)) }
            case .answered:
                guard var call = port.call, !call.answered else { continue }
                call.answered = true
                port.call = call
                pool.indicate(call.outbound ? .answered(call.reference) : .connected(call.reference))
            case .callProgress(let event):
                progress(port, event.outcome, now: at)
            case .disconnected(let cause):
                guard let call = port.call else { continue }
                port.call = nil
                // Always the far end: our own hangup forgets the call before the line drops.
                pool.indicate(.cleared(call.reference, cause: Self.q850(cause), remote: true))
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
            pool.indicate(.alerting(call.reference))
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
            pool.indicate(.cleared(call.reference, cause: cause, remote: true))
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
        pool.withLock {
            guard let port = pool[channel] else { return false }
            return pool.isIdle(port) && !port.line.blocked
        }
    }

    /// An analog line has no proceeding signal: the caller hears the exchange's ringback.
    public func proceed(_ call: TrunkCallReference) {}

    /// An analog line has no alerting signal either (the exchange keeps ringing the line).
    public func alert(_ call: TrunkCallReference) {}

    public func answer(_ call: TrunkCallReference) {
        let at = pool.now()
        pool.withLock {
            pool.port(of: call)?.driver.request(now: at) { machine, now, actions in machine.answer(now: now, into: &actions) }
        }
    }

    public func hangup(_ call: TrunkCallReference, cause: Q850Cause) {
        let at = pool.now()
        pool.withLock {
            guard let port = pool.port(of: call) else { return }
            port.call = nil
            port.driver.request(now: at) { machine, now, actions in machine.hangUp(now: now, into: &actions) }
            // Going on hook is the whole of an analog release: the call is gone now. Reported
            // on the next tick, as a D-channel's RELEASE COMPLETE would be.
            pool.indicate(.cleared(call, cause: cause, remote: false))
        }
    }

    public func originate(channel: Int, number: String, caller: String?) throws(TrunkError) -> TrunkCallReference {
        guard !number.isEmpty, number.allSatisfy({ "0123456789*#".contains($0) }) else {
            throw TrunkError(.invalidArgument, "span \(span) port \(channel): an analog line dials digits 0-9 * #, not '\(number)'")
        }
        let at = pool.now()
        let result = pool.withLock { () -> Result<TrunkCallReference, TrunkError> in
            guard let port = pool[channel] else { return .failure(pool.noSuchPort(channel)) }
            guard !port.line.blocked else { return .failure(TrunkError(.busy, "span \(span) port \(channel) is blocked for maintenance")) }
            guard pool.isIdle(port) else { return .failure(pool.notIdle(port)) }
            let reference = pool.seize(port)
            port.call = Call(reference: reference, outbound: true)
            // The calling number cannot be sent on an analog line: the exchange knows the line's.
            port.driver.request(now: at) { machine, now, actions in machine.dial(number, now: now, into: &actions) }
            return .success(reference)
        }
        return try result.get()
    }

    // MARK: ChannelLender

    public func lend(_ address: ChannelAddress) -> LentChannel? {
        // The loop's own detectors listen for the disconnect tones while it owns the audio.
        pool.lend(address) { [CallProgressToneDetector(zone: .cn, configuration: CallProgressConfiguration(tones: [.busy, .congestion]))] }
    }

    /// Only an idle line (not ringing, no call being set up): taking the audio of a ringing
    /// line would cut off its caller ID between the rings.
    public func lendForLineTest(_ address: ChannelAddress) -> LentChannel? {
        let idle = pool.withLock { () -> Bool in
            guard let port = pool[address.channel] else { return false }
            return port.call == nil && port.driver.machine.stateName == "idle"
        }
        return idle ? lend(address) : nil
    }

    public func deviceEvent(_ event: ChannelEvent, on address: ChannelAddress) { pool.deviceEvent(event, on: address, serve: translate) }

    public func detected(_ detection: MediaDetection.Kind, sampleTime: UInt64, on address: ChannelAddress) {
        pool.detected(detection, sampleTime: sampleTime, on: address, serve: translate)
    }

    public func returned(_ address: ChannelAddress) { pool.returned(address) }

    // MARK: maintenance

    /// Blocks or unblocks FXO line `position` (see `maintain`); a call on it runs to its end.
    public func setBlocked(_ position: Int, _ blocked: Bool) throws(TrunkError) {
        let found = pool.withLock { () -> Bool in
            guard let port = pool[position] else { return false }
            port.line.blocked = blocked
            return true
        }
        guard found else { throw pool.noSuchPort(position) }
    }

    /// A line's maintenance state, nil for a port that does not exist.
    public func maintenance(_ position: Int) -> (blocked: Bool, busiedOut: Bool, refusedRings: Int)? {
        pool.withLock { pool[position].map { ($0.line.blocked, $0.line.busiedOut, $0.line.refusedWhileBlocked) } }
    }

    /// Rings or caller ID refused, so never offered.
    public var rejectedOffers: Int { pool.withLock { rejected } }

    /// The port machine's state per port (for status and tests).
    public func portStates() -> [Int: String] { pool.portStates() }
}
