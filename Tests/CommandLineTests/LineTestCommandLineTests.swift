import Foundation
import Testing
import TrunkCore
import TrunkMedia

/// `trunkctl chan tone | level | monitor` against the built trunkd's embedded default: span 1
/// (the carrier) cabled to span 2 timeslot for timeslot, FXS 3/n wired to FXO 4/n. Idle
/// channels carry audio there (the B-channel's timeslot, the analog pair's wire), so a tone
/// sent at one end is measured at the other.
@Suite("Line tests from the command line", .serialized)
struct LineTestCommandLineTests {
    final class Lab {
        let data = temporaryDataFolder()
        let trunkd: Daemon

        init() throws {
            trunkd = try Daemon("trunkd", ["--data", data])
            try waitUntilAnswering(["--data", data])
        }

        deinit { trunkd.stop() }

        func ctl(_ arguments: [String], timeout: TimeInterval = 60) throws -> RunResult {
            try run("trunkctl", ["--data", data] + arguments, timeout: timeout)
        }

        /// Open channels per span, from `status --json`.
        func openChannels() throws -> [Int] {
            let status = try JSONSerialization.jsonObject(with: Data(try ctl(["status", "--json"]).stdout.utf8)) as? [String: Any]
            return (status?["spans"] as? [[String: Any]] ?? []).map { $0["channelsOpen"] as? Int ?? -1 }
        }

