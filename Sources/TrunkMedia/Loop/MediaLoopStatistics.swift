import Synchronization

/// Counters of the loop as a whole, readable from any thread (relaxed tallies).
public final class MediaLoopStatistics: Sendable {
    /// Ticks run (each processes one phase of the channels).
    public let ticks = Atomic<UInt64>(0)
    /// Events dropped because the event queue was full: the control plane is not draining it.
    public let droppedEvents = Atomic<UInt64>(0)
    /// Objects released on the loop thread because the retired queue was full.
    public let retiredOverflow = Atomic<UInt64>(0)
    /// Commands that named a channel or conference the loop does not have, or found a queue full.
    public let rejectedCommands = Atomic<UInt64>(0)

    init() {}
}
