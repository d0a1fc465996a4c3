/// A recording or monitoring tap on one channel: each block it receives the channel's block as
/// a stereo pair, left = what the line sent us (the trunk/far end), right = what we sent the
/// line (the agent/near end), and hands it to its consumer through a `StereoBlockRing`.
public final class MediaTap: @unchecked Sendable {
    public enum Point: Sendable, Equatable {
        /// The received audio as it came off the line, echo included.
        case beforeEchoCanceller
        /// The received audio after the echo canceller (the same when the channel has none).
        case afterEchoCanceller
    }

    /// The caller's name for the tap, carried in overflow events.
    public let id: UInt32
    public let point: Point
    /// The consumer side: drain it from a writer thread.
    public let ring: StereoBlockRing
    /// Set by the loop while the ring is dropping, so overflow is reported once per episode.
    var overflowing = false

    /// `capacityBlocks` blocks of the loop's block size; size it for the longest stall the
    /// consumer may have (a disk sync): e.g. 2 s at 20 ms blocks is 100 blocks.
    public init(id: UInt32, point: Point = .afterEchoCanceller, blockFrames: Int, capacityBlocks: Int) {
        self.id = id
        self.point = point
        ring = StereoBlockRing(blockFrames: blockFrames, capacityBlocks: capacityBlocks)
    }
}
