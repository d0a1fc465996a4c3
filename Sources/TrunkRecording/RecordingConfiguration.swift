import TrunkCore

/// The `[recording]` settings: where recordings go, how they are written, kept and guarded.
public struct RecordingConfiguration: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Every call on `fullTimeSpans`, `fullTimeChannels` or `fullTimeTrunkGroups` is recorded
        /// from answer to hangup (全程录音).
        case fullTime = "full-time"
        /// Only when asked through CTI.
        case onDemand = "on-demand"
    }

    public enum TapPoint: String, Sendable, CaseIterable {
        case postEC = "post-ec"
        case preEC = "pre-ec"
    }

    public var root: String
    public var format: RecordingFormat = .standard
    public var mode: Mode = .fullTime
    /// Spans recorded full-time. With all three lists empty and mode full-time: every call.
    public var fullTimeSpans: [Int] = []
    /// Channels recorded full-time, by their DAHDI-style number (span 2's first is 32 in the lab).
    public var fullTimeChannels: [Int] = []
    /// Trunk groups whose channels are recorded full-time.
    public var fullTimeTrunkGroups: [String] = []
    public var tap: TapPoint = .postEC
    public var retentionDefault: RetentionClass = try! RetentionClass("90d")
    /// The storage alarm is raised when free space falls below either threshold.
    public var storageAlarmFreePercent: Double? = 10
    public var storageAlarmFreeBytes: Int64?
    /// Below this many free bytes new recordings are refused and active ones finalized.
    public var storageReserveBytes: Int64 = 64 << 20
    /// AES-256 key for per-file encryption; must lie outside `root`.
    public var keyFile: String?
    /// How often every open recording's header is rewritten and the file synced (≤ 5 s).
    public var checkpointSeconds: Double = 2
    /// Per-recording queue between the media loop's consumer and the writer, in seconds of audio.
    public var queueSeconds: Double = 4
    public var writerThreads: Int = 2

    public init(root: String) { self.root = root }
}
