import NIOConcurrencyHelpers
import TrunkAnalog
import TrunkCore
import TrunkHardware
import TrunkMedia

/// A call on one analog port as its owner keeps it: the pool finds a port by its call.
protocol AnalogPortCall {
    var reference: TrunkCallReference { get }
}

/// The ports of one analog span on the call model — FXO lines (`AnalogTrunk`) or FXS stations
/// (`AnalogStations`) — and all that both do alike: the devices set up for signalling, call
/// references and finding a port by one, the tick that moves the audio of ports not lent,
/// lending devices to the media loop and taking them back, and the indications for the call
/// manager. The owner keeps only its call logic: it turns its port machines' indications into
/// the call model's and the call model's requests into its machines'.
///
/// A call's token is the port's position and its seizure count, so a stale reference (an
/// earlier call on the same port) finds no port.
///
/// One lock guards the ports and everything in them; the owner reaches them only through
/// `withLock` or the hooks it passes in, and the lock is never held while the manager is called.
final class AnalogPortPool<Machine: AnalogPortMachine, Call: AnalogPortCall, Line>: @unchecked Sendable {
    final class Port {
        let position: Int
        let device: any ChannelDevice
        let driver: AnalogPortDriver<Machine>
        /// The media loop has the device: no audio here, events come through `deviceEvent`.
        var lent = false
        /// When the device was lent: the loop's sample clock of the channel counts from here.
        var lentAt = AnalogInstant.zero
        var call: Call?
        var seizures: UInt64 = 0
        /// The owner's own state of the port beyond its call (FXO: maintenance blocking).
        var line: Line
        var block = [Int16](repeating: 0, count: AnalogPortPool.blockSamples)

        init(position: Int, device: any ChannelDevice, driver: AnalogPortDriver<Machine>, line: Line) {
            self.position = position
            self.device = device
            self.driver = driver
            self.line = line
        }
    }

    let span: Int
    /// Port positions, ascending: the order the tick serves them in.
    let channels: [Int]
    let now: @Sendable () -> AnalogInstant
    /// What a port is called in errors people see ("FXO port", "FXS station port").
    private let portName: String
    private let manager: CallManager
    private let lock = NIOLock()
    private var ports: [Int: Port]
    /// Indications made under the lock, delivered after it is released.
    private var pending: [TrunkIndication] = []
    /// Device operations that failed (the pool's own and the port drivers'), by port, logged
    /// with the indications' delivery.
    private var failures: [(position: Int, error: TrunkError)] = []

    /// Ports move audio in 1 ms blocks of linear samples, the tick they run on.
    static var blockSamples: Int { 8 }

    /// - Parameters:
    ///   - devices: the span's port devices by position (1…n), opened by the caller.
    ///   - makePort: the driver (machine, detectors, tones) and the owner's state for a port.
    init(span: Int, portName: String, devices: [Int: any ChannelDevice], manager: CallManager,
         now: @escaping @Sendable () -> AnalogInstant,
         makePort: (_ position: Int, _ device: any ChannelDevice) -> (driver: AnalogPortDriver<Machine>, line: Line)) throws(TrunkError) {
        self.span = span
        self.portName = portName
        self.manager = manager
        self.now = now
        channels = devices.keys.sorted()
        var ports: [Int: Port] = [:]
        for (position, device) in devices {
            try Self.configureForSignalling(device)
            let (driver, line) = makePort(position, device)
            ports[position] = Port(position: position, device: device, driver: driver, line: line)
        }
        self.ports = ports
    }

    private static func configureForSignalling(_ device: any ChannelDevice) throws(TrunkError) {
        try device.setLinear(true)
        try device.setBlockSize(blockSamples)
        try device.setBufferPolicy(.immediate, buffers: 32)
    }

    // MARK: under the lock

    /// Runs `body` under the lock; what it indicates goes to the manager on the next delivery.
    func withLock<T>(_ body: () -> T) -> T {
        lock.withLock(body)
    }

    /// The port at `position` (under the lock).
    subscript(position: Int) -> Port? { ports[position] }

    /// The port `call` is on, nil once that call has left it (under the lock).
    func port(of call: TrunkCallReference) -> Port? {
        guard let port = ports[Int(call.token >> 32)], port.call?.reference == call else { return nil }
        return port
    }

    /// Counts a new seizure of `port` and returns the reference of the call it starts (under the lock).
    func seize(_ port: Port) -> TrunkCallReference {
        port.seizures += 1
        return TrunkCallReference(span: span, token: UInt64(port.position) << 32 | port.seizures)
    }

    /// No call, not lent, its machine idle: free for a new call (under the lock).
    func isIdle(_ port: Port) -> Bool {
        port.call == nil && !port.lent && port.driver.machine.stateName == "idle"
    }

    /// Queues `indication` for the manager (under the lock).
    func indicate(_ indication: TrunkIndication) {
        pending.append(indication)
    }

