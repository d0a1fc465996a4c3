#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import TrunkCore

/// 8 kHz telephony audio read from or written to a file, for the offline tools and tests:
/// headerless signed 16-bit little-endian ("raw", s16le), or WAV (16-bit PCM, A-law, µ-law;
/// mono, or one channel of a stereo file). Whole files in memory: recordings are minutes long.
public struct AudioFile: Sendable {
    public enum Container: Sendable, Equatable {
        case raw
        case wav(WAVFormat)
    }

    /// Which channel of a stereo file (left = trunk/far end in Trunkline recordings).
    public enum Channel: String, Sendable, CaseIterable {
        case left
        case right
    }

    public var samples: [Int16]
    public var container: Container
    public static let sampleRate = 8000

    public init(samples: [Int16], container: Container = .raw) {
        self.samples = samples
        self.container = container
    }

    public var durationSeconds: Double { Double(samples.count) / Double(Self.sampleRate) }

    /// Reads `path`: WAV when it starts with a RIFF/WAVE header, else raw s16le. A stereo WAV
    /// needs `channel`; a raw or mono file refuses one other than nil/left.
    public static func read(path: String, channel: Channel? = nil) throws(TrunkError) -> AudioFile {
        let bytes = try readBytes(path)
        guard bytes.count >= 12, bytes[0] == 0x52, bytes[1] == 0x49, bytes[2] == 0x46, bytes[3] == 0x46 else {
            guard channel == nil || channel == .left else {
                throw TrunkError(.invalidArgument, "\(path): raw s16le audio has one channel; --channel \(channel!.rawValue) needs a stereo WAV file")
            }
            guard bytes.count % 2 == 0 else {
                throw TrunkError(.invalidArgument, "\(path): \(bytes.count) bytes is not a whole number of 16-bit samples (expected raw s16le 8 kHz or WAV)")
            }
            var samples = [Int16](repeating: 0, count: bytes.count / 2)
            for i in 0..<samples.count {
                samples[i] = Int16(bitPattern: UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8)
            }
            return AudioFile(samples: samples, container: .raw)
        }
        let layout: WAVFormat.Layout
        do {
            layout = try WAVFormat.parse(bytes.prefix(65536))
        } catch {
            throw TrunkError(error.code, "\(path): \(error.message)")
        }
        let format = layout.format
        guard format.sampleRate == sampleRate else {
            throw TrunkError(.invalidArgument, "\(path): sample rate \(format.sampleRate) Hz; expected 8000 Hz")
        }
        let index: Int
        switch (format.channels, channel) {
        case (1, nil), (1, .left?): index = 0
        case (2, .left?): index = 0
        case (2, .right?): index = 1
        case (2, nil):
            throw TrunkError(.invalidArgument, "\(path): stereo WAV; choose a channel with --channel left|right")
        default:
            throw TrunkError(.invalidArgument, "\(path): \(format.channels) channels; expected mono, or stereo with --channel left|right")
        }
        let available = max(0, min(layout.declaredDataBytes, bytes.count - layout.dataOffset))
        let frames = available / format.blockAlign
        var samples = [Int16](repeating: 0, count: frames)
        for frame in 0..<frames {
            let at = layout.dataOffset + frame * format.blockAlign + index * format.encoding.bytesPerSample
            switch format.encoding {
            case .pcm16: samples[frame] = Int16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8)
            case .alaw: samples[frame] = G711.alawToLinear(bytes[at])
            case .mulaw: samples[frame] = G711.ulawToLinear(bytes[at])
            }
        }
        return AudioFile(samples: samples, container: .wav(format))
    }

    /// Writes mono `samples` to `path`: a WAV file in `encoding`, or raw s16le when nil.
    public static func write(_ samples: [Int16], to path: String, encoding: WAVFormat.Encoding?) throws(TrunkError) {
        var bytes: [UInt8] = []
        if let encoding {
            let format = WAVFormat(encoding: encoding)
            bytes = format.header(dataBytes: samples.count * encoding.bytesPerSample)
        }
        bytes.reserveCapacity(bytes.count + samples.count * 2 + 1)
        for sample in samples {
            switch encoding {
            case .alaw?: bytes.append(G711.linearToAlaw(sample))
            case .mulaw?: bytes.append(G711.linearToUlaw(sample))
            case .pcm16?, nil:
                let u = UInt16(bitPattern: sample)
                bytes.append(UInt8(u & 0xFF))
                bytes.append(UInt8(u >> 8))
            }
        }
        if encoding != nil && bytes.count % 2 == 1 { bytes.append(0) }  // RIFF chunks are word-aligned
        try writeBytes(bytes, to: path)
    }

    /// Writes with the container chosen by the file name: `.wav` → 16-bit PCM WAV, else raw.
    public static func write(_ samples: [Int16], to path: String) throws(TrunkError) {
        try write(samples, to: path, encoding: path.lowercased().hasSuffix(".wav") ? .pcm16 : nil)
    }

    static func readBytes(_ path: String) throws(TrunkError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw TrunkError(errno == ENOENT ? .notFound : .invalidArgument, "\(path): cannot open (\(reason))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TrunkError(.invalidArgument, "\(path): read failed (\(String(cString: strerror(errno))))")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        guard !bytes.isEmpty else { throw TrunkError(.invalidArgument, "\(path): file is empty; expected raw s16le 8 kHz or WAV audio") }
        return bytes
    }

    static func writeBytes(_ bytes: [UInt8], to path: String) throws(TrunkError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw TrunkError(.invalidArgument, "\(path): cannot create (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TrunkError(.invalidArgument, "\(path): write failed (\(String(cString: strerror(errno))))")
            }
            written += n
        }
    }
}

// AudioFile's own read/write shadow the C functions inside the type.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
