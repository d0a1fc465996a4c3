#if canImport(Glibc)
import Glibc
#endif
import TrunkCore

/// A voice prompt decoded to 8 kHz 16-bit linear and held in memory, loaded off the loop
/// (file reading and decoding allocate). Immutable once loaded, so any number of channels
/// can play it at once through their own `PromptPlayer`s.
public final class Prompt: @unchecked Sendable {
    /// Where the prompt came from, for messages.
    public let name: String
    private let storage: UnsafeMutableBufferPointer<Int16>

    public var sampleCount: Int { storage.count }
    public var samples: UnsafeBufferPointer<Int16> { UnsafeBufferPointer(storage) }
    public var durationMilliseconds: Int { storage.count / 8 }

    /// From linear samples already at 8 kHz.
    public init(name: String, samples: [Int16]) {
        self.name = name
        storage = .allocate(capacity: samples.count)
        _ = storage.initialize(from: samples)
    }

    deinit { storage.deallocate() }

    /// Parses a WAV file's bytes: 8 kHz, 16-bit PCM, A-law or µ-law; channels beyond the first
    /// are averaged in (a stereo prompt plays as mono). A file cut short plays what it holds.
    public convenience init(name: String, wavBytes: [UInt8]) throws(TrunkError) {
        let layout: WAVFormat.Layout
        do {
            layout = try WAVFormat.parse(wavBytes)
        } catch {
            throw TrunkError(error.code, "\(name): \(error.message)")
        }
        let format = layout.format
        guard format.sampleRate == Tick.sampleRate else {
            throw TrunkError(.invalidArgument, "\(name): prompt is \(format.sampleRate) Hz; expected 8000 Hz (convert it with: sox IN -r 8000 -c 1 OUT.wav)")
        }
        let available = max(0, min(layout.declaredDataBytes, wavBytes.count - layout.dataOffset))
        let frames = available / format.blockAlign
        var samples = [Int16](repeating: 0, count: frames)
        let channels = format.channels
        for frame in 0..<frames {
            var sum: Int32 = 0
            for channel in 0..<channels {
                let at = layout.dataOffset + frame * format.blockAlign + channel * format.encoding.bytesPerSample
                switch format.encoding {
                case .pcm16: sum += Int32(Int16(bitPattern: UInt16(wavBytes[at]) | UInt16(wavBytes[at + 1]) << 8))
                case .alaw: sum += Int32(G711.alawToLinear(wavBytes[at]))
                case .mulaw: sum += Int32(G711.ulawToLinear(wavBytes[at]))
                }
            }
            samples[frame] = Int16(sum / Int32(channels))
        }
        self.init(name: name, samples: samples)
    }

    /// Reads and parses a WAV file.
    public convenience init(path: String) throws(TrunkError) {
        try self.init(name: path, wavBytes: try Self.readFile(path))
    }

    static func readFile(_ path: String) throws(TrunkError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TrunkError(.notFound, "\(path): cannot open prompt (errno \(errno)); expected a readable WAV file") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw TrunkError(.deviceError, "\(path): read failed (errno \(errno))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }
}