    /// A device operation on `port` that failed outside its driver (under the lock).
    func record(_ error: TrunkError, on port: Port) {
        failures.append((port.position, error))
    }

    /// Takes over what `port`'s driver failed to do to its device (under the lock).
    private func collectFailures(of port: Port) {
        guard !port.driver.deviceErrors.isEmpty else { return }
        for error in port.driver.takeDeviceErrors() { failures.append((port.position, error)) }
    }

    func noSuchPort(_ position: Int) -> TrunkError {
        TrunkError(.notFound, "span \(span) has no \(portName) \(position) (ports: \(channels.map(String.init).joined(separator: ", ")))")
    }

    func notIdle(_ port: Port) -> TrunkError {
        TrunkError(.busy, "span \(span) port \(port.position) is \(port.driver.machine.stateName), not idle")
    }

    // MARK: the tick

    /// Moves the audio of ports not lent (`received` sees each block read from a port), polls
    /// their devices and timers, lets the owner act on each port (`serve`, under the lock), and
    /// reports the indications to the call manager; call every tick (1 ms).
    func service(received: (Port) -> Void = { _ in }, serve: (Port, AnalogInstant) -> Void) {
        let at = now()
        deliver {
            for position in channels {
                guard let port = ports[position] else { continue }
                if port.lent {
                    port.driver.expireTimers(now: at)
                } else {
                    port.driver.poll(now: at)
                    receive(port, now: at, received)
                    _ = port.block.withUnsafeMutableBufferPointer { port.driver.transmit(into: $0, now: at) }
                    _ = port.block.withUnsafeBytes { port.device.write($0) }
                }
                serve(port, at)
                collectFailures(of: port)
            }
        }
    }

    private func receive(_ port: Port, now at: AnalogInstant, _ received: (Port) -> Void) {
        while true {
            let result = port.block.withUnsafeMutableBytes { port.device.read(into: $0) }
            switch result {
            case .transferred(let bytes) where bytes == Self.blockSamples * 2:
                port.block.withUnsafeBufferPointer { port.driver.process(received: $0, now: at) }
                received(port)
            case .eventPending:
                port.driver.poll(now: at)
            default:
                return
            }
        }
    }

    /// Runs `body` under the lock, then logs the device failures and hands what it indicated
    /// to the manager.
    private func deliver(_ body: () -> Void) {
        let (indications, failed) = lock.withLock { () -> ([TrunkIndication], [(position: Int, error: TrunkError)]) in
            body()
            defer {
                pending.removeAll()
                failures.removeAll()
            }
            return (pending, failures)
        }
        for failure in failed {
            manager.logger.warning("analog device operation failed", metadata: [
                "span": "\(span)", "port": "\(failure.position)", "error": "\(failure.error)"])
        }
        for indication in indications { manager.handle(indication) }
    }

    // MARK: lending to the media loop (see `ChannelLender`)

    /// Gives the device of `address` to the media loop with `detectors` (made only if it is given).
    func lend(_ address: ChannelAddress, detectors: () -> [any AudioDetector]) -> LentChannel? {
        lock.withLock {
            guard address.span == span, let port = ports[address.channel], !port.lent else { return nil }
            port.lent = true
            port.lentAt = now()
            return LentChannel(device: port.device, detectors: detectors())
        }
    }

    /// A device event the loop fetched; `serve` turns the indications it causes into the call model's.
    func deviceEvent(_ event: ChannelEvent, on address: ChannelAddress, serve: (Port, AnalogInstant) -> Void) {
        let at = now()
        deliver {
            guard let port = ports[address.channel] else { return }
            port.driver.deliver(event, now: at)
            serve(port, at)
            collectFailures(of: port)
        }
    }

    /// A detection by a detector the port lent with; `serve` as for `deviceEvent`.
    func detected(_ detection: MediaDetection.Kind, sampleTime: UInt64, on address: ChannelAddress,
                  serve: (Port, AnalogInstant) -> Void) {
        let at = now()
        deliver {
            guard let port = ports[address.channel] else { return }
            // The tone's cycles count from its first burst, not from its confirmation: the
            // loop's sample clock started when the device was lent (8 samples a millisecond).
            let startedAt = min(at, port.lentAt + Int(sampleTime / 8))
            port.driver.deliver(detection, startedAt: startedAt, now: at)
            serve(port, at)
            collectFailures(of: port)
        }
    }

    /// The loop has let go of the device: the pool moves its audio again.
    func returned(_ address: ChannelAddress) {
        lock.withLock {
            guard let port = ports[address.channel] else { return }
            // The loop left the device companded in its block size: back to 1 ms of linear.
            do throws(TrunkError) {
                try Self.configureForSignalling(port.device)
            } catch {
                failures.append((port.position, error))
            }
            port.lent = false
        }
    }

    /// The port machine's state per port (for status and tests).
    func portStates() -> [Int: String] {
        lock.withLock { ports.mapValues { $0.driver.machine.stateName } }
    }
}
