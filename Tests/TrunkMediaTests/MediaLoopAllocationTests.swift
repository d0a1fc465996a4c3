import CMallocCounter
import Testing
import TrunkCore
import TrunkHardware
@testable import TrunkMedia

/// Counts the allocations a thread makes while counting is on, except those made inside the
/// hardware's own calls: the simulator's device I/O stands where DAHDI's read/write system
/// calls are, and what it allocates (its debug build allocates in every read and write) is
/// the kernel's business, not the loop's.
final class HardwareExcludedCounter {
    private(set) var active = false
    private var carried = 0

    func start() {
        carried = 0
        active = true
        malloc_counter_start()
    }

    func stop() -> Int {
        active = false
        return carried + malloc_counter_stop()
    }

    @inline(__always)
    func pausing(_ body: () -> DeviceIO) -> DeviceIO {
        guard active else { return body() }
        carried += malloc_counter_stop()
        let result = body()
        malloc_counter_start()
        return result
    }

    @inline(__always)
    func pausingEvent(_ body: () -> ChannelEvent?) -> ChannelEvent? {
        guard active else { return body() }
        carried += malloc_counter_stop()
        let result = body()
        malloc_counter_start()
        return result
    }
}

/// A pass-through to a real device that keeps the device's own allocations out of the count.
final class HardwareExcludedDevice: ChannelDevice, @unchecked Sendable {
    let inner: any ChannelDevice
    let counter: HardwareExcludedCounter
    init(_ inner: any ChannelDevice, counter: HardwareExcludedCounter) {
        self.inner = inner
        self.counter = counter
    }
    var channel: Int { inner.channel }
    func read(into buffer: UnsafeMutableRawBufferPointer) -> DeviceIO { counter.pausing { inner.read(into: buffer) } }
    func write(_ bytes: UnsafeRawBufferPointer) -> DeviceIO { counter.pausing { inner.write(bytes) } }
    func nextEvent() -> ChannelEvent? { counter.pausingEvent { inner.nextEvent() } }
    func hook(_ operation: HookOperation) throws(TrunkError) { try inner.hook(operation) }
    func setPolarity(reversed: Bool) throws(TrunkError) { try inner.setPolarity(reversed: reversed) }
    func setLaw(_ law: AudioLaw) throws(TrunkError) { try inner.setLaw(law) }
    func setLinear(_ linear: Bool) throws(TrunkError) { try inner.setLinear(linear) }
    func setBlockSize(_ samples: Int) throws(TrunkError) { try inner.setBlockSize(samples) }
    func setBufferPolicy(_ policy: BufferPolicy, buffers: Int) throws(TrunkError) { try inner.setBufferPolicy(policy, buffers: buffers) }
    func setRingCadence(_ cadence: [Int]) throws(TrunkError) { try inner.setRingCadence(cadence) }
    func parameters() -> ChannelParameters { inner.parameters() }
    func close() { inner.close() }
}

/// The real-time path must not allocate (STYLE.md): a cycle over many channels doing all
/// the loop does — transparent and processed bridges, an echo canceller, gains, a conference
/// with a whisperer, queued prompts ending and starting, a DTMF generator, a tap, the DTMF and
/// call-progress detectors — allocates
/// nothing. Only the loop's cycles are counted (per thread), without the device calls inside
/// them; the simulator ticking and the far ends are the hardware and run outside the count.
@Suite("Media loop allocations")
struct MediaLoopAllocationTests {
    @Test("zero allocations over 12 channels × 1000 ticks, at each block size", arguments: MediaBlockSize.allCases)
    func zeroAllocations(blockSize: MediaBlockSize) throws {
        let counter = HardwareExcludedCounter()
        let timeslots = Array(1...12)
        let lab = try MediaLoopLab(blockSize: blockSize, timeslots: timeslots, attach: false,
                                   wrap: { HardwareExcludedDevice($0, counter: counter) })
        let loop = lab.loop
        loop.send(.connect(lab.near(1), lab.near(2)))
        loop.send(.connect(lab.near(3), lab.near(4)))
        loop.send(.setEchoCanceller(channel: lab.near(3), canceller: EchoCanceller(configuration: EchoCancellerConfiguration(tailTaps: 256))))
        loop.send(.setGains(channel: lab.near(4), receive: MediaGain(decibels: -3), transmit: MediaGain(decibels: 2)))
        for timeslot in 5...8 {
            loop.send(.joinConference(channel: lab.near(timeslot), conference: 2, side: timeslot == 5 ? .trunk : .agent,
                                      mode: timeslot == 8 ? .whisper : .talk))
        }
        // Prompts that end and hand over inside the counted ticks.
        let prompt = Prompt(name: "short", samples: (0..<900).map { Int16(truncatingIfNeeded: $0 * 37) })
        for id in 0..<4 {
            loop.send(.play(channel: lab.near(9), source: PromptPlayer(prompt), id: UInt32(id), gain: MediaGain(decibels: -1), mixWithSwitched: false))
        }
        let tap = MediaTap(id: 1, blockFrames: blockSize.samples, capacityBlocks: 64)
        loop.send(.attachTap(channel: lab.near(10), tap: tap))
        let detector = LoudSampleDetector(threshold: 8000)
        loop.send(.attachDetector(channel: lab.near(11), detector: detector))
        // The DSP branch's detectors and a generator, as calls use them.
        loop.send(.attachDetector(channel: lab.near(12), detector: DTMFReceiver()))
        loop.send(.attachDetector(channel: lab.near(12), detector: CallProgressToneDetector(zone: .cn)))
        let keypad = DTMFGenerator(onMs: 40, offMs: 40)
        _ = keypad.send("0123456789")
        loop.send(.play(channel: lab.near(12), source: keypad, id: 99, gain: .unity, mixWithSwitched: true))
        var random = SignalRandom(state: 31)
        for timeslot in timeslots { lab.farEnd(timeslot).stream = random.alawNoise(count: 12000, amplitude: 10000) }

        var block = [Int16](repeating: 0, count: blockSize.samples * 2)
        var allocations = 0
        var finished = 0
        for tick in 0..<1100 {
            for far in lab.farEnds.values { far.sendTick() }
            lab.simulator.tick()
            // The first 100 ticks are warm-up: commands applied, first-use runtime work done.
            if tick >= 100 { counter.start() }
            loop.tick()
            if tick >= 100 { allocations += counter.stop() }
            for far in lab.farEnds.values { far.collect() }
            while let event = loop.nextEvent() {
                if case .playbackFinished = event.kind { finished += 1 }
            }
            loop.releaseRetired()
            while block.withUnsafeMutableBufferPointer({ tap.ring.pop(into: $0) }) != nil {}
        }
        #expect(allocations == 0)
        #expect(loop.statistics.ticks.load(ordering: .relaxed) == 1100)
        #expect(finished == 5, "the prompts and the DTMF ran out and handed over inside the counted ticks")
        #expect(detector.blocks > 0 && tap.ring.overflowCount == 0)
    }
}
