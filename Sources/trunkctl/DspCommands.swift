import ArgumentParser
import Foundation
import TrunkCore
import TrunkMedia

/// `trunkctl dsp …`: the media engine's detectors and echo canceller run over audio files
/// (raw s16le 8 kHz or WAV), for technicians analysing recordings and for verifying the DSP.
extension Trunkctl {
    struct Dsp: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the DSP (DTMF, tones, levels, echo canceller) over audio files.",
            discussion: """
                Files are raw signed 16-bit little-endian 8 kHz, or WAV (16-bit PCM, A-law, µ-law), \
                mono, or stereo with --channel left|right. Exit status: 0 ok, 1 error.

                Examples:
                  trunkctl dsp dtmf --in call.wav --channel left
                  trunkctl dsp tones --in line.raw --zone cn
                  trunkctl dsp level --in prompt.wav --window 500
                  trunkctl dsp echo --ref far.wav --in near.wav --out cleaned.wav --taps 1024 --nlp off
                """,
            subcommands: [DTMF.self, Tones.self, Level.self, Echo.self])
    }
}

/// The input file and how to print.
struct DspInput: ParsableArguments {
    @Option(name: .customLong("in"), help: "Audio file to analyse.") var input: String
    @Option(help: "Channel of a stereo WAV: left or right.") var channel: String?
    @Flag(help: "Print JSON instead of text.") var json = false

    func validate() throws {
        if let channel, AudioFile.Channel(rawValue: channel) == nil {
            throw ValidationError("--channel must be left or right, not '\(channel)'")
        }
    }

    func load() throws -> AudioFile {
        try AudioFile.read(path: input, channel: channel.flatMap(AudioFile.Channel.init(rawValue:)))
    }
}

/// Runs `detector` over `samples` in 20 ms blocks, handing each detection (and the block's
/// end) to `each`.
func runDetector(_ detector: AudioDetector, over samples: [Int16], each: (MediaDetection) -> Void, afterBlock: () -> Void = {}) {
    let block = 160
    samples.withUnsafeBufferPointer { all in
        var start = 0
        while start < all.count {
            let n = min(block, all.count - start)
            detector.process(UnsafeBufferPointer(rebasing: all[start..<start + n]), sampleTime: UInt64(start))
            while let detection = detector.nextDetection() { each(detection) }
            afterBlock()
            start += n
        }
    }
}

func printJSON<T: Encodable>(_ value: T) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self))
}

func milliseconds(_ sample: UInt64) -> Int { Int(sample / 8) }

func describe(_ file: AudioFile) -> String {
    switch file.container {
    case .raw: "raw s16le"
    case .wav(let format): "WAV \(format.encoding.rawValue), \(format.channels) channel(s)"
    }
}

