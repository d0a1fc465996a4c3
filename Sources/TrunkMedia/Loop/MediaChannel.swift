import Synchronization
import TrunkCore
import TrunkHardware

/// Counters of one channel in the loop, readable from any thread (relaxed: each is an
/// independent tally, never used to order other memory).
public final class MediaChannelCounters: Sendable {
    /// Blocks read from the device.
    public let blocksReceived = Atomic<UInt64>(0)
    /// Cycles in which the device had no block ready (EAGAIN): the loop played silence.
    public let receiveMisses = Atomic<UInt64>(0)
    /// Blocks the device would not take (its transmit buffers were full).
    public let transmitDrops = Atomic<UInt64>(0)
    /// Reads and writes that failed otherwise.
    public let ioErrors = Atomic<UInt64>(0)
    /// The echo canceller's ERLE in hundredths of a dB after the latest block; `Int32.min`
    /// while the channel has no canceller. Published so supervision reads it off the loop.
    public let echoERLECentibels = Atomic<Int32>(Int32.min)

    init() {}
}

/// One channel's place in the media loop: its device, the buffers of a block in each
/// direction, and what is attached to it (echo canceller, detectors, tap, switching,
/// playback). Created off the loop, where everything it needs is allocated and the device is
/// configured, then handed to the loop with `MediaCommand.add`; from then on only the loop
/// thread touches it, until the loop hands it back (retired) after `MediaCommand.remove`.
public final class MediaChannel: @unchecked Sendable {
    public static let maximumDetectors = 4

    public let number: Int32
    public let device: any ChannelDevice
    public let law: AudioLaw
    public let blockSamples: Int
    public let counters = MediaChannelCounters()

    // Per-block buffers (blockSamples each).
    /// Bytes as read from the line.
    let rxRaw: UnsafeMutablePointer<UInt8>
    /// Received audio decoded, before the echo canceller.
    let rxDecoded: UnsafeMutablePointer<Int16>
    /// Received audio after the echo canceller: what detectors and taps see.
    let rxClean: UnsafeMutablePointer<Int16>
    /// Received audio after the receive gain: what the other parties hear.
    let rxSwitched: UnsafeMutablePointer<Int16>
    /// The block last sent to the line (the echo canceller's reference for the next block).
    let txLinear: UnsafeMutablePointer<Int16>
    let txRaw: UnsafeMutablePointer<UInt8>
    /// Work buffers: the 32-bit mix, and one block from a playback source.
    let mix: UnsafeMutablePointer<Int32>
    let playScratch: UnsafeMutablePointer<Int16>

    var echoCanceller: EchoCanceller?
    var echoCancellerDisabledReported = false
    var detectors: [(any AudioDetector)?]
    /// Detectors attached, so that a channel without any skips the slots.
    var detectorCount = 0
    var tap: MediaTap?
    var lineTestTap: MediaTap?
    let playback = PlaybackQueue()
    var rxGain = MediaGain.unity
    var txGain = MediaGain.unity

    /// Cross-connect peer: this channel sends what the peer receives (and the peer the reverse).
    /// Not reference counted (no retain/release per block): the loop unlinks both ends before
    /// either leaves it, and both are held by the loop's channel list meanwhile.
    unowned(unsafe) var peer: MediaChannel?
    /// The tick (0 ..< ticksPerBlock) of each block on which the loop processes this channel.
    var phase = 0
    /// Conference number, or −1.
    var conference = -1
    var conferenceSide = ConferenceSide.trunk
    var conferenceMode = ConferenceMode.talk
    var muted = false

    /// Samples received so far: the clock detections and taps are stamped with.
    var rxSampleTime: UInt64 = 0
    var sawMedia = false
    var deviceGone = false
    var reportedIOError = false

    /// Configures `device` for the loop (companded in its law, `blockSize` blocks, immediate
    /// buffering with `buffers` blocks of room) and primes its transmit side with one block of
    /// silence, the margin that absorbs the loop's jitter. System calls happen here, not in the loop.
    public init(device: any ChannelDevice, blockSize: MediaBlockSize, buffers: Int = 4,
                echoCanceller: EchoCanceller? = nil) throws(TrunkError) {
        number = Int32(device.channel)
        self.device = device
        blockSamples = blockSize.samples
        try device.setLinear(false)
        try device.setBlockSize(blockSamples)
        try device.setBufferPolicy(.immediate, buffers: buffers)
        law = device.parameters().law
        self.echoCanceller = echoCanceller
        detectors = Array(repeating: nil, count: Self.maximumDetectors)

        let count = blockSamples
        rxRaw = .allocate(capacity: count)
        rxRaw.initialize(repeating: law.silence, count: count)
        txRaw = .allocate(capacity: count)
        txRaw.initialize(repeating: law.silence, count: count)
        rxDecoded = .allocate(capacity: count)
        rxDecoded.initialize(repeating: 0, count: count)
        rxClean = .allocate(capacity: count)
        rxClean.initialize(repeating: 0, count: count)
        rxSwitched = .allocate(capacity: count)
        rxSwitched.initialize(repeating: 0, count: count)
        txLinear = .allocate(capacity: count)
        txLinear.initialize(repeating: 0, count: count)
        mix = .allocate(capacity: count)
        mix.initialize(repeating: 0, count: count)
        playScratch = .allocate(capacity: count)
        playScratch.initialize(repeating: 0, count: count)

        switch device.write(UnsafeRawBufferPointer(start: txRaw, count: count)) {
        case .transferred, .wouldBlock, .eventPending: break
        case .removed: throw TrunkError(.deviceError, "channel \(number): the device is gone (ENODEV) while priming it for the media loop")
        case .failed(let error): throw error
        }
    }

    deinit {
        rxRaw.deallocate()
        txRaw.deallocate()
        rxDecoded.deallocate()
        rxClean.deallocate()
        rxSwitched.deallocate()
        txLinear.deallocate()
        playScratch.deallocate()
        mix.deallocate()
    }

    /// Echo canceller state for supervision; call from the loop thread or after removal.
    public var echoCancellerStats: EchoCancellerStats? { echoCanceller?.stats }
}
