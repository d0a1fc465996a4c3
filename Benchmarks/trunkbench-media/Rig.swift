import G168Harness
import TrunkCore
import TrunkHardware
import TrunkMedia

/// N channels in the full pipeline: each an echoing line with a 1024-tap (128 ms) echo
/// canceller, the DTMF and call-progress detectors when built with them, and a stereo
/// recording tap; bridged in pairs (trunk ⇄ agent), so every channel is processed both ways.
final class PipelineRig {
    let loop: MediaLoop
    let taps: [MediaTap]
    let detectorsPerChannel: Int
    private var scratch: [Int16]

    static let talker: [UInt8] = SpeechLikeSignal.compositeSource(seconds: 8, activeLevel: -15, voiced: .tableC1, seed: 5)
        .map { G711.linearToAlaw(Int16(clamping: Int(($0).rounded()))) }

    init(channels: Int, blockSize: MediaBlockSize, echoTaps: Int = 1024, withTap: Bool = true) throws(TrunkError) {
        loop = MediaLoop(configuration: MediaLoopConfiguration(blockSize: blockSize, maximumChannels: max(channels, 2),
                                                               commandCapacity: 8 * channels + 64, eventCapacity: 65536))
        var taps: [MediaTap] = []
        var detectors = 0
        for index in 0..<channels {
            let device = EchoLineDevice(channel: index + 1, talker: Self.talker, offset: index * 977)
            let canceller = echoTaps > 0 ? EchoCanceller(configuration: EchoCancellerConfiguration(tailTaps: echoTaps)) : nil
            let channel = try MediaChannel(device: device, blockSize: blockSize, echoCanceller: canceller)
            loop.send(.add(channel))
            let made = BenchDetectors.make()
            detectors = made.count
            for detector in made { loop.send(.attachDetector(channel: channel.number, detector: detector)) }
            if withTap {
                let tap = MediaTap(id: UInt32(index), point: .afterEchoCanceller, blockFrames: blockSize.samples, capacityBlocks: 512)
                loop.send(.attachTap(channel: channel.number, tap: tap))
                taps.append(tap)
            }
            if index % 2 == 1 { loop.send(.connect(Int32(index), Int32(index + 1))) }
        }
        detectorsPerChannel = detectors
        self.taps = taps
        scratch = Array(repeating: 0, count: blockSize.samples * 2)
        loop.runBlock()
        drain()
    }

    /// The writer's side: empties every tap and the event queue.
    func drain() {
        for tap in taps {
            while scratch.withUnsafeMutableBufferPointer({ tap.ring.pop(into: $0) }) != nil {}
        }
        while loop.nextEvent() != nil {}
        loop.releaseRetired()
    }
}

/// The plain copy loop the pipeline is compared with: read, decode, encode, write, on the
/// same kind of device and the same number of channels.
final class CopyRig {
    let devices: [EchoLineDevice]
    let blockSamples: Int
    private let raw: UnsafeMutablePointer<UInt8>
    private let linear: UnsafeMutablePointer<Int16>
    private let decodeTable: UnsafeMutablePointer<Int16>
    private let encodeTable: UnsafeMutablePointer<UInt8>

    init(channels: Int, blockSize: MediaBlockSize) {
        blockSamples = blockSize.samples
        devices = (0..<channels).map { EchoLineDevice(channel: $0 + 1, talker: PipelineRig.talker, offset: $0 * 977) }
        for device in devices { try? device.setBlockSize(blockSamples) }
        raw = .allocate(capacity: blockSamples)
        raw.initialize(repeating: 0xD5, count: blockSamples)
        linear = .allocate(capacity: blockSamples)
        linear.initialize(repeating: 0, count: blockSamples)
        decodeTable = .allocate(capacity: 256)
        decodeTable.initialize(from: G711.alawDecodeTable, count: 256)
        encodeTable = .allocate(capacity: 65536)
        encodeTable.initialize(from: G711.alawEncodeTable, count: 65536)
    }

    func runCycle() {
        let table = decodeTable
        let encodeTable = self.encodeTable
        for device in devices {
            _ = device.read(into: UnsafeMutableRawBufferPointer(start: raw, count: blockSamples))
            for index in 0..<blockSamples { linear[index] = table[Int(raw[index])] }
            for index in 0..<blockSamples { raw[index] = encodeTable[Int(UInt16(bitPattern: linear[index]))] }
            _ = device.write(UnsafeRawBufferPointer(start: raw, count: blockSamples))
        }
    }
}
