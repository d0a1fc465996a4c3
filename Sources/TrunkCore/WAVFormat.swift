/// RIFF/WAVE headers for 8 kHz telephony audio: what recordings are written as, what prompts
/// and the offline tools read. Only the parts of the format telephony files use: one `fmt `
/// chunk (PCM 16-bit, A-law = tag 6, µ-law = tag 7), an optional `fact` chunk, one `data` chunk;
/// other chunks (LIST, cue …) are skipped when reading.
public struct WAVFormat: Sendable, Equatable {
    public enum Encoding: String, Sendable, Codable, CaseIterable {
        case pcm16
        case alaw
        case mulaw

        /// The WAVE format tag (WAVE_FORMAT_PCM 1, WAVE_FORMAT_ALAW 6, WAVE_FORMAT_MULAW 7).
        public var formatTag: UInt16 {
            switch self {
            case .pcm16: 1
            case .alaw: 6
            case .mulaw: 7
            }
        }

        public var bytesPerSample: Int { self == .pcm16 ? 2 : 1 }
    }

    public var encoding: Encoding
    public var channels: Int
    public var sampleRate: Int

    public init(encoding: Encoding, channels: Int = 1, sampleRate: Int = 8000) {
        self.encoding = encoding
        self.channels = channels
        self.sampleRate = sampleRate
    }

    /// Bytes of one frame (one sample of every channel).
    public var blockAlign: Int { channels * encoding.bytesPerSample }

    /// Size of the header `header(dataBytes:)` writes: fixed, so a writer can rewrite it in place.
    public var headerSize: Int { encoding == .pcm16 ? 44 : 58 }

    /// The whole header for `dataBytes` of sample data. Companded formats carry the 18-byte
    /// `fmt ` chunk and the `fact` chunk (sample frames) that the WAVE spec asks of non-PCM data.
    public func header(dataBytes: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(headerSize)
        let padded = dataBytes + (dataBytes & 1)
        out.appendASCII("RIFF")
        out.appendLE(UInt32(clamping: headerSize - 8 + padded))
        out.appendASCII("WAVE")
        out.appendASCII("fmt ")
        out.appendLE(UInt32(encoding == .pcm16 ? 16 : 18))
        out.appendLE(encoding.formatTag)
        out.appendLE(UInt16(channels))
        out.appendLE(UInt32(sampleRate))
        out.appendLE(UInt32(sampleRate * blockAlign))
        out.appendLE(UInt16(blockAlign))
        out.appendLE(UInt16(encoding.bytesPerSample * 8))
        if encoding != .pcm16 {
            out.appendLE(UInt16(0))  // cbSize: no extension
            out.appendASCII("fact")
            out.appendLE(UInt32(4))
            out.appendLE(UInt32(clamping: dataBytes / max(blockAlign, 1)))
        }
        out.appendASCII("data")
        out.appendLE(UInt32(clamping: dataBytes))
        return out
    }

    /// Where the sample data of a parsed file lies.
    public struct Layout: Sendable, Equatable {
        public var format: WAVFormat
        public var dataOffset: Int
        /// Bytes of sample data as the header states them (may exceed the file for a truncated one).
        public var declaredDataBytes: Int
    }

    /// Reads a header from the start of a file. `bytes` must hold at least the chunks up to
    /// the start of `data` (the first 4 KiB of a file always do for files we write).
    public static func parse(_ bytes: some Collection<UInt8>) throws(TrunkError) -> Layout {
        let b = Array(bytes)
        guard b.count >= 12, b.ascii(0, 4) == "RIFF", b.ascii(8, 4) == "WAVE" else {
            throw TrunkError(.invalidArgument, "not a WAV file (no RIFF/WAVE header)")
        }
        var position = 12
        var format: WAVFormat?
        while position + 8 <= b.count {
            let id = b.ascii(position, 4)
            let size = Int(b.le32(position + 4))
            let body = position + 8
            if id == "fmt " {
                guard size >= 16, body + 16 <= b.count else { throw TrunkError(.invalidArgument, "WAV fmt chunk is truncated") }
                let tag = b.le16(body)
                let channels = Int(b.le16(body + 2))
                let rate = Int(b.le32(body + 4))
                let bits = Int(b.le16(body + 14))
                let encoding: Encoding
                switch (tag, bits) {
                case (1, 16): encoding = .pcm16
                case (6, 8): encoding = .alaw
                case (7, 8): encoding = .mulaw
                default:
                    throw TrunkError(.invalidArgument, "unsupported WAV encoding (format tag \(tag), \(bits) bits): expected 16-bit PCM, A-law or µ-law")
                }
                guard channels >= 1 && channels <= 8 else { throw TrunkError(.invalidArgument, "WAV file has \(channels) channels") }
                format = WAVFormat(encoding: encoding, channels: channels, sampleRate: rate)
            } else if id == "data" {
                guard let format else { throw TrunkError(.invalidArgument, "WAV data chunk comes before its fmt chunk") }
                return Layout(format: format, dataOffset: body, declaredDataBytes: size)
            }
            position = body + size + (size & 1)
        }
        throw TrunkError(.invalidArgument, "WAV file has no data chunk")
    }
}

extension [UInt8] {
    @inlinable mutating func appendASCII(_ text: StaticString) {
        text.withUTF8Buffer { append(contentsOf: $0) }
    }

    @inlinable mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    func ascii(_ at: Int, _ count: Int) -> String {
        guard at + count <= self.count else { return "" }
        return String(decoding: self[at..<at + count], as: UTF8.self)
    }

    func le16(_ at: Int) -> UInt16 { UInt16(self[at]) | UInt16(self[at + 1]) << 8 }

    func le32(_ at: Int) -> UInt32 {
        UInt32(self[at]) | UInt32(self[at + 1]) << 8 | UInt32(self[at + 2]) << 16 | UInt32(self[at + 3]) << 24
    }
}
