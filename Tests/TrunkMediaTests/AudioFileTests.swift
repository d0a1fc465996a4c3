import Foundation
import G168Harness
import Testing
import TrunkCore
import TrunkMedia

@Suite struct AudioFileTests {
    static func temporary(_ name: String) -> String {
        NSTemporaryDirectory() + "trunkline-audio-\(UUID().uuidString.prefix(8))-\(name)"
    }

    static let speech: [Int16] = DSPTestSignals.aLaw(SpeechLikeSignal.compositeSource(seconds: 1, activeLevel: -15, voiced: .tableC1, seed: 5))

    static func runSox(_ arguments: [String]) throws -> (status: Int32, output: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sox")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }

    @Test(arguments: [WAVFormat.Encoding.pcm16, .alaw, .mulaw])
    func wavRoundTrip(encoding: WAVFormat.Encoding) throws {
        let path = Self.temporary("x.wav")
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Samples already on the A-law grid survive A-law exactly; µ-law is compared after its own round trip.
        let samples = encoding == .mulaw ? Self.speech.map { G711.ulawToLinear(G711.linearToUlaw($0)) } : Self.speech
        try AudioFile.write(samples, to: path, encoding: encoding)
        let file = try AudioFile.read(path: path)
        #expect(file.samples == samples)
        #expect(file.container == .wav(WAVFormat(encoding: encoding)))
    }

    @Test func rawRoundTrip() throws {
        let path = Self.temporary("x.raw")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try AudioFile.write(Self.speech, to: path)
        let file = try AudioFile.read(path: path)
        #expect(file.samples == Self.speech)
        #expect(file.container == .raw)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == Self.speech.count * 2)
    }

    @Test func stereoChannelsAreSelected() throws {
        let path = Self.temporary("stereo.wav")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let format = WAVFormat(encoding: .alaw, channels: 2)
        var bytes = format.header(dataBytes: 2 * 100)
        for i in 0..<100 {
            bytes.append(G711.linearToAlaw(Int16(i * 100)))
            bytes.append(G711.linearToAlaw(Int16(-i * 100)))
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let left = try AudioFile.read(path: path, channel: .left)
        let right = try AudioFile.read(path: path, channel: .right)
        #expect(left.samples == (0..<100).map { G711.alawToLinear(G711.linearToAlaw(Int16($0 * 100))) })
        #expect(right.samples == (0..<100).map { G711.alawToLinear(G711.linearToAlaw(Int16(-$0 * 100))) })
        #expect(throws: TrunkError.self) { try AudioFile.read(path: path) }
    }

    @Test func errorsNameTheFileAndWhatIsExpected() throws {
        do {
            _ = try AudioFile.read(path: "/nonexistent/a.wav")
            Issue.record("read a missing file")
        } catch {
            #expect(error.message.hasPrefix("/nonexistent/a.wav: cannot open"))
            #expect(error.code == .notFound)
        }
        let path = Self.temporary("bad.wav")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var header = WAVFormat(encoding: .pcm16).header(dataBytes: 4)
        header[24] = 0x80; header[25] = 0x3E   // 16000 Hz
        try Data(header + [0, 0, 0, 0]).write(to: URL(fileURLWithPath: path))
        do {
            _ = try AudioFile.read(path: path)
            Issue.record("read a 16 kHz file")
        } catch {
            #expect(error.message == "\(path): sample rate 16000 Hz; expected 8000 Hz")
        }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        #expect(throws: TrunkError.self) { try AudioFile.read(path: path) }
    }

    /// sox, an independent reader, takes our WAV files and finds the same samples in them.
    @Test(arguments: [WAVFormat.Encoding.pcm16, .alaw])
    func soxReadsWhatWeWrite(encoding: WAVFormat.Encoding) throws {
        let path = Self.temporary("sox.wav")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try AudioFile.write(Self.speech, to: path, encoding: encoding)
        let result = try Self.runSox([path, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-"])
        #expect(result.status == 0)
        let decoded = stride(from: 0, to: result.output.count - 1, by: 2).map { Int16(bitPattern: UInt16(result.output[$0]) | UInt16(result.output[$0 + 1]) << 8) }
        #expect(decoded == Self.speech)
    }

    /// And we read what sox writes (an A-law WAV with its own header layout; -D: no dither).
    @Test func weReadWhatSoxWrites() throws {
        let raw = Self.temporary("in.raw"), wav = Self.temporary("sox-alaw.wav")
        defer { try? FileManager.default.removeItem(atPath: raw); try? FileManager.default.removeItem(atPath: wav) }
        try AudioFile.write(Self.speech, to: raw)
        let result = try Self.runSox(["-D", "-t", "raw", "-r", "8000", "-e", "signed-integer", "-b", "16", "-L", "-c", "1", raw, "-e", "a-law", wav])
        #expect(result.status == 0)
        #expect(try AudioFile.read(path: wav).samples == Self.speech)
    }
}
