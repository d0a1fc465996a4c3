import Foundation
import Testing
import TrunkCore
@testable import TrunkHardware

/// The ALSA backend through the real libasound, with a software sound card (a test-only ALSA
/// plugin built here from Tests/Fixtures/alsa_test_card.c) that keeps real time, so xruns
/// happen the way they do on a card. No sound card or kernel module is needed.
@Suite("ALSA backend through libasound", .serialized)
struct AlsaBackendTests {
    static let plugin: Result<String, Error> = Result {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/alsa_test_card.c").path
        let output = NSTemporaryDirectory() + "trunkline-alsa-test-card-\(getpid()).so"
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        cc.arguments = ["-shared", "-fPIC", "-DPIC", "-O2", "-o", output, source, "-lasound"]
        try cc.run()
        cc.waitUntilExit()
        guard cc.terminationStatus == 0 else { throw TrunkError(.internal, "cc could not build the test card plugin") }
        return output
    }

    /// ALSA configuration text: the test card type, a capture PCM reading `input`, a playback PCM.
    static func configuration(input: String) throws -> String {
        let library = try plugin.get()
        return """
            pcm_type.trunkline_test_card { lib "\(library)" }
            pcm.tap { type trunkline_test_card infile "\(input)" }
            pcm.speaker { type trunkline_test_card }
            """
    }

    static func writeInput(_ samples: [Int16]) throws -> String {
        let path = NSTemporaryDirectory() + "trunkline-alsa-input-\(UUID().uuidString.prefix(8)).raw"
        var bytes: [UInt8] = []
        for sample in samples { bytes += [UInt8(truncatingIfNeeded: sample), UInt8(truncatingIfNeeded: sample >> 8)] }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Speech-like: a 300 Hz carrier, amplitude-modulated at 4 Hz, at about `dBFS`.
    static func talk(samples: Int, dBFS: Double) -> [Int16] {
        let amplitude = 32768 * pow(10, dBFS / 20) * 1.6
        return (0..<samples).map { n in
            let t = Double(n) / 8000
            return Int16(amplitude * (0.6 + 0.4 * sin(2 * .pi * 4 * t)) * sin(2 * .pi * 300 * t))
        }
    }

    static func hiss(samples: Int, seed: UInt64) -> [Int16] {
        var state = seed
        return (0..<samples).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int16(Int(state >> 60) - 8) // about −70 dBFS
        }
    }

    @Test("captured audio from the input arrives as channel samples, unaltered")
    func capture() throws {
        let input = (0..<4000).map { Int16(truncatingIfNeeded: $0 &* 37 &- 20000) }
        let path = try Self.writeInput(input)
        let pcm = try AlsaPCM(device: "tap", direction: .capture, periodFrames: 160, configuration: Self.configuration(input: path))
        var received: [Int16] = []
        var buffer = [Int16](repeating: 0, count: 160)
        let deadline = Date().addingTimeInterval(5)
        while received.count < 3200 && Date() < deadline {
            _ = pcm.wait(timeoutMs: 100)
            let frames = try buffer.withUnsafeMutableBufferPointer { try pcm.read(into: $0) }
            received += buffer[0..<frames]
        }
        #expect(received.count >= 3200)
        #expect(Array(received.prefix(3200)) == Array(input.prefix(3200)))
        #expect(pcm.statistics.overruns == 0)
    }

