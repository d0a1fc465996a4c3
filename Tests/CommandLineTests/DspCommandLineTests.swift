import Foundation
import G168Harness
import Testing
import TrunkCore
import TrunkMedia

/// `trunkctl dsp …` run as a technician runs it, on files generated here.
@Suite struct DspCommandLineTests {
    static func folder() -> String { temporaryDataFolder() }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    static func generate(_ source: SampleSource, limit: Int) -> [Int16] {
        var out: [Int16] = []
        var block = [Int16](repeating: 0, count: 160)
        while out.count < limit {
            let n = block.withUnsafeMutableBufferPointer { source.fill($0) }
            out += block[0..<n]
            if n < block.count { break }
        }
        return out
    }

    @Test func dtmfDigitsWithTimestamps() throws {
        let dir = Self.folder()
        let generator = DTMFGenerator(onMs: 60, offMs: 60)
        generator.send("95510*#")
        let samples = [Int16](repeating: 0, count: 4000) + Self.generate(generator, limit: 100_000) + [Int16](repeating: 0, count: 4000)
        try AudioFile.write(samples, to: dir + "/digits.wav", encoding: .alaw)

        let result = try run("trunkctl", ["dsp", "dtmf", "--in", dir + "/digits.wav", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = Self.json(result.stdout)
        #expect(report["digits"] as? String == "95510*#")
        let events = report["events"] as? [[String: Any]] ?? []
        #expect(events.count == 7)
        if let first = events.first {
            #expect(abs((first["startMs"] as? Int ?? 0) - 500) <= 15, "\(first)")
            #expect(abs((first["durationMs"] as? Int ?? 0) - 60) <= 15, "\(first)")
        }
        if events.count == 7 {
            #expect(abs((events[6]["startMs"] as? Int ?? 0) - (500 + 6 * 120)) <= 15, "\(events[6])")
        }
        let text = try run("trunkctl", ["dsp", "dtmf", "--in", dir + "/digits.wav"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("digits: 95510*#"))
    }

    @Test func tonesWithMeasuredCadence() throws {
        let dir = Self.folder()
        let busy = Self.generate(ToneGenerator(ToneZone.cn.definition(of: .busy)!, cycles: 5), limit: 1_000_000)
        try AudioFile.write([Int16](repeating: 0, count: 4000) + busy + [Int16](repeating: 0, count: 16000), to: dir + "/busy.raw")

        let result = try run("trunkctl", ["dsp", "tones", "--in", dir + "/busy.raw", "--zone", "cn", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let tones = Self.json(result.stdout)["tones"] as? [[String: Any]] ?? []
        #expect(tones.count == 1)
        guard let tone = tones.first else { return }
        #expect(tone["tone"] as? String == "busy")
        #expect(tone["nominalCadenceMs"] as? [Int] == [350, 350])
        #expect(abs((tone["startMs"] as? Int ?? 0) - 500) <= 40, "\(tone)")
        #expect(abs((tone["endMs"] as? Int ?? 0) - (500 + 4 * 700 + 350)) <= 40, "\(tone)")
        let measured = tone["measuredCadenceMs"] as? [Int] ?? []
        #expect(measured.count >= 8, "\(measured)")
        #expect(measured.prefix(8).allSatisfy { abs($0 - 350) <= 32 }, "\(measured)")

        let text = try run("trunkctl", ["dsp", "tones", "--in", dir + "/busy.raw"])
        #expect(text.stdout.contains("busy"))
        #expect(text.stdout.contains("350/350 → "))
    }

    @Test func faxTonesAreListed() throws {
        let dir = Self.folder()
        let amplitude = Double(SignalLevel.rms(dBm0: -12)) * 2.0.squareRoot()
        func sine(_ f: Double, ms: Int) -> [Int16] {
            (0..<ms * 8).map { aLawRoundTrip(Int16((amplitude * sin(2 * Double.pi * f * Double($0) / 8000)).rounded())) }
        }
        let silence = { (ms: Int) in [Int16](repeating: 0, count: ms * 8) }
        let samples = silence(1000) + sine(1100, ms: 500) + silence(3000) + sine(2100, ms: 3000) + silence(1000)
        try AudioFile.write(samples, to: dir + "/fax.wav", encoding: .alaw)
        let result = try run("trunkctl", ["dsp", "tones", "--in", dir + "/fax.wav", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let tones = Self.json(result.stdout)["tones"] as? [[String: Any]] ?? []
        #expect(tones.map { $0["tone"] as? String ?? "" } == ["fax_cng", "ced"])
        if tones.count == 2 {
            #expect(abs((tones[0]["startMs"] as? Int ?? 0) - 1000) <= 30, "\(tones[0])")
            #expect(abs((tones[1]["startMs"] as? Int ?? 0) - 4500) <= 30, "\(tones[1])")
            #expect(abs((tones[1]["endMs"] as? Int ?? 0) - 7500) <= 30, "\(tones[1])")
        }
    }

    @Test func levelOverallAndPerWindow() throws {
        let dir = Self.folder()
        let amplitude = Double(SignalLevel.rms(dBm0: -20)) * 2.0.squareRoot()
        let sine = (0..<16000).map { aLawRoundTrip(Int16((amplitude * sin(2 * Double.pi * 1004 * Double($0) / 8000)).rounded())) }
        let quiet = [Int16](repeating: 0, count: 8000)
        try AudioFile.write(sine + quiet, to: dir + "/level.wav", encoding: .pcm16)

        let result = try run("trunkctl", ["dsp", "level", "--in", dir + "/level.wav", "--window", "500", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = Self.json(result.stdout)
        let windows = report["windows"] as? [[String: Any]] ?? []
        #expect(windows.count == 6)
        for window in windows.prefix(4) {
            #expect(abs((window["rmsDBm0"] as? Double ?? 0) + 20) <= 0.2, "\(window)")
        }
        #expect((windows.last?["rmsDBm0"] as? Double ?? 0) <= -100)
        let overall = report["overall"] as? [String: Any] ?? [:]
        #expect(abs((overall["rmsDBm0"] as? Double ?? 0) - (-20 + 10 * log10(2.0 / 3))) <= 0.2, "\(overall)")
        #expect(abs((overall["peakDBm0"] as? Double ?? 0) + 20) <= 0.3, "\(overall)")
    }

    /// A G.168 case (model D.2, ERL 6 dB, composite source at −10 dBm0, 50 ms bulk delay,
    /// A-law both ways, −65 dBm0 noise) written to files: the CLI's ERLE must meet the issue's
    /// 1024-tap thresholds and equal the in-process measurement of the G.168 tests.
    @Test func echoReproducesTheG168Measurement() throws {
        let dir = Self.folder()
        let far = SpeechLikeSignal.compositeSource(seconds: 10, activeLevel: -10, voiced: .tableC1, seed: 1)
        let scenario = EchoScenario(far: far, path: EchoPathModel(model: 2, bulkDelay: 400), erl: 6)
        try AudioFile.write(scenario.reference, to: dir + "/ref.wav", encoding: .alaw)
        try AudioFile.write(scenario.nearEnd, to: dir + "/in.wav", encoding: .alaw)

        let result = try run("trunkctl", ["dsp", "echo", "--ref", dir + "/ref.wav", "--in", dir + "/in.wav",
                                          "--out", dir + "/out.wav", "--taps", "1024", "--nlp", "off", "--json"], timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        let report = Self.json(result.stdout)
        let mean = report["meanERLE3to10DB"] as? Double ?? 0
        let time = report["timeTo20dBSeconds"] as? Double ?? .infinity
        #expect(mean >= 28, "mean ERLE \(mean) dB")
        #expect(time <= 1.5, "time to 20 dB \(time) s")
        #expect((report["erlePerSecond"] as? [Any])?.count == 10)

        let expected = ERLEMeasurement(echo: scenario.echoOnly,
                                       residual: scenario.run(EchoCanceller(configuration: .init(tailTaps: 1024, nonLinearProcessing: false))))
        #expect(abs(mean - Double(expected.meanERLE(from: 3, to: 10))) <= 0.05)
        #expect(abs(time - (expected.timeToReach(20) ?? .infinity)) <= 0.001)
        #expect(try AudioFile.read(path: dir + "/out.wav").samples.count == scenario.nearEnd.count)

        let text = try run("trunkctl", ["dsp", "echo", "--ref", dir + "/ref.wav", "--in", dir + "/in.wav",
                                        "--out", dir + "/out2.wav", "--nlp", "off"], timeout: 300)
        #expect(text.stdout.contains("mean ERLE, seconds 3–10: "))
        #expect(text.stdout.contains("time to 20 dB: "))
    }

    @Test func errorsAreOneLineAndExitOne() throws {
        let dir = Self.folder()
        let missing = try run("trunkctl", ["dsp", "dtmf", "--in", dir + "/none.wav"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "trunkctl: \(dir)/none.wav: cannot open (No such file or directory)\n")

        let stereo = WAVFormat(encoding: .pcm16, channels: 2)
        try Data(stereo.header(dataBytes: 8) + [UInt8](repeating: 0, count: 8)).write(to: URL(fileURLWithPath: dir + "/stereo.wav"))
        let noChannel = try run("trunkctl", ["dsp", "level", "--in", dir + "/stereo.wav"])
        #expect(noChannel.status == 1)
        #expect(noChannel.stderr.contains("stereo WAV; choose a channel with --channel left|right"))
        #expect(noChannel.stderr.split(separator: "\n").count == 1)
        let withChannel = try run("trunkctl", ["dsp", "level", "--in", dir + "/stereo.wav", "--channel", "right"])
        #expect(withChannel.status == 0, "\(withChannel.stderr)")

        try AudioFile.write([Int16](repeating: 0, count: 800), to: dir + "/a.raw")
        try AudioFile.write([Int16](repeating: 0, count: 400), to: dir + "/b.raw")
        let mismatch = try run("trunkctl", ["dsp", "echo", "--ref", dir + "/a.raw", "--in", dir + "/b.raw", "--out", dir + "/c.raw"])
        #expect(mismatch.status == 1)
        #expect(mismatch.stderr.contains("REF and IN must be the same length"))

        let badOption = try run("trunkctl", ["dsp", "echo", "--ref", dir + "/a.raw", "--in", dir + "/a.raw", "--out", dir + "/c.raw", "--nlp", "maybe"])
        #expect(badOption.status == 1)
        #expect(badOption.stderr.contains("--nlp must be on or off"))
    }
}
