import Foundation
import TrunkCore

/// The WAV file `chan monitor` writes: A-law at 8 kHz, mono or stereo, exactly as the line
/// carries it. The header is rewritten once a second and at the end, so the file is valid
/// whenever it is read (even after a kill -9, up to the last second).
final class MonitorWAVFile {
    let path: String
    let format: WAVFormat
    private let handle: FileHandle
    private(set) var dataBytes = 0
    private var headerWrittenAt = Date()

    init(path: String, channels: Int) throws {
        self.path = path
        format = WAVFormat(encoding: .alaw, channels: channels)
        guard FileManager.default.createFile(atPath: path, contents: Data(format.header(dataBytes: 0))) else {
            throw TrunkError(.permissionDenied, "\(path): cannot create the file (\(String(cString: strerror(errno))))")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw TrunkError(.permissionDenied, "\(path): cannot open the file for writing")
        }
        self.handle = handle
        handle.seekToEndOfFile()
    }

    var frames: Int { dataBytes / format.blockAlign }

    func append(_ bytes: Data) throws {
        try handle.write(contentsOf: bytes)
        dataBytes += bytes.count
        if Date().timeIntervalSince(headerWrittenAt) >= 1 { try writeHeader() }
    }

    /// `frames` frames of A-law silence (audio the stream lost).
    func appendSilence(frames: Int) throws {
        guard frames > 0 else { return }
        try append(Data(repeating: G711.alawSilence, count: frames * format.blockAlign))
    }

    private func writeHeader() throws {
        let end = handle.offsetInFile
        handle.seek(toFileOffset: 0)
        try handle.write(contentsOf: Data(format.header(dataBytes: dataBytes)))
        handle.seek(toFileOffset: end)
        headerWrittenAt = Date()
    }

    /// Final header (and the pad byte RIFF wants after odd-sized data), then close.
    func finish() throws {
        if dataBytes & 1 == 1 { try handle.write(contentsOf: Data([0])) }
        try writeHeader()
        try handle.close()
    }
}
