import TrunkCore
import TrunkHardware
@testable import TrunkMedia

/// One call carried the way the gateway carries it from the PRI to an analog line, on the
/// embedded default simulator: the caller on span 1 (the carrier), the call centre's PRI
/// B-channel on span 2 cross-connected in the media loop to the gateway's FXO port (span 4),
/// whose line goes to an FXS port (span 3) where the agent's phone sits. The FXO port's hybrid
/// returns echo of what the gateway sends down the line (`Impairments.echoModel`); the loop
/// may run an echo canceller on the FXO channel, as a gateway must for analog lines.
final class AnalogCallLab {
    static let timeslot = 1
    static let port = 1
    static var trunkChannel: Int { MediaLoopLab.bChannel(span: 2, timeslot: timeslot) }
    static var callerChannel: Int { MediaLoopLab.bChannel(span: 1, timeslot: timeslot) }
    /// Embedded default numbering: FXS ports are channels 63–66 (span 3), FXO ports 67–70 (span 4).
    static var fxsChannel: Int { 62 + port }
    static var fxoChannel: Int { 66 + port }
    static let fxoSpan = 4

    let simulator: LineSimulator
    let loop: MediaLoop
    let caller: FarEnd
    let agent: AgentPhone
    let fxo: any ChannelDevice
    /// The gateway's two ends of the call in the loop (read their state only between ticks).
    let trunk: MediaChannel
    let line: MediaChannel
    private(set) var events: [MediaEvent] = []

    /// Sets up the lab and the call: the echo path on the FXO card, the FXO port seized (loop
    /// closed, so the FXS end sees RINGOFFHOOK and is talking), both ends of the gateway in
    /// the loop with `canceller` on the FXO channel, and the two cross-connected.
    init(blockSize: MediaBlockSize, echo: Impairments, canceller: EchoCancellerConfiguration?) throws {
        simulator = try LineSimulator()
        try simulator.setImpairments(echo, span: Self.fxoSpan)
        loop = MediaLoop(configuration: MediaLoopConfiguration(blockSize: blockSize, maximumChannels: 8, maximumConferences: 1))
        loop.attach(to: simulator)
        caller = try FarEnd(simulator: simulator, channel: Self.callerChannel)
        agent = try AgentPhone(simulator: simulator, channel: Self.fxsChannel)

        fxo = try simulator.openChannel(Self.fxoChannel)
        try fxo.hook(.offHook)
        trunk = try MediaChannel(device: try simulator.openChannel(Self.trunkChannel), blockSize: blockSize)
        line = try MediaChannel(device: fxo, blockSize: blockSize, echoCanceller: canceller.map { EchoCanceller(configuration: $0) })
        loop.send(.add(trunk))
        loop.send(.add(line))
        loop.send(.connect(trunk.number, line.number))
        run(ticks: 20)
    }

    /// Runs `ticks` milliseconds: caller and agent send, the simulator and the loop tick,
    /// both collect what reached them; loop events are gathered.
    func run(ticks: Int) {
        for _ in 0..<ticks {
            caller.sendTick()
            agent.sendTick()
            simulator.tick()
            caller.collect()
            agent.collect()
            while let event = loop.nextEvent() { events.append(event) }
            loop.releaseRetired()
        }
    }

    /// What the caller has heard so far, linear.
    var callerHeard: [Int16] { caller.received.map(G711.alawToLinear) }
}

/// The agent's phone on the FXS port: sends its linear stream 8 samples per tick (silence once
/// it has run out, or before it starts) and keeps what it hears and the events it sees.
final class AgentPhone {
    let device: any ChannelDevice
    /// What to send from the next tick on.
    var stream: [Int16] = [] { didSet { sent = 0 } }
    private var sent = 0
    private(set) var received: [Int16] = []
    private(set) var events: [ChannelEvent.Kind] = []

    init(simulator: LineSimulator, channel: Int) throws {
        device = try simulator.openChannel(channel)
        try device.setLinear(true)
        try device.setBlockSize(8)
        try device.setBufferPolicy(.immediate, buffers: 32)
    }

    func sendTick() {
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<8 where sent + index < stream.count {
            let value = UInt16(bitPattern: stream[sent + index])
            bytes[2 * index] = UInt8(truncatingIfNeeded: value)
            bytes[2 * index + 1] = UInt8(truncatingIfNeeded: value >> 8)
        }
        sent += 8
        _ = bytes.withUnsafeBytes { device.write($0) }
    }

    func collect() {
        while let event = device.nextEvent() { events.append(event.kind) }
        var buffer = [UInt8](repeating: 0, count: 512)
        while case .transferred(let count) = buffer.withUnsafeMutableBytes({ device.read(into: $0) }), count > 0 {
            for index in stride(from: 0, to: count - 1, by: 2) {
                received.append(Int16(bitPattern: UInt16(buffer[index]) | UInt16(buffer[index + 1]) << 8))
            }
        }
    }
}
