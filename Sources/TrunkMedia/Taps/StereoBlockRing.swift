import Synchronization

/// A bounded single-producer single-consumer ring of fixed-size stereo blocks: the media loop
/// pushes, a writer thread (the recording store, a monitoring stream) drains. Frames are
/// interleaved 16-bit linear, left = trunk/far end, right = agent/near end, at 8 kHz.
///
/// A full ring drops the new block and counts it, so a slow disk can never stall the loop;
/// every block carries the channel's sample time of its first frame, so a consumer sees
/// exactly where audio is missing.
public final class StereoBlockRing: @unchecked Sendable {
    /// Frames (left/right sample pairs) per block.
    public let blockFrames: Int
    public let capacityBlocks: Int
    private let mask: Int
    private let samples: UnsafeMutablePointer<Int16>
    private let sampleTimes: UnsafeMutablePointer<UInt64>
    private let head = Atomic<Int>(0)
    private let tail = Atomic<Int>(0)
    private let droppedBlocks = Atomic<UInt64>(0)

    /// `capacityBlocks` is rounded up to a power of two.
    public init(blockFrames: Int, capacityBlocks: Int) {
        precondition(blockFrames > 0 && capacityBlocks > 0, "a stereo ring needs blocks of at least one frame")
        var size = 1
        while size < capacityBlocks { size <<= 1 }
        self.blockFrames = blockFrames
        self.capacityBlocks = size
        mask = size - 1
        samples = .allocate(capacity: size * blockFrames * 2)
        samples.initialize(repeating: 0, count: size * blockFrames * 2)
        sampleTimes = .allocate(capacity: size)
        sampleTimes.initialize(repeating: 0, count: size)
    }

    deinit {
        samples.deallocate()
        sampleTimes.deallocate()
    }

    /// Blocks dropped because the ring was full.
    public var overflowCount: UInt64 { droppedBlocks.load(ordering: .relaxed) }

    /// Blocks waiting for the consumer.
    public var availableBlocks: Int { tail.load(ordering: .acquiring) - head.load(ordering: .acquiring) }

    // MARK: producer (the media loop)

    /// Interleaves one block; false (and counted) when the ring is full.
    @inline(__always)
    func push(left: UnsafePointer<Int16>, right: UnsafePointer<Int16>, sampleTime: UInt64) -> Bool {
        let position = tail.load(ordering: .relaxed)
        guard position - head.load(ordering: .acquiring) < capacityBlocks else {
            droppedBlocks.add(1, ordering: .relaxed)
            return false
        }
        let slot = position & mask
        let block = samples + slot * blockFrames * 2
        for frame in 0..<blockFrames {
            block[2 * frame] = left[frame]
            block[2 * frame + 1] = right[frame]
        }
        sampleTimes[slot] = sampleTime
        tail.store(position + 1, ordering: .releasing)
        return true
    }

    // MARK: consumer (a writer thread)

    /// Copies the oldest block (`blockFrames × 2` interleaved samples) into `out` and returns
    /// the sample time of its first frame; nil when the ring is empty.
    public func pop(into out: UnsafeMutableBufferPointer<Int16>) -> UInt64? {
        precondition(out.count >= blockFrames * 2, "a stereo block needs room for \(blockFrames * 2) samples, not \(out.count)")
        let position = head.load(ordering: .relaxed)
        guard position != tail.load(ordering: .acquiring) else { return nil }
        let slot = position & mask
        let block = samples + slot * blockFrames * 2
        out.baseAddress!.update(from: block, count: blockFrames * 2)
        let time = sampleTimes[slot]
        head.store(position + 1, ordering: .releasing)
        return time
    }
}
