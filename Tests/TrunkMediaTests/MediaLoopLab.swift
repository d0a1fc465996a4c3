import TrunkCore
import TrunkHardware
@testable import TrunkMedia

/// The embedded default lab for media loop tests: calls arrive on span 2 (the call centre's
/// trunk), whose B-channels the loop owns; their far ends are the same timeslots of span 1
/// (the carrier), driven by the test one tick at a time.
final class MediaLoopLab {
    static func bChannel(span: Int, timeslot: Int) -> Int { (span - 1) * 31 + timeslot }

    let simulator: LineSimulator
    let loop: MediaLoop
    let blockSize: MediaBlockSize
    private(set) var farEnds: [Int: FarEnd] = [:]
    private(set) var events: [MediaEvent] = []

    /// Opens the call centre side of each timeslot into the loop, and its carrier-side far end.
    /// `wrap` may put a pass-through around each loop-side device (see `HardwareExcludedCounter`).
    init(blockSize: MediaBlockSize, timeslots: [Int], attach: Bool = true,
         wrap: (any ChannelDevice) -> any ChannelDevice = { $0 }) throws {
        simulator = try LineSimulator()
        loop = MediaLoop(configuration: MediaLoopConfiguration(blockSize: blockSize, maximumChannels: 64, maximumConferences: 8))
        self.blockSize = blockSize
        if attach { loop.attach(to: simulator) }
        for timeslot in timeslots {
            farEnds[timeslot] = try FarEnd(simulator: simulator, channel: Self.bChannel(span: 1, timeslot: timeslot))
            let device = wrap(try simulator.openChannel(Self.bChannel(span: 2, timeslot: timeslot)))
            loop.send(.add(try MediaChannel(device: device, blockSize: blockSize)))
        }
        // One tick: the channels are in the loop before a test sends commands or audio (what
        // a channel received before the loop took it over is dropped, by design).
        if attach { run(ticks: 1) }
    }

    /// The loop's channel number for a timeslot.
    func near(_ timeslot: Int) -> Int32 { Int32(Self.bChannel(span: 2, timeslot: timeslot)) }

    func farEnd(_ timeslot: Int) -> FarEnd { farEnds[timeslot]! }

    /// Runs `ticks` milliseconds: far ends send, the simulator (and the attached loop) ticks,
    /// far ends collect; loop events are gathered.
    func run(ticks: Int) {
        for _ in 0..<ticks {
            for far in farEnds.values { far.sendTick() }
            simulator.tick()
            for far in farEnds.values { far.collect() }
            while let event = loop.nextEvent() { events.append(event) }
            loop.releaseRetired()
        }
    }
}

/// A call's far end on the carrier side: sends its stream 8 bytes per tick (A-law silence
/// once it has run out) and keeps everything it receives.
final class FarEnd {
    let device: any ChannelDevice
    /// What to send from the next tick on.
    var stream: [UInt8] = [] { didSet { sent = 0 } }
    private var sent = 0
    private(set) var received: [UInt8] = []

    init(simulator: LineSimulator, channel: Int) throws {
        device = try simulator.openChannel(channel)
        try device.setBlockSize(8)
        try device.setBufferPolicy(.immediate, buffers: 32)
    }

    func sendTick() {
        var chunk = [UInt8](repeating: G711.alawSilence, count: 8)
        for index in 0..<8 where sent + index < stream.count { chunk[index] = stream[sent + index] }
        sent += 8
        _ = chunk.withUnsafeBytes { device.write($0) }
    }

    func collect() {
        while device.nextEvent() != nil {}
        var buffer = [UInt8](repeating: 0, count: 256)
        while case .transferred(let count) = buffer.withUnsafeMutableBytes({ device.read(into: $0) }), count > 0 {
            received += buffer[0..<count]
        }
    }
}

/// Deterministic test signals.
struct SignalRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 17
    }
    /// Uniform noise in ±amplitude.
    mutating func sample(amplitude: Int) -> Int16 { Int16(Int(next() % UInt64(2 * amplitude + 1)) - amplitude) }
    /// A-law noise: what a talker on the far end sends.
    mutating func alawNoise(count: Int, amplitude: Int) -> [UInt8] {
        (0..<count).map { _ in G711.linearToAlaw(sample(amplitude: amplitude)) }
    }
}

/// Where `expected` occurs in `received`, searching delays up to `maximumDelay`; nil if nowhere.
func offset(of expected: ArraySlice<UInt8>, in received: [UInt8], maximumDelay: Int) -> Int? {
    guard !expected.isEmpty else { return nil }
    for start in 0...maximumDelay where start + expected.count <= received.count {
        if received[start..<(start + expected.count)].elementsEqual(expected) { return start }
    }
    return nil
}

/// A-law bytes of the sample-by-sample sum of the given parties' A-law streams (what a
/// conference party should hear), clipped like the loop clips.
func alawMix(_ streams: [[UInt8]]) -> [UInt8] {
    let length = streams.map(\.count).min() ?? 0
    return (0..<length).map { index in
        let sum = streams.reduce(Int32(0)) { $0 + Int32(G711.alawToLinear($1[index])) }
        return G711.linearToAlaw(Int16(min(max(sum, -32768), 32767)))
    }
}