extension Trunkctl.Dsp {
    struct DTMF: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dtmf",
            abstract: "List the DTMF digits in a file, with start time and duration (ms).")
        @OptionGroup var input: DspInput
        @Option(help: "Accepted normal twist, dB (high group weaker).") var normalTwist = 8
        @Option(help: "Accepted reverse twist, dB (high group stronger).") var reverseTwist = 4
        @Option(help: "Weakest accepted tone, dBm0.") var threshold = -36

        struct Digit: Encodable {
            var digit: String
            var startMs: Int
            var durationMs: Int
        }

        struct Report: Encodable {
            var file: String
            var seconds: Double
            var digits: String
            var events: [Digit]
        }

        func run() throws {
            let file = try input.load()
            let receiver = DTMFReceiver(configuration: .init(normalTwist: normalTwist, reverseTwist: reverseTwist, thresholdDBm0: threshold))
            var events: [Digit] = []
            runDetector(receiver, over: file.samples) { detection in
                if case .dtmf(let digit, let ms) = detection.kind {
                    events.append(Digit(digit: String(UnicodeScalar(digit)), startMs: milliseconds(detection.sampleTime), durationMs: ms))
                }
            }
            let report = Report(file: input.input, seconds: file.durationSeconds, digits: events.map(\.digit).joined(), events: events)
            if input.json { return printJSON(report) }
            print("\(input.input): \(String(format: "%.2f", file.durationSeconds)) s, \(describe(file))")
            print("  start ms  digit  duration ms")
            for event in events {
                print(String(format: "%10d      ", event.startMs) + event.digit + String(format: "  %11d", event.durationMs))
            }
            print("digits: \(report.digits.isEmpty ? "(none)" : report.digits)")
        }
    }

    struct Tones: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List call-progress, fax and modem tones in a file, with start/end and measured cadence.")
        @OptionGroup var input: DspInput
        @Option(help: "Tone zone: \(ToneZone.all.map(\.name).joined(separator: ", ")).") var zone = "cn"
        @Option(help: "Cadence cycles to confirm before reporting a cadenced tone.") var cycles = 2

        func validate() throws {
            guard ToneZone.named(zone) != nil else {
                throw ValidationError("unknown tone zone '\(zone)' (zones: \(ToneZone.all.map(\.name).joined(separator: ", ")))")
            }
            guard (1...5).contains(cycles) else { throw ValidationError("--cycles must be 1…5") }
        }

        struct Tone: Encodable {
            var tone: String
            var startMs: Int
            var endMs: Int?
            /// Nominal on/off pattern of the zone's tone (ms), empty for continuous or modem tones.
            var nominalCadenceMs: [Int]
            /// Lengths of the tone's segments as measured (on, off, on, off …, ms).
            var measuredCadenceMs: [Int]
        }

        struct Report: Encodable {
            var file: String
            var zone: String
            var seconds: Double
            var tones: [Tone]
        }

        func run() throws {
            let file = try input.load()
            let toneZone = ToneZone.named(zone)!
            let progress = CallProgressToneDetector(zone: toneZone, configuration: .init(confirmedCycles: cycles))
            var segments: [CallProgressToneDetector.Segment] = []
            var tones: [Tone] = []
            func record(_ detection: MediaDetection) {
                switch detection.kind {
                case .toneStarted(let tone):
                    let nominal = toneZone.definition(of: tone).flatMap { $0.isContinuous ? nil : $0.segments.compactMap(\.durationMs) } ?? []
                    tones.append(Tone(tone: tone.rawValue, startMs: milliseconds(detection.sampleTime), endMs: nil, nominalCadenceMs: nominal, measuredCadenceMs: []))
                case .toneEnded(let tone):
                    if let index = tones.lastIndex(where: { $0.tone == tone.rawValue && $0.endMs == nil }) {
                        tones[index].endMs = milliseconds(detection.sampleTime)
                    }
                case .dtmf:
                    break
                }
            }
            runDetector(progress, over: file.samples, each: record) {
                while let segment = progress.nextSegment() { segments.append(segment) }
            }
            runDetector(ModemToneDetector(), over: file.samples, each: record)
            // A tone still present at the end of the file has no end.
            for index in tones.indices where !tones[index].nominalCadenceMs.isEmpty {
                let start = UInt64(tones[index].startMs) * 8
                let end = tones[index].endMs.map { UInt64($0) * 8 } ?? UInt64.max
                let inside = segments.filter { $0.startSample + 8 * 20 >= start && $0.startSample < end }
                tones[index].measuredCadenceMs = inside.drop { !$0.isTone }.map(\.durationMs)
            }
            tones.sort { $0.startMs < $1.startMs }
            let report = Report(file: input.input, zone: toneZone.name, seconds: file.durationSeconds, tones: tones)
            if input.json { return printJSON(report) }
            print("\(input.input): \(String(format: "%.2f", file.durationSeconds)) s, \(describe(file)), zone \(toneZone.name)")
            print("  tone            start ms    end ms  cadence ms (nominal → measured)")
            for tone in tones {
                let end = tone.endMs.map(String.init) ?? "-"
                let cadence = tone.nominalCadenceMs.isEmpty ? "continuous"
                    : tone.nominalCadenceMs.map(String.init).joined(separator: "/") + " → " + tone.measuredCadenceMs.map(String.init).joined(separator: "/")
                print(tone.tone.padding(toLength: 14, withPad: " ", startingAt: 0) + String(format: "%11d %9@  ", tone.startMs, end) + cadence)
            }
            if tones.isEmpty { print("no tones") }
        }
    }

    struct Level: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "RMS and peak level (dBm0) of a file, overall and per window.")
        @OptionGroup var input: DspInput
        @Option(help: "Window length, ms.") var window = 1000

        func validate() throws {
            guard window >= 1 else { throw ValidationError("--window must be at least 1 ms") }
        }

        struct Measure: Encodable {
            var startMs: Int
            var rmsDBm0: Double
            var peakDBm0: Double
        }

        struct Report: Encodable {
            var file: String
            var seconds: Double
            var overall: Measure
            var windows: [Measure]
        }

        static func rounded(_ x: Float) -> Double { (Double(max(x, -120)) * 10).rounded() / 10 }

        func run() throws {
            let file = try input.load()
            var overall = LevelMeter()
            overall.add(file.samples)
            var windows: [Measure] = []
            let length = window * 8
            for start in stride(from: 0, to: file.samples.count, by: length) {
                var meter = LevelMeter()
                meter.add(Array(file.samples[start..<min(start + length, file.samples.count)]))
                windows.append(Measure(startMs: start / 8, rmsDBm0: Self.rounded(meter.rmsDBm0), peakDBm0: Self.rounded(meter.peakDBm0)))
            }
            let report = Report(file: input.input, seconds: file.durationSeconds,
                                overall: Measure(startMs: 0, rmsDBm0: Self.rounded(overall.rmsDBm0), peakDBm0: Self.rounded(overall.peakDBm0)),
                                windows: windows)
            if input.json { return printJSON(report) }
            print("\(input.input): \(String(format: "%.2f", file.durationSeconds)) s, \(describe(file))")
            print(String(format: "overall: RMS %.1f dBm0, peak %.1f dBm0", report.overall.rmsDBm0, report.overall.peakDBm0))
            print("  start ms   RMS dBm0  peak dBm0")
            for w in windows { print(String(format: "%10d %10.1f %10.1f", w.startMs, w.rmsDBm0, w.peakDBm0)) }
        }
    }

    struct Echo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the echo canceller over files and report ERLE over time.",
            discussion: """
                REF is the far-end signal sent towards the line (Rin), IN what came back (Sin: the
                echo, without near-end speech for ERLE to mean anything), OUT the cancelled signal
                (Sout), written in IN's format. ERLE is measured in 50 ms windows where Sin is above
                −45 dBm0, as the G.168 tests do.
                """)
        @Option(help: "Far-end reference file (Rin).") var ref: String
        @Option(name: .customLong("in"), help: "Near-end input file (Sin).") var input: String
        @Option(help: "Where to write the cancelled signal (Sout).") var out: String
        @Option(help: "Tail length in taps (8 per ms): a multiple of 64 from 64 to 2048 (1024 = 128 ms).") var taps = 1024
        @Option(help: "Non-linear processor: on or off (off to measure the linear canceller).") var nlp = "on"
        @Option(help: "Channel of stereo WAV inputs: left or right.") var channel: String?
        @Flag(help: "Print JSON instead of text.") var json = false

        func validate() throws {
            guard ["on", "off"].contains(nlp) else { throw ValidationError("--nlp must be on or off, not '\(nlp)'") }
            guard (64...2048).contains(taps), taps % 64 == 0 else { throw ValidationError("--taps must be a multiple of 64 from 64 to 2048, not \(taps)") }
            if let channel, AudioFile.Channel(rawValue: channel) == nil {
                throw ValidationError("--channel must be left or right, not '\(channel)'")
            }
        }

        struct Second: Encodable {
            var second: Int
            var erleDB: Double
        }

        struct Report: Encodable {
            var ref: String
            var input: String
            var output: String
            var taps: Int
            var nlp: Bool
            var seconds: Double
            var erlePerSecond: [Second]
            /// Mean ERLE over seconds 3–10 (G.168 steady state), dB.
            var meanERLE3to10DB: Double?
            /// Time until ERLE first stays ≥ 20 dB for three windows, s.
            var timeTo20dBSeconds: Double?
        }

        func run() throws {
            let side = channel.flatMap(AudioFile.Channel.init(rawValue:))
            let reference = try AudioFile.read(path: ref, channel: side)
            let near = try AudioFile.read(path: input, channel: side)
            guard reference.samples.count == near.samples.count else {
                throw TrunkError(.invalidArgument, "\(ref) has \(reference.samples.count) samples, \(input) \(near.samples.count): REF and IN must be the same length")
            }
            let canceller = EchoCanceller(configuration: .init(tailTaps: taps, nonLinearProcessing: nlp == "on"))
            var output = [Int16](repeating: 0, count: near.samples.count)
            let block = 80
            reference.samples.withUnsafeBufferPointer { r in
                near.samples.withUnsafeBufferPointer { s in
                    output.withUnsafeMutableBufferPointer { o in
                        var start = 0
                        while start < r.count {
                            let n = min(block, r.count - start)
                            canceller.process(reference: UnsafeBufferPointer(rebasing: r[start..<start + n]),
                                              nearEnd: UnsafeBufferPointer(rebasing: s[start..<start + n]),
                                              output: UnsafeMutableBufferPointer(rebasing: o[start..<start + n]))
                            start += n
                        }
                    }
                }
            }
            // Written (and measured) as IN's format carries it: A-law in, A-law out.
            let encoding: WAVFormat.Encoding?
            switch near.container {
            case .raw: encoding = nil
            case .wav(let format): encoding = format.encoding
            }
            try AudioFile.write(output, to: out, encoding: encoding)
            let written = try AudioFile.read(path: out).samples
            let erle = EchoReport(sin: near.samples, sout: written)
            let report = Report(
                ref: ref, input: input, output: out, taps: taps, nlp: nlp == "on", seconds: near.durationSeconds,
                erlePerSecond: erle.perSecond().map { Second(second: $0.second, erleDB: (Double($0.erle) * 10).rounded() / 10) },
                meanERLE3to10DB: erle.meanERLE(from: 3, to: 10).map { (Double($0) * 10).rounded() / 10 },
                timeTo20dBSeconds: erle.timeToReach(20))
            if json { return printJSON(report) }
            print("echo canceller: \(taps) taps (\(taps / 8) ms), NLP \(nlp); \(String(format: "%.2f", near.durationSeconds)) s; output \(out)")
            print("  second  ERLE dB")
            for s in report.erlePerSecond { print(String(format: "%8d %8.1f", s.second, s.erleDB)) }
            print("mean ERLE, seconds 3–10: " + (report.meanERLE3to10DB.map { String(format: "%.1f dB", $0) } ?? "n/a (no active windows)"))
            print("time to 20 dB: " + (report.timeTo20dBSeconds.map { String(format: "%.2f s", $0) } ?? "not reached"))
        }
    }
}
