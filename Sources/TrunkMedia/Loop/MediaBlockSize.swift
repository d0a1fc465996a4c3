import TrunkCore

/// How much audio the loop moves per channel at a time. Shorter blocks cost more turns and
/// system calls; longer blocks add latency (a block each way) but amortise per-block work.
public enum MediaBlockSize: Int, Sendable, CaseIterable {
    /// 8 samples: one DAHDI tick, the lowest latency.
    case ms1 = 8
    /// 64 samples: the echo canceller's own block.
    case ms8 = 64
    /// 160 samples: Asterisk's usual DAHDI block.
    case ms20 = 160

    public var samples: Int { rawValue }
    /// Hardware ticks (1 ms) in a block: the loop's phases (see `MediaLoop`).
    public var ticksPerBlock: Int { rawValue / Tick.samplesPerTick }
}

/// The loop's fixed sizes, all allocated when the loop is created.
public struct MediaLoopConfiguration: Sendable {
    public var blockSize: MediaBlockSize
    /// Channels the loop can carry at once.
    public var maximumChannels: Int
    /// Conference numbers run 0 ..< maximumConferences.
    public var maximumConferences: Int
    public var commandCapacity: Int
    public var eventCapacity: Int

    public init(blockSize: MediaBlockSize = .ms1, maximumChannels: Int = 1024, maximumConferences: Int = 256,
                commandCapacity: Int = 1024, eventCapacity: Int = 4096) {
        self.blockSize = blockSize
        self.maximumChannels = maximumChannels
        self.maximumConferences = maximumConferences
        self.commandCapacity = commandCapacity
        self.eventCapacity = eventCapacity
    }
}
