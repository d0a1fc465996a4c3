/// What trunkctl's line tests send and get back over the control socket (`chan.tone`,
/// `chan.level`, `chan.monitor`).

/// `chan.tone`: a test tone on a channel, or `off`.
public struct ChannelToneParams: Codable, Sendable, Equatable {
    public var span: Int
    public var channel: Int
    public var frequencyHz: Int?
    public var levelDBm0: Double?
    /// nil: until `off` (at most `LineTests.longestTone`).
    public var seconds: Double?
    public var off: Bool

    public init(span: Int, channel: Int, frequencyHz: Int?, levelDBm0: Double?, seconds: Double?, off: Bool) {
        self.span = span
        self.channel = channel
        self.frequencyHz = frequencyHz
        self.levelDBm0 = levelDBm0
        self.seconds = seconds
        self.off = off
    }
}

public struct ChannelToneReport: Codable, Sendable, Equatable {
    public var address: String
    public var playing: Bool
    public var frequencyHz: Int?
    public var levelDBm0: Double?
    /// How long it plays (nil: until `off`).
    public var seconds: Double?
}

/// `chan.level`: measure what a channel receives for `seconds`.
public struct ChannelLevelParams: Codable, Sendable, Equatable {
    public var span: Int
    public var channel: Int
    public var seconds: Double
    /// Measure before the echo canceller (only differs on a call with one).
    public var preEchoCanceller: Bool

    public init(span: Int, channel: Int, seconds: Double, preEchoCanceller: Bool = false) {
        self.span = span
        self.channel = channel
        self.seconds = seconds
        self.preEchoCanceller = preEchoCanceller
    }
}

public struct ChannelLevelReport: Codable, Sendable, Equatable {
    public var address: String
    /// Samples measured (the settling time at the start is not counted).
    public var samples: Int
    public var seconds: Double
    /// RMS level of what the channel received, dBm0 (−99 for digital silence).
    public var levelDBm0: Double
    /// Level of a sine with the largest peak seen.
    public var peakDBm0: Double
    /// The strongest frequency (nil: silence, or under 256 ms measured).
    public var frequencyHz: Double?
    /// Blocks the measurement lost because it fell behind the loop (normally 0).
    public var droppedBlocks: UInt64
    /// The call up on the channel during the measurement, if any.
    public var call: String?
}

/// `chan.monitor`: stream a channel's audio until `seconds` have been sent or the client goes.
public struct ChannelMonitorParams: Codable, Sendable, Equatable {
    public var span: Int
    public var channel: Int
    public var seconds: Double?
    /// Left what the channel receives, right what it is sent; otherwise what it receives only.
    public var stereo: Bool
    public var preEchoCanceller: Bool

    public init(span: Int, channel: Int, seconds: Double?, stereo: Bool, preEchoCanceller: Bool) {
        self.span = span
        self.channel = channel
        self.seconds = seconds
        self.stereo = stereo
        self.preEchoCanceller = preEchoCanceller
    }
}

/// One stretch of contiguous audio of a monitor stream, sent as the JSON-RPC notification
/// `chan.monitor.audio` before the request's reply.
public struct MonitorChunk: Codable, Sendable, Equatable {
    public var seq: Int
    /// The channel's received-sample clock at the chunk's first frame: a jump from the end of
    /// the previous chunk is audio the stream lost (blocks dropped), to be filled with silence.
    public var sampleTime: UInt64
    public var frames: Int
    /// 1 (mono) or 2 (stereo, interleaved left/right).
    public var channels: Int
    /// The frames in A-law, base64.
    public var alaw: String
    /// Blocks dropped so far because the stream fell behind the loop.
    public var droppedBlocks: UInt64
}

public struct MonitorNotification: Codable, Sendable {
    public var jsonrpc = "2.0"
    public var method = "chan.monitor.audio"
    public var params: MonitorChunk
}

public struct ChannelMonitorReport: Codable, Sendable, Equatable {
    public var address: String
    public var frames: Int
    public var channels: Int
    public var droppedBlocks: UInt64
    /// Why the stream ended: "seconds" (the length asked for), "client" (the client went),
    /// "interrupted" (trunkctl's own summary after Ctrl-C).
    public var ended: String

    public init(address: String, frames: Int, channels: Int, droppedBlocks: UInt64, ended: String) {
        self.address = address
        self.frames = frames
        self.channels = channels
        self.droppedBlocks = droppedBlocks
        self.ended = ended
    }
}
