import TrunkCore

/// How a recording is stored: the sample encoding and whether the two sides stay apart.
/// Stereo keeps the trunk (far end) on the left and the agent (near end) on the right.
public struct RecordingFormat: Sendable, Equatable, Codable {
    public enum Layout: String, Sendable, Codable, CaseIterable {
        case stereo
        /// Both sides summed into one channel (half the size, no side separation).
        case mono
    }

    public var encoding: WAVFormat.Encoding
    public var layout: Layout

    public init(encoding: WAVFormat.Encoding = .alaw, layout: Layout = .stereo) {
        self.encoding = encoding
        self.layout = layout
    }

    public static let standard = RecordingFormat()

    public var wav: WAVFormat { WAVFormat(encoding: encoding, channels: layout == .stereo ? 2 : 1, sampleRate: 8000) }

    /// What the index stores, e.g. "alaw/stereo".
    public var name: String { "\(encoding.rawValue)/\(layout.rawValue)" }

    public init?(name: String) {
        let parts = name.split(separator: "/").map(String.init)
        guard parts.count == 2, let encoding = WAVFormat.Encoding(rawValue: parts[0]), let layout = Layout(rawValue: parts[1]) else { return nil }
        self.init(encoding: encoding, layout: layout)
    }

    /// The channel map stated in the metadata of every recording.
    public var channelMap: String { layout == .stereo ? "left=trunk,right=agent" : "mono=trunk+agent" }

    /// Bytes one stereo input frame becomes on disk.
    public var bytesPerInputFrame: Int { wav.blockAlign }
}
