import TrunkCore

/// A recording's samples as linear 16-bit per channel, for playing, exporting and checking.
public struct RecordingAudio: Sendable {
    public var format: WAVFormat
    /// channels[0] = left (trunk), channels[1] = right (agent) for stereo recordings.
    public var channels: [[Int16]]

    public init(format: WAVFormat, channels: [[Int16]]) {
        self.format = format
        self.channels = channels
    }

    public init(wav bytes: [UInt8]) throws(TrunkError) {
        let layout = try WAVFormat.parse(bytes.prefix(4096))
        format = layout.format
        let end = min(bytes.count, layout.dataOffset + layout.declaredDataBytes)
        let frames = max(0, end - layout.dataOffset) / layout.format.blockAlign
        var out = [[Int16]](repeating: [], count: format.channels)
        for c in 0..<format.channels { out[c].reserveCapacity(frames) }
        var position = layout.dataOffset
        for _ in 0..<frames {
            for c in 0..<format.channels {
                switch format.encoding {
                case .alaw: out[c].append(G711.alawToLinear(bytes[position])); position += 1
                case .mulaw: out[c].append(G711.ulawToLinear(bytes[position])); position += 1
                case .pcm16:
                    out[c].append(Int16(bitPattern: UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8))
                    position += 2
                }
            }
        }
        channels = out
    }

    public var frames: Int { channels.first?.count ?? 0 }
    public var seconds: Double { Double(frames) / Double(format.sampleRate) }

    /// One side (0 = trunk, 1 = agent) or both mixed, for a listener with one ear.
    public func side(_ channel: Int?) -> [Int16] {
        if let channel { return channels[min(channel, channels.count - 1)] }
        guard channels.count == 2 else { return channels[0] }
        return zip(channels[0], channels[1]).map { Int16(clamping: Int32($0) + Int32($1)) }
    }

    /// A WAV file of `channels` (each an array of samples) in `encoding`.
    public static func wav(_ channels: [[Int16]], encoding: WAVFormat.Encoding, sampleRate: Int = 8000) -> [UInt8] {
        let format = WAVFormat(encoding: encoding, channels: channels.count, sampleRate: sampleRate)
        let frames = channels.map(\.count).min() ?? 0
        var out = format.header(dataBytes: frames * format.blockAlign)
        out.reserveCapacity(out.count + frames * format.blockAlign + 1)
        for i in 0..<frames {
            for channel in channels {
                switch encoding {
                case .alaw: out.append(G711.linearToAlaw(channel[i]))
                case .mulaw: out.append(G711.linearToUlaw(channel[i]))
                case .pcm16:
                    let v = UInt16(bitPattern: channel[i])
                    out.append(UInt8(truncatingIfNeeded: v))
                    out.append(UInt8(truncatingIfNeeded: v >> 8))
                }
            }
        }
        if (frames * format.blockAlign) & 1 == 1 { out.append(0) }
        return out
    }
}
