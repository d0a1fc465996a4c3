import TrunkCore
import TrunkHardware

/// A channel device in memory standing where the DAHDI read/write system calls are: an
/// analog line with a hybrid that returns what it is sent 30 ms later, 12 dB down, under a
/// speech-like near-end talker. The echo gives the canceller real work on every block.
final class EchoLineDevice: ChannelDevice, @unchecked Sendable {
    static let echoDelay = 240
    private static let historySize = 1024

    let channel: Int
    private let talker: UnsafeMutableBufferPointer<UInt8>
    private var talkerPosition: Int
    private let sent: UnsafeMutablePointer<Int16>
    private var sentCount = 0
    private var receivedCount = 0
    private var blockSize = 8
    /// G.711 through plain pointers, so that the line itself costs little next to the loop.
    private let decodeTable: UnsafeMutablePointer<Int16>
    private let encodeTable: UnsafeMutablePointer<UInt8>

    /// `talker`: A-law near-end speech, looped; `offset` staggers channels through it.
    init(channel: Int, talker: [UInt8], offset: Int) {
        self.channel = channel
        self.talker = .allocate(capacity: talker.count)
        _ = self.talker.initialize(from: talker)
        talkerPosition = offset % talker.count
        sent = .allocate(capacity: Self.historySize)
        sent.initialize(repeating: 0, count: Self.historySize)
        decodeTable = .allocate(capacity: 256)
        decodeTable.initialize(from: G711.alawDecodeTable, count: 256)
        encodeTable = .allocate(capacity: 65536)
        encodeTable.initialize(from: G711.alawEncodeTable, count: 65536)
    }

    deinit {
        talker.deallocate()
        sent.deallocate()
        decodeTable.deallocate()
        encodeTable.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> DeviceIO {
        let count = min(blockSize, buffer.count)
        for index in 0..<count {
            let at = receivedCount - Self.echoDelay
            let echo = at >= 0 && at < sentCount ? Int32(sent[at & (Self.historySize - 1)]) >> 2 : 0
            let near = Int32(decodeTable[Int(talker[talkerPosition])]) >> 3
            buffer[index] = encodeTable[Int(UInt16(bitPattern: Int16(clamping: echo + near)))]
            talkerPosition = talkerPosition + 1 == talker.count ? 0 : talkerPosition + 1
            receivedCount += 1
        }
        return .transferred(count)
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> DeviceIO {
        for index in 0..<bytes.count {
            sent[sentCount & (Self.historySize - 1)] = decodeTable[Int(bytes[index])]
            sentCount += 1
        }
        return .transferred(bytes.count)
    }

    func nextEvent() -> ChannelEvent? { nil }
    func hook(_ operation: HookOperation) throws(TrunkError) {}
    func setPolarity(reversed: Bool) throws(TrunkError) {}
    func setLaw(_ law: AudioLaw) throws(TrunkError) {}
    func setLinear(_ linear: Bool) throws(TrunkError) {}
    func setBlockSize(_ samples: Int) throws(TrunkError) { blockSize = samples }
    func setBufferPolicy(_ policy: BufferPolicy, buffers: Int) throws(TrunkError) {}
    func setRingCadence(_ cadence: [Int]) throws(TrunkError) {}
    func parameters() -> ChannelParameters {
        ChannelParameters(channel: channel, span: 1 + (channel - 1) / 31, chanPos: 1 + (channel - 1) % 31, signalling: .bearer,
                          law: .alaw, linear: false, blockSize: blockSize, hookState: .offHook, polarityReversed: false,
                          alarms: [], isOpen: true)
    }
    func close() {}
}
