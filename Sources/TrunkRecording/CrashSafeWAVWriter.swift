#if canImport(Glibc)
import Glibc
#endif
import TrunkCore

/// Writes one recording so that a crash at any moment leaves a file that repairs to valid
/// audio: the data goes to `<id>.wav.part` behind a header written first, the header's sizes
/// are rewritten and the file fsync'd at every checkpoint (the recorder asks at least every
/// 5 s), and only a finished file is renamed to `<id>.wav` (then the folder is synced, so the
/// rename itself survives a power cut). Owned by one writer thread; not thread safe.
public final class CrashSafeWAVWriter {
    public let partPath: String
    public let finalPath: String
    public let directory: String
    public let format: RecordingFormat
    private let io: FileIO
    private let wav: WAVFormat
    private var fd: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0
    /// Sample bytes that have reached the file (beyond the header).
    public private(set) var dataBytes = 0
    /// Sample bytes stated in the header on disk at the last checkpoint.
    public private(set) var checkpointedBytes = 0
    public private(set) var isClosed = false

    /// Creates the `.part` file with an empty header and makes its directory entry durable.
    public init(directory: String, id: String, format: RecordingFormat, io: FileIO, bufferBytes: Int = 16 * 1024) throws(RecordingIOError) {
        self.directory = directory
        self.partPath = directory + "/" + id + ".wav.part"
        self.finalPath = directory + "/" + id + ".wav"
        self.format = format
        self.io = io
        self.wav = format.wav
        try io.makeDirectories(directory)
        fd = try io.open(partPath, O_WRONLY | O_CREAT | O_EXCL, mode: 0o640)
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bufferBytes, 4096), alignment: 16)
        do {
            try io.pwriteAll(fd, wav.header(dataBytes: 0), at: 0, path: partPath)
            try io.fsync(fd, path: partPath)
            try io.syncDirectory(directory)
        } catch {
            io.close(fd)
            _ = io.calls.unlink(partPath)
            buffer.deallocate()
            throw error
        }
    }

    deinit {
        if !isClosed { io.close(fd) }
        buffer.deallocate()
    }

    /// Encodes interleaved stereo frames (left = trunk, right = agent) into the buffer,
    /// writing to the file whenever the buffer fills.
    public func append(stereo samples: UnsafeBufferPointer<Int16>) throws(RecordingIOError) {
        let frames = samples.count / 2
        var frame = 0
        while frame < frames {
            let room = (buffer.count - buffered) / wav.blockAlign
            if room == 0 {
                try flush()
                continue
            }
            let take = min(room, frames - frame)
            encode(samples, from: frame, count: take)
            frame += take
        }
    }

    private func encode(_ samples: UnsafeBufferPointer<Int16>, from first: Int, count: Int) {
        let out = buffer.baseAddress!.advanced(by: buffered).assumingMemoryBound(to: UInt8.self)
        var o = 0
        switch (format.encoding, format.layout) {
        case (.alaw, .stereo):
            for i in first..<(first + count) {
                out[o] = G711.linearToAlaw(samples[2 * i])
                out[o + 1] = G711.linearToAlaw(samples[2 * i + 1])
                o += 2
            }
        case (.mulaw, .stereo):
            for i in first..<(first + count) {
                out[o] = G711.linearToUlaw(samples[2 * i])
                out[o + 1] = G711.linearToUlaw(samples[2 * i + 1])
                o += 2
            }
        case (.pcm16, .stereo):
            for i in first..<(first + count) {
                let l = UInt16(bitPattern: samples[2 * i]), r = UInt16(bitPattern: samples[2 * i + 1])
                out[o] = UInt8(truncatingIfNeeded: l)
                out[o + 1] = UInt8(truncatingIfNeeded: l >> 8)
                out[o + 2] = UInt8(truncatingIfNeeded: r)
                out[o + 3] = UInt8(truncatingIfNeeded: r >> 8)
                o += 4
            }
        case (_, .mono):
            for i in first..<(first + count) {
                let mixed = Int16(clamping: Int32(samples[2 * i]) + Int32(samples[2 * i + 1]))
                switch format.encoding {
                case .alaw: out[o] = G711.linearToAlaw(mixed); o += 1
                case .mulaw: out[o] = G711.linearToUlaw(mixed); o += 1
                case .pcm16:
                    let m = UInt16(bitPattern: mixed)
                    out[o] = UInt8(truncatingIfNeeded: m)
                    out[o + 1] = UInt8(truncatingIfNeeded: m >> 8)
                    o += 2
                }
            }
        }
        buffered += o
    }

    /// Moves buffered samples to the file. After an error `dataBytes` says what did get there.
    public func flush() throws(RecordingIOError) {
        guard buffered > 0 else { return }
        let pending = buffered
        buffered = 0
        // Samples go at explicit offsets after the header: the header is (re)written with pwrite.
        var offset = 0
        while offset < pending {
            let n = io.calls.pwrite(fd, UnsafeRawBufferPointer(rebasing: buffer[offset..<pending]), Int64(wav.headerSize + dataBytes))
            if n == -Int(EINTR) { continue }
            if n <= 0 { throw RecordingIOError(operation: "write", path: partPath, errno: n == 0 ? ENOSPC : Int32(-n)) }
            offset += n
            dataBytes += n
        }
    }

    /// Flushes, states the current size in the header and syncs: after this, a crash loses nothing
    /// written so far.
    public func checkpoint() throws(RecordingIOError) {
        try flush()
        try io.pwriteAll(fd, wav.header(dataBytes: dataBytes), at: 0, path: partPath)
        try io.fsync(fd, path: partPath)
        checkpointedBytes = dataBytes
    }

    /// Final header, fsync, rename to `.wav`, fsync of the folder. Returns the file's size.
    @discardableResult
    public func finish() throws(RecordingIOError) -> Int64 {
        try checkpoint()
        return try seal()
    }

    /// After a write error (typically ENOSPC): keeps what reached the disk, cut to whole frames,
    /// and finalizes that, so the recording is short but valid rather than corrupt.
    @discardableResult
    public func finishAfterError() throws(RecordingIOError) -> Int64 {
        buffered = 0
        let whole = dataBytes - dataBytes % wav.blockAlign
        try io.truncate(fd, to: Int64(wav.headerSize + whole), path: partPath)
        dataBytes = whole
        try io.pwriteAll(fd, wav.header(dataBytes: whole), at: 0, path: partPath)
        try io.fsync(fd, path: partPath)
        checkpointedBytes = whole
        return try seal()
    }

    private func seal() throws(RecordingIOError) -> Int64 {
        io.close(fd)
        isClosed = true
        try io.rename(partPath, finalPath)
        try io.syncDirectory(directory)
        return Int64(wav.headerSize + dataBytes + (dataBytes & 1))
    }

    /// Closes without finalizing (the `.part` stays for repair), as a crash would.
    public func abandon() {
        guard !isClosed else { return }
        io.close(fd)
        isClosed = true
    }

    /// Frames (per channel) on disk.
    public var frames: Int { dataBytes / wav.blockAlign }
}