    @Test("VOX opens a recording on speech and closes it after the hang time on silence")
    func voiceActivation() throws {
        let silence1 = Self.hiss(samples: 4000, seed: 1)
        let speech = Self.talk(samples: 4800, dBFS: -20)
        let silence2 = Self.hiss(samples: 8000, seed: 2)
        let input = silence1 + speech + silence2
        let path = try Self.writeInput(input)
        let pcm = try AlsaPCM(device: "tap", direction: .capture, periodFrames: 160, configuration: Self.configuration(input: path))
        var settings = VoxSettings()
        settings.hangMs = 400
        settings.preRollMs = 100
        let recordings = RecordingBox()
        let tap = try AlsaLineTap(pcm: pcm, settings: settings) { recordings.add($0) }
        let deadline = Date().addingTimeInterval(6)
        while pcm.statistics.frames < input.count && Date() < deadline { try tap.poll(timeoutMs: 100) }

        let got = recordings.all
        #expect(got.count == 1)
        guard let recording = got.first else { return }
        // Opens within the attack time of the speech onset (sample 4000), minus the 100 ms pre-roll.
        #expect(abs(recording.startSample - (4000 - 800)) <= 400, "opened at \(recording.startSample)")
        // Closes 400 ms after the speech ends (sample 8800), within one detection window or two.
        let end = recording.startSample + recording.samples.count
        #expect(abs(end - (8800 + 3200)) <= 400, "closed at \(end)")
        // What was recorded is exactly what the line carried.
        #expect(recording.samples == Array(input[recording.startSample..<end]))
        #expect(!tap.isRecording)
    }

    @Test("VOX ignores line noise and short clicks")
    func voxIgnoresNoise() {
        var gate = VoiceActivationGate(settings: VoxSettings())
        var signal = Self.hiss(samples: 16000, seed: 9)
        for n in 8000..<8040 { signal[n] = 20000 } // a 5 ms click
        let events = signal.withUnsafeBufferPointer { gate.process($0) }
        #expect(events.isEmpty)
    }

    @Test("a playback underrun is recovered and counted, and audio flows again")
    func playbackUnderrun() throws {
        let pcm = try AlsaPCM(device: "speaker", direction: .playback, periodFrames: 160, periods: 4,
                              configuration: Self.configuration(input: "/dev/null"))
        let period = [Int16](repeating: 1000, count: 160)
        var written = 0
        for _ in 0..<4 { written += try period.withUnsafeBufferPointer { try pcm.write($0) } }
        #expect(written == 640)
        // Stop feeding for longer than the 80 ms buffer: the card runs dry.
        usleep(250_000)
        let after = try period.withUnsafeBufferPointer { try pcm.write($0) }
        #expect(pcm.statistics.underruns == 1)
        #expect(after == 160)
    }

    @Test("a capture overrun is recovered and counted")
    func captureOverrun() throws {
        let path = try Self.writeInput(Self.hiss(samples: 16000, seed: 3))
        let pcm = try AlsaPCM(device: "tap", direction: .capture, periodFrames: 160, periods: 4, configuration: Self.configuration(input: path))
        var buffer = [Int16](repeating: 0, count: 160)
        _ = pcm.wait(timeoutMs: 100)
        _ = try buffer.withUnsafeMutableBufferPointer { try pcm.read(into: $0) }
        usleep(250_000)
        _ = try buffer.withUnsafeMutableBufferPointer { try pcm.read(into: $0) }
        #expect(pcm.statistics.overruns == 1)
        _ = pcm.wait(timeoutMs: 200)
        #expect(try buffer.withUnsafeMutableBufferPointer { try pcm.read(into: $0) } > 0)
    }

    @Test("a device that does not exist is named in the error")
    func missingDevice() throws {
        let configuration = try Self.configuration(input: "/dev/null")
        do {
            _ = try AlsaPCM(device: "nosuchcard", direction: .capture, configuration: configuration)
            Issue.record("opening an unknown PCM must fail")
        } catch {
            #expect(error.message.hasPrefix("ALSA capture device nosuchcard: "))
        }
    }
}

final class RecordingBox: @unchecked Sendable {
    private let lock = NSLock()
    private var recordings: [AlsaLineTap.Recording] = []
    func add(_ recording: AlsaLineTap.Recording) { lock.withLock { recordings.append(recording) } }
    var all: [AlsaLineTap.Recording] { lock.withLock { recordings } }
}
