#if canImport(Glibc)
import Glibc
#endif
import Testing
import TrunkCore
import TrunkHardware
@testable import TrunkMedia

@Suite("Media loop playback")
struct PlaybackTests {
    /// A WAV file's bytes: `encoding`, mono, at `rate`.
    static func wav(_ samples: [Int16], encoding: WAVFormat.Encoding, rate: Int = 8000) -> [UInt8] {
        let format = WAVFormat(encoding: encoding, sampleRate: rate)
        var data: [UInt8] = []
        for sample in samples {
            switch encoding {
            case .pcm16: data += [UInt8(truncatingIfNeeded: sample), UInt8(truncatingIfNeeded: sample >> 8)]
            case .alaw: data.append(G711.linearToAlaw(sample))
            case .mulaw: data.append(G711.linearToUlaw(sample))
            }
        }
        return format.header(dataBytes: data.count) + data
    }

    static func sine(frequency: Double, amplitude: Double, count: Int) -> [Int16] {
        (0..<count).map { Int16((amplitude * sin(2 * Double.pi * frequency * Double($0) / 8000)).rounded()) }
    }

    /// Writes bytes to a fresh file under /tmp and returns its path.
    static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        var template = Array("/tmp/trunkline-prompt-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        try #require(fd >= 0)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        try #require(written == bytes.count)
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    @Test("two queued prompts from WAV files play without gaps or clicks at 1, 8 and 20 ms blocks",
          arguments: MediaBlockSize.allCases)
    func promptsPlaySeamlessly(blockSize: MediaBlockSize) throws {
        // Lengths that end mid-block at every block size, so the hand-over falls inside a block.
        let first = Self.sine(frequency: 440, amplitude: 9000, count: 8003)
        let second = Self.sine(frequency: 1020, amplitude: 6000, count: 4001)
        let firstPath = try Self.temporaryFile(Self.wav(first, encoding: .pcm16))
        let secondPath = try Self.temporaryFile(Self.wav(second, encoding: .alaw))
        defer { unlink(firstPath); unlink(secondPath) }
        let prompts = (try Prompt(path: firstPath), try Prompt(path: secondPath))
        #expect(prompts.0.sampleCount == 8003 && prompts.1.sampleCount == 4001)

        let lab = try MediaLoopLab(blockSize: blockSize, timeslots: [1])
        lab.run(ticks: 30)
        lab.loop.send(.play(channel: lab.near(1), source: PromptPlayer(prompts.0), id: 1, gain: .unity, mixWithSwitched: false))
        lab.loop.send(.play(channel: lab.near(1), source: PromptPlayer(prompts.1), id: 2, gain: .unity, mixWithSwitched: false))
        lab.run(ticks: 1700)

        // What the caller must hear: the first prompt, then the second from the very next sample.
        let expected = first.map(G711.linearToAlaw) + second.map(G711.linearToAlaw)
        let heard = lab.farEnd(1).received
        let start = try #require(offset(of: expected[...], in: heard, maximumDelay: 1200), "the prompts did not arrive intact and contiguous")
        #expect(heard[..<start].allSatisfy { $0 == G711.alawSilence }, "silence before the prompts")
        #expect(heard[(start + expected.count)...].allSatisfy { $0 == G711.alawSilence }, "silence after the prompts")
        // No click: no sample-to-sample step larger than the content's own steepest one
        // (the two sines, and the jump where the first ends and the second begins).
        func steepest(_ codes: ArraySlice<UInt8>) -> Int {
            let linear = codes.map { Int(G711.alawToLinear($0)) }
            return zip(linear, linear.dropFirst()).map { abs($1 - $0) }.max() ?? 0
        }
        #expect(steepest(heard[start..<(start + expected.count)]) <= steepest(expected[...]))
        // …and none where the prompts start and end against the silence around them.
        #expect(abs(Int(G711.alawToLinear(heard[start])) - Int(G711.alawToLinear(heard[start - 1]))) <= steepest(expected[...]))

        let finished = lab.events.compactMap { event -> UInt32? in
            if case .playbackFinished(let id, false) = event.kind { return id } else { return nil }
        }
        #expect(finished == [1, 2])
    }

    @Test("a playback's gain scales it, and mixing keeps the bridged audio under it")
    func gainAndMix() throws {
        let lab = try MediaLoopLab(blockSize: .ms8, timeslots: [1, 2])
        lab.loop.send(.connect(lab.near(1), lab.near(2)))
        // A cosine: its first sample already changes what the far end hears.
        let tone = Prompt(name: "tone", samples: (0..<1600).map { Int16((8000 * cos(2 * Double.pi * 500 * Double($0) / 8000)).rounded()) })
        var random = SignalRandom(state: 3)
        let talk = random.alawNoise(count: 4000, amplitude: 3000)
        lab.farEnd(2).stream = talk
        lab.run(ticks: 20)
        lab.loop.send(.play(channel: lab.near(1), source: PromptPlayer(tone), id: 9, gain: MediaGain(decibels: -6.0206), mixWithSwitched: true))
        lab.run(ticks: 600)
        let halfGain = MediaGain(decibels: -6.0206)
        #expect(halfGain.q12 == 2048)
        // Far end 1 hears far end 2's speech plus the tone at half amplitude, sample by sample.
        let heard = lab.farEnd(1).received
        let talkStart = try #require(offset(of: talk[0..<64], in: heard, maximumDelay: 800))
        let toneStart = try #require((talkStart..<heard.count).first { index in
            index - talkStart < talk.count && heard[index] != talk[index - talkStart]
        })
        for index in 0..<1600 {
            let mixed = Int32(G711.alawToLinear(talk[toneStart - talkStart + index])) + halfGain.apply(Int32(tone.samples[index]))
            #expect(heard[toneStart + index] == G711.linearToAlaw(Int16(mixed)), "sample \(index)")
            if heard[toneStart + index] != G711.linearToAlaw(Int16(mixed)) { break }
        }
    }

    @Test("a prompt that is not 8 kHz is refused with its file named and what is expected")
    func wrongRate() throws {
        let bytes = Self.wav(Self.sine(frequency: 440, amplitude: 1000, count: 100), encoding: .pcm16, rate: 16000)
        #expect(throws: TrunkError.self) { try Prompt(name: "welcome.wav", wavBytes: bytes) }
        do {
            _ = try Prompt(name: "welcome.wav", wavBytes: bytes)
        } catch {
            #expect(error.message.contains("welcome.wav") && error.message.contains("expected 8000 Hz"))
        }
    }
}
