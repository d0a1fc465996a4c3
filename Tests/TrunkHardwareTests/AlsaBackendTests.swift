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
        let tap = try AlsaLineTap(pcm: pcm, settings: settings, sink: recordings)
        let deadline = Date().addingTimeInterval(6)
        while pcm.statistics.frames < input.count && Date() < deadline { try tap.poll(timeoutMs: 100) }

        let got = recordings.all
        #expect(got.count == 1)
        guard let recording = got.first else { return }
        // Opens within the attack time of the speech onset (sample 4000), minus the 100 ms pre-roll.
        #expect(abs(recording.startSample - (4000 - 800)) <= 400, "opened at \(recording.startSample)")
        // Closes 400 ms after the speech ends (sample 8800), within one detection window or two.
        let end = recording.startSample + recording.samples.count
        #expect(recording.endSample == end, "the close names the end of the audio sent")
        #expect(abs(end - (8800 + 3200)) <= 400, "closed at \(end)")
        #expect(recordings.misuse.isEmpty, "\(recordings.misuse)")
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

/// Collects what a line tap streams into whole recordings, and checks the order of the calls.
final class RecordingBox: LineTapRecordingSink, @unchecked Sendable {
    struct Recording {
        var startSample: Int
        var samples: [Int16]
        var endSample: Int?
    }

    private let lock = NSLock()
    private var recordings: [Recording] = []
    private var open = false
    private(set) var misuse: [String] = []

    func lineTapOpened(startSample: Int, heardThrough: Int) {
        if heardThrough < startSample { misuse.append("opened in the future") }
        lock.withLock {
            if open { misuse.append("opened twice") }
            open = true
            recordings.append(Recording(startSample: startSample, samples: []))
        }
    }

    func lineTapAudio(_ samples: UnsafeBufferPointer<Int16>) {
        lock.withLock {
            guard open else { misuse.append("audio outside a recording"); return }
            recordings[recordings.count - 1].samples += samples
        }
    }

    func lineTapClosed(endSample: Int) {
        lock.withLock {
            guard open else { misuse.append("closed while not open"); return }
            open = false
            recordings[recordings.count - 1].endSample = endSample
        }
    }

    var all: [Recording] { lock.withLock { recordings } }
}

@Suite("ALSA operator audio on a simulated line", .serialized)
struct AlsaOperatorAudioTests {
    @Test("a supervisor hears the line on the speaker and is heard on the line from the microphone")
    func listenAndSpeak() throws {
        let microphone = (0..<8000).map { Int16(truncatingIfNeeded: ($0 * 97) % 16000 - 8000) }
        let input = try AlsaBackendTests.writeInput(microphone)
        let speakerFile = NSTemporaryDirectory() + "trunkline-speaker-\(UUID().uuidString.prefix(8)).raw"
        let library = try AlsaBackendTests.plugin.get()
        let configuration = """
            pcm_type.trunkline_test_card { lib "\(library)" }
            pcm.mic { type trunkline_test_card infile "\(input)" }
            pcm.speaker { type trunkline_test_card outfile "\(speakerFile)" }
            """
        let simulator = try LineSimulator()
        let agentSide = try simulator.openChannel(Lab.bChannel(span: 2, timeslot: 3))
        let farEnd = try simulator.openChannel(Lab.bChannel(span: 1, timeslot: 3))
        try farEnd.setLinear(true)
        try farEnd.setBlockSize(8)
        try farEnd.setBufferPolicy(.immediate, buffers: 32)
        // The microphone arrives a 20 ms period at a time: keep 80 ms in hand before sending.
        try agentSide.setBufferPolicy(.halfFull, buffers: 8)
        let operatorAudio = try AlsaOperatorAudio(
            channel: agentSide,
            playback: AlsaPCM(device: "speaker", direction: .playback, configuration: configuration),
            capture: AlsaPCM(device: "mic", direction: .capture, configuration: configuration))

        // The far end talks: a ramp the speaker file must hold, after A-law on the E1.
        let talk = (0..<4000).map { Int16(truncatingIfNeeded: ($0 % 200) * 100 - 10000) }
        var pendingTalk = talk[...]
        var heardOnLine: [Int16] = []
        let deadline = Date().addingTimeInterval(4)
        // The line runs in real time, like the card: tick as many milliseconds as have passed.
        var lastTick = SimulatorClock.now()
        while Date() < deadline && (heardOnLine.count < 4000 || !pendingTalk.isEmpty) {
            if !pendingTalk.isEmpty {
                var bytes: [UInt8] = []
                for sample in pendingTalk.prefix(240) { bytes += [UInt8(truncatingIfNeeded: sample), UInt8(truncatingIfNeeded: sample >> 8)] }
                if case .transferred(let count) = farEnd.write(bytes) { pendingTalk = pendingTalk.dropFirst(count / 2) }
            }
            let now = SimulatorClock.now()
            let elapsed = Int((now - lastTick) / 1_000_000)
            lastTick += UInt64(elapsed) * 1_000_000
            simulator.tick(count: min(elapsed, 25))
            try operatorAudio.pump()
            _ = farEnd.drainEvents()
            while let bytes = farEnd.readBytes() {
                for index in stride(from: 0, to: bytes.count - 1, by: 2) {
                    heardOnLine.append(Int16(bitPattern: UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8))
                }
            }
            usleep(5_000)
        }
        for _ in 0..<20 {
            try operatorAudio.pump()
            usleep(20_000)
        }
        let companded = { (x: Int16) in G711.alawToLinear(G711.linearToAlaw(x)) }
        // The microphone reached the far end through the E1 (A-law), in order, after leading silence.
        let spoken = heardOnLine.drop { $0 == companded(0) }

        #expect(spoken.count >= 2000)
        #expect(Array(spoken.prefix(2000)) == microphone.prefix(2000).map(companded))
        // The far end's talk reached the speaker, in order.
        let speakerData = try Data(contentsOf: URL(fileURLWithPath: speakerFile))
        let played = stride(from: 0, to: speakerData.count - 1, by: 2).map { Int16(bitPattern: UInt16(speakerData[$0]) | UInt16(speakerData[$0 + 1]) << 8) }
        let audible = played.drop { $0 == companded(0) || $0 == 0 }
        #expect(audible.count >= 3000)
        let expected = talk.prefix(3000).map(companded)
        let mismatch = zip(audible.prefix(3000), expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(mismatch == nil, "speaker differs from the far end's talk at sample \(mismatch ?? -1)")
        #expect(operatorAudio.droppedToLine == 0)
    }
}
