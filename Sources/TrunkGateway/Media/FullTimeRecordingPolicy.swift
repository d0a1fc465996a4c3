import TrunkRecording

/// Which calls are recorded whole, from answer to hangup (全程录音): `[recording] mode =
/// "full-time"` with `full_time_spans`, `full_time_channels` and `full_time_trunk_groups`. A
/// call is covered when its channel is in any of them; with all three empty, every call is.
///
/// Recording starts when the call's channel joins the media loop, which is the answer: the
/// moment this node answers an inbound call, or the far end answers an outbound one. Before
/// that there is no audio path to record (an inbound PRI call carries none before CONNECT; the
/// ring time of a call is in its call record). Everything after it is in the file: prompts,
/// digits, queueing, the agent's conversation, holds and transfers.
public struct FullTimeRecordingPolicy: Sendable, Equatable {
    public var spans: Set<Int>
    /// DAHDI-style channel numbers.
    public var channels: Set<Int>
    public var trunkGroups: Set<String>

    public init(spans: Set<Int> = [], channels: Set<Int> = [], trunkGroups: Set<String> = []) {
        self.spans = spans
        self.channels = channels
        self.trunkGroups = trunkGroups
    }

    /// The policy of a `[recording]` table; nil when recording is on demand only.
    public init?(_ configuration: RecordingConfiguration) {
        guard configuration.mode == .fullTime else { return nil }
        self.init(spans: Set(configuration.fullTimeSpans), channels: Set(configuration.fullTimeChannels),
                  trunkGroups: Set(configuration.fullTimeTrunkGroups))
    }

    public var coversEveryCall: Bool { spans.isEmpty && channels.isEmpty && trunkGroups.isEmpty }

    /// Whether a call on `address` (DAHDI number `channelNumber`) is recorded; `groups` are the
    /// node's trunk groups, for membership.
    public func covers(_ address: ChannelAddress, channelNumber: Int?, groups: [TrunkGroup]) -> Bool {
        if coversEveryCall || spans.contains(address.span) { return true }
        if let channelNumber, channels.contains(channelNumber) { return true }
        return groups.contains { trunkGroups.contains($0.name) && $0.members.contains(address) }
    }
}
