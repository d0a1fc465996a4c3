import TrunkAnalog
import TrunkCore
import TrunkHardware
import TrunkISDN
import TrunkMedia

/// A span of FXS ports with phones on them (agents' or operators' stations) as the call manager
/// sees it: placing a call on a port rings the phone — with the port's cadence and caller ID
/// (FSK between the first and second ring, or DTMF before the first, as the port is set up) —
/// the phone going off hook answers it, and going on hook clears it. A call's token is the port
/// and a per-port seizure count; the ports, their devices, call references and the tick are the
/// `AnalogPortPool`'s, as for `AnalogTrunk`.
///
/// Audio: the pool owns each port's device and moves its audio from `service()` while the phone
/// rings (caller ID) or hears a tone, and lends the device to the media engine once the phone
/// has answered; the engine hands the device's hook events back, so hanging up is seen while
/// the loop plays and listens.
///
/// A phone that goes off hook with no call gets dial tone and may dial; calls from stations
/// are not routed yet, so a dialled number gets congestion tone until the phone hangs up.
public final class AnalogStations: TrunkSignalling, ChannelLender, @unchecked Sendable {
    public let kind = TrunkKind.fxs
    /// Stations keep nothing per port beyond the call.
    private let pool: AnalogPortPool<FXSPort, Call, Void>
    private typealias Port = AnalogPortPool<FXSPort, Call, Void>.Port

    private struct Call: AnalogPortCall {
        var reference: TrunkCallReference
        var answered = false
    }

    public var span: Int { pool.span }
    public var channels: [Int] { pool.channels }

    /// - Parameters:
    ///   - devices: the span's FXS port devices by position (1…n), opened by the caller.
    ///   - configurations: per position, how the port rings and sends caller ID; positions not
    ///     listed use `defaultConfiguration`.
    public init(span: Int, devices: [Int: any ChannelDevice], manager: CallManager,
                configurations: [Int: FXSConfiguration] = [:], tones: TrunkMedia.ToneZone = .cn,
                now: @escaping @Sendable () -> AnalogInstant) throws(TrunkError) {
        pool = try AnalogPortPool(span: span, portName: "FXS station port", devices: devices, manager: manager, now: now) { position, device in
            let machine = FXSPort(configuration: configurations[position] ?? Self.defaultConfiguration)
            return (AnalogPortDriver(machine: machine, device: device, detectors: [DTMFReceiver()], tones: tones), ())
        }
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

    // MARK: the tick

    /// Moves the audio of ports not lent, polls their devices and timers, and reports what the
    /// phones did to the call manager; call every tick (1 ms).
    public func service() {
        pool.service(serve: translate)
    }

    /// Turns the port machine's indications into the call model's (under the lock).
    private func translate(_ port: Port, now at: AnalogInstant) {
        while let (indication, _) = port.driver.nextIndication() {
            switch indication {
            case .answered:
                guard var call = port.call, !call.answered else { continue }
                call.answered = true
                port.call = call
                pool.indicate(.answered(call.reference))
            case .disconnected(let cause):
                guard let call = port.call else { continue }
                port.call = nil
                pool.indicate(.cleared(call.reference, cause: AnalogTrunk.q850(cause), remote: true))
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
        pool.withLock { pool[channel].map(pool.isIdle) ?? false }
    }

    /// A station has nothing to tell a caller before it answers: the ring is the progress.
    public func proceed(_ call: TrunkCallReference) {}
    public func alert(_ call: TrunkCallReference) {}
    /// We ring stations; the phone answers, not us.
    public func answer(_ call: TrunkCallReference) {}

    public func hangup(_ call: TrunkCallReference, cause: Q850Cause) {
        let at = pool.now()
        pool.withLock {
            guard let port = pool.port(of: call) else { return }
            let answered = port.call?.answered == true
            port.call = nil
            port.driver.request(now: at) { machine, now, actions in
                // Ringing stops at once; a phone in a call hears busy tone until it hangs up.
                if answered { machine.farEndReleased(now: now, into: &actions) } else { machine.stopRinging(now: now, into: &actions) }
            }
            pool.indicate(.cleared(call, cause: cause, remote: false))
        }
    }

    /// Rings the phone on `channel` (a port position); `caller` is sent as its caller ID.
    /// `number` is not dialled: a station is reached by its port.
    public func originate(channel: Int, number: String, caller: String?) throws(TrunkError) -> TrunkCallReference {
        if let caller, caller.isEmpty || !caller.allSatisfy({ "0123456789".contains($0) }) || caller.count > 20 {
            throw TrunkError(.invalidArgument, "span \(span) port \(channel): caller ID to a phone is 1-20 digits, not '\(caller)'")
        }
        let at = pool.now()
        let result = pool.withLock { () -> Result<TrunkCallReference, TrunkError> in
            guard let port = pool[channel] else { return .failure(pool.noSuchPort(channel)) }
            guard pool.isIdle(port) else { return .failure(pool.notIdle(port)) }
            let reference = pool.seize(port)
            port.call = Call(reference: reference)
            let callerID = caller.map { CallerID(number: $0) }
            port.driver.request(now: at) { machine, now, actions in machine.ring(callerID: callerID, now: now, into: &actions) }
            // The phone rings from now on: the call is alerting (reported on the next tick).
            pool.indicate(.alerting(reference))
            return .success(reference)
        }
        return try result.get()
    }

    // MARK: ChannelLender

    /// The loop runs no detectors for a station: its own DTMF detection serves the call.
    public func lend(_ address: ChannelAddress) -> LentChannel? {
        pool.lend(address) { [] }
    }

    public func deviceEvent(_ event: ChannelEvent, on address: ChannelAddress) { pool.deviceEvent(event, on: address, serve: translate) }

    /// Lent with no detectors, a station hears of no tone (the loop's DTMF goes to the call).
    public func detected(_ detection: MediaDetection.Kind, sampleTime: UInt64, on address: ChannelAddress) {
        pool.detected(detection, sampleTime: sampleTime, on: address, serve: translate)
    }

    public func returned(_ address: ChannelAddress) { pool.returned(address) }

    /// The port machine's state per port (for status and tests).
    public func portStates() -> [Int: String] { pool.portStates() }
}