        /// `chan level … --json` as a dictionary.
        func level(_ channel: String, seconds: Double = 1) throws -> [String: Any] {
            let result = try ctl(["chan", "level", channel, "--seconds", String(seconds), "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
        }
    }

    @Test("a 1004 Hz tone at -10 then -20 dBm0 from the far end reads about that level and frequency; off, it goes",
          arguments: [("1/1", "2/1"), ("1/17", "2/17"), ("3/1", "4/1"), ("4/2", "3/2")])
    func toneAndLevel(from: String, to: String) throws {
        let lab = try Lab()
        let openBefore = try lab.openChannels()
        let quiet = try lab.level(to)
        #expect((quiet["levelDBm0"] as? Double ?? 0) < -60, "an idle line before the tone: \(quiet)")
        #expect(quiet["frequencyHz"] == nil, "no frequency on an idle line")

        let on = try lab.ctl(["chan", "tone", from, "1004Hz", "-10dBm0"])
        #expect(on.status == 0 && on.stdout == "\(from): sending 1004 Hz at -10 dBm0 until `trunkctl chan tone \(from) off`\n", "\(on.stderr)")
        let ten = try lab.level(to)
        #expect(abs((ten["levelDBm0"] as? Double ?? 0) + 10) < 0.5, "\(ten)")
        #expect(abs((ten["frequencyHz"] as? Double ?? 0) - 1004) < 2, "\(ten)")
        #expect(ten["samples"] as? Int == 8000 && ten["droppedBlocks"] as? Int == 0)

        #expect(try lab.ctl(["chan", "tone", from, "1004Hz", "-20dBm0"]).status == 0)
        let twenty = try lab.level(to)
        #expect(abs((twenty["levelDBm0"] as? Double ?? 0) + 20) < 0.5, "the level follows the tone: \(twenty)")
        #expect(abs((twenty["frequencyHz"] as? Double ?? 0) - 1004) < 2)

        let off = try lab.ctl(["chan", "tone", from, "off"])
        #expect(off.status == 0 && off.stdout == "\(from): test tone off\n")
        let after = try lab.level(to)
        #expect((after["levelDBm0"] as? Double ?? 0) < -60 && after["frequencyHz"] == nil, "the tone is gone: \(after)")
        #expect(try lab.ctl(["chan", "tone", from, "off"]).stderr.contains("sends no test tone"))
        // The tests let go of both channels: what is open is what was open before.
        #expect(try lab.openChannels() == openBefore)
    }

    @Test("chan level's text names the level, peak and frequency")
    func levelText() throws {
        let lab = try Lab()
        #expect(try lab.ctl(["chan", "tone", "1/5", "2100Hz", "-15dBm0", "--seconds", "20"]).stdout
                == "1/5: sending 2100 Hz at -15 dBm0 for 20 s\n")
        let text = try lab.ctl(["chan", "level", "2/5"])
        #expect(text.status == 0)
        #expect(text.stdout.range(of: #"^2/5: -1[45]\.\d dBm0 RMS \(peak -1[45]\.\d dBm0\), 210[01] Hz over 1\.00 s\n$"#,
                                  options: .regularExpression) != nil, "\(text.stdout)")
        #expect(GoldenOutputTests.shape(try lab.ctl(["chan", "level", "2/5", "--json"]).stdout) == [
            "address: string", "droppedBlocks: number", "frequencyHz: number", "levelDBm0: number", "peakDBm0: number",
            "samples: number", "seconds: number",
        ])
        let show = try lab.ctl(["chan", "show", "1/5"])
        #expect(show.stdout.hasSuffix("  test tone: 2100 Hz at -15 dBm0\n"), "\(show.stdout)")
    }

    @Test("bad tones are refused with what the generator can do; the D-channel and missing channels too")
    func refusals() throws {
        let lab = try Lab()
        let cases: [([String], String)] = [
            (["1/1", "5000Hz", "-10dBm0"], "5000 Hz is outside what the tone generator sends at 8 kHz: 50-3950 Hz"),
            (["1/1", "1004", "-10dBm0"], "a test tone's frequency is whole hertz with an Hz suffix, e.g. 1004Hz, not '1004'"),
            (["1/1", "1004Hz", "-10"], "a test tone's level is dBm0 with a dBm0 suffix, e.g. -10dBm0, not '-10'"),
            (["1/1", "1004Hz", "+6dBm0"], "+6 dBm0 is outside what the tone generator sends: -60 to +3 dBm0 (an A-law sine clips above +3.14 dBm0)"),
            (["1/1", "1004Hz"], "give FREQUENCY LEVEL (e.g. 1004Hz -10dBm0) or off, not '1004Hz'"),
            (["2/16", "1004Hz", "-10dBm0"], "2/16 is the D-channel: it carries signalling (HDLC), not audio; test a B-channel (1-15, 17-31)"),
            (["9/1", "1004Hz", "-10dBm0"], "channel 9/1 does not exist on this node"),
        ]
        for (arguments, message) in cases {
            let result = try lab.ctl(["chan", "tone"] + arguments)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let short = try lab.ctl(["chan", "level", "2/1", "--seconds", "0.1"])
        #expect(short.status != 0 && short.stderr.contains("--seconds must be 0.3-60"))
    }

    /// Reads a mono or stereo A-law WAV as linear samples per channel (through sox, which must accept it).
    static func samples(of path: String, channels: Int) throws -> [[Int16]] {
        let raw = NSTemporaryDirectory() + "monitor-\(UUID().uuidString).raw"
        defer { try? FileManager.default.removeItem(atPath: raw) }
        let converted = try run("/usr/bin/sox", [path, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", raw], absolute: true)
        #expect(converted.status == 0, "sox reads the file: \(converted.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: raw))
        let all = bytes.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        return (0..<channels).map { c in stride(from: c, to: all.count, by: channels).map { all[$0] } }
    }

    static func dBm0(_ samples: [Int16]) -> Double {
        var meter = LevelMeter()
        meter.add(samples)
        return Double(meter.rmsDBm0)
    }

    /// Level at `frequency` by a Goertzel filter over the whole stretch, dBm0.
    static func dBm0(_ samples: [Int16], at frequency: Double) -> Double {
        let coefficient = 2 * cos(2 * .pi * frequency / 8000)
        var (s1, s2) = (0.0, 0.0)
        for x in samples {
            let s = Double(x) + coefficient * s1 - s2
            (s2, s1) = (s1, s)
        }
        let power = (s1 * s1 + s2 * s2 - coefficient * s1 * s2) * 2 / Double(samples.count * samples.count)
        return Double(SignalLevel.dBm0(power: Float(power)))
    }

    @Test("chan monitor writes a WAV sox accepts whose samples hold the far end's tone; --stereo puts what we send on the right")
    func monitorWritesTheTone() throws {
        let lab = try Lab()
        #expect(try lab.ctl(["chan", "tone", "1/3", "1004Hz", "-10dBm0"]).status == 0)
        // What 2/3 sends goes to 1/3's receive side: a second tone on 2/3 is what the right channel must hold.
        #expect(try lab.ctl(["chan", "tone", "2/3", "697Hz", "-20dBm0"]).status == 0)
        let mono = NSTemporaryDirectory() + "monitor-\(UUID().uuidString).wav"
        let stereo = NSTemporaryDirectory() + "monitor-\(UUID().uuidString).wav"
        defer {
            try? FileManager.default.removeItem(atPath: mono)
            try? FileManager.default.removeItem(atPath: stereo)
        }
        let result = try lab.ctl(["chan", "monitor", "1/3", "-o", mono, "--seconds", "2"])
        #expect(result.status == 0 && result.stdout == "1/3: 16000 frames (2.00 s) mono A-law to \(mono)\n", "\(result.stderr)")
        let info = try run("/usr/bin/sox", ["--i", mono], absolute: true)
        #expect(info.status == 0 && info.stdout.contains("Channels       : 1") && info.stdout.contains("Sample Rate    : 8000")
                && info.stdout.contains("= 16000 samples") && info.stdout.contains("A-law"), "\(info.stdout)")
        let left = try Self.samples(of: mono, channels: 1)[0]
        #expect(abs(Self.dBm0(left) + 20) < 0.5, "mono is what 1/3 receives: 2/3's -20 dBm0 697 Hz")
        #expect(abs(Self.dBm0(left, at: 697) + 20) < 0.7 && Self.dBm0(left, at: 1004) < -50)

        let both = try lab.ctl(["chan", "monitor", "1/3", "--stereo", "--pre-ec", "-o", stereo, "--seconds", "1", "--json"])
        #expect(both.status == 0)
        #expect(GoldenOutputTests.shape(both.stdout) == ["address: string", "channels: number", "droppedBlocks: number", "ended: string", "frames: number"])
        let channels = try Self.samples(of: stereo, channels: 2)
        #expect(channels[0].count == 8000 && channels[1].count == 8000)
        #expect(abs(Self.dBm0(channels[0], at: 697) + 20) < 0.7, "left: what 1/3 receives")
        #expect(abs(Self.dBm0(channels[1], at: 1004) + 10) < 0.7 && Self.dBm0(channels[1], at: 697) < -50, "right: what 1/3 sends")
    }

    @Test("Ctrl-C ends chan monitor with a valid file, and the channel is let go")
    func monitorInterrupted() throws {
        let lab = try Lab()
        let path = NSTemporaryDirectory() + "monitor-\(UUID().uuidString).wav"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.path("trunkctl"))
        process.arguments = ["--data", lab.data, "chan", "monitor", "4/4", "-o", path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = ReadAll(out.fileHandleForReading)
        usleep(1_500_000)
        kill(process.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            Issue.record("trunkctl chan monitor did not end within 10 s of SIGINT")
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(output.wait().hasPrefix("4/4: ") && output.wait().contains(" mono A-law to \(path)"))
        let info = try run("/usr/bin/sox", ["--i", "-s", path], absolute: true)
        let frames = Int(info.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(info.status == 0 && frames > 4000 && frames < 16000, "about 1.5 s written: \(frames) frames")
        // The monitor released the line: another listener gets it.
        #expect(abs((try lab.level("4/4")["samples"] as? Int ?? 0) - 8000) == 0)
    }
}