/// Turns a `.part` left by a crash into a finished recording: the header is rebuilt from the
/// file's real length (cut to whole frames), synced, and the file renamed to `.wav`.
public enum PartRepair {
    public struct Outcome: Sendable, Equatable {
        public var finalPath: String
        public var dataBytes: Int
        public var headerClaimedBytes: Int
        public var format: WAVFormat
        public var size: Int64
    }

    /// `fallback` is used when even the header did not reach the disk (the file is shorter than it).
    public static func repair(partPath: String, fallback: RecordingFormat, io: FileIO) throws -> Outcome {
        precondition(partPath.hasSuffix(".part"))
        let finalPath = String(partPath.dropLast(5))
        let directory = partPath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let fd = try io.open(partPath, O_RDWR)
        var closed = false
        defer { if !closed { io.close(fd) } }
        let size = Int(try io.size(fd, path: partPath))
        var head = [UInt8](repeating: 0, count: 4096)
        let got = try head.withUnsafeMutableBytes { raw in try io.pread(fd, raw, at: 0, path: partPath) }
        var format = fallback.wav
        var claimed = 0
        if let layout = try? WAVFormat.parse(head[0..<got]), layout.dataOffset == layout.format.headerSize {
            format = layout.format
            claimed = layout.declaredDataBytes
        }
        let available = max(0, size - format.headerSize)
        let whole = available - available % format.blockAlign
        try io.truncate(fd, to: Int64(format.headerSize + whole), path: partPath)
        try io.pwriteAll(fd, format.header(dataBytes: whole), at: 0, path: partPath)
        try io.fsync(fd, path: partPath)
        io.close(fd)
        closed = true
        try io.rename(partPath, finalPath)
        try io.syncDirectory(directory.isEmpty ? "." : directory)
        return Outcome(finalPath: finalPath, dataBytes: whole, headerClaimedBytes: claimed, format: format,
                       size: Int64(format.headerSize + whole))
    }
}
