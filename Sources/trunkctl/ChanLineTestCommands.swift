import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TrunkCore
import TrunkGateway

/// Set by SIGINT while `chan monitor` streams: the stream ends and the WAV file is closed valid.
private let monitorInterrupted = Atomic<Bool>(false)

enum LineTestText {
    static func level(_ value: Double) -> String {
        let text = value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
        return value > 0 ? "+" + text : text
    }

    /// "1004Hz" → 1004.
    static func frequency(_ text: String) throws(ValidationError) -> Int {
        guard text.lowercased().hasSuffix("hz"), let value = Int(text.dropLast(2)) else {
            throw ValidationError("a test tone's frequency is whole hertz with an Hz suffix, e.g. 1004Hz, not '\(text)'")
        }
        guard LineTests.frequencies.contains(value) else {
            throw ValidationError("\(value) Hz is outside what the tone generator sends at 8 kHz: \(LineTests.frequencies.lowerBound)-\(LineTests.frequencies.upperBound) Hz")
        }
        return value
    }

    /// "-10dBm0" → −10.
    static func dBm0(_ text: String) throws(ValidationError) -> Double {
        guard text.lowercased().hasSuffix("dbm0"), let value = Double(text.dropLast(4)), value.isFinite else {
            throw ValidationError("a test tone's level is dBm0 with a dBm0 suffix, e.g. -10dBm0, not '\(text)'")
        }
        guard LineTests.levels.contains(value) else {
            throw ValidationError("\(level(value)) dBm0 is outside what the tone generator sends: \(level(LineTests.levels.lowerBound)) to \(level(LineTests.levels.upperBound)) dBm0 (an A-law sine clips above +3.14 dBm0)")
        }
        return value
    }
}

extension Trunkctl.Chan {
    struct Tone: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a test tone on SPAN/POSITION (a sine at a frequency and level), or stop it.",
            discussion: """
                The tone replaces what the channel sends. It works on an idle channel (the carrier's
                B-channels, the trunk's, the analog ports); a channel with a call up is refused, so a
                caller never hears it. Without --seconds it plays until `chan tone SPAN/POSITION off`
                (at most 24 hours). Frequency 50-3950 Hz, level -60 to +3 dBm0.

                Examples:
                  trunkctl chan tone 1/1 1004Hz -10dBm0            # the carrier's end of span 2's timeslot 1
                  trunkctl chan tone 3/1 1004Hz -20dBm0 --seconds 10   # the exchange's port on FXO line 4/1
                  trunkctl chan tone 1/1 off
                """)
        @OptionGroup var options: CommonOptions
        @Argument(help: "SPAN/POSITION, e.g. 1/1.") var target: String
        @Argument(parsing: .allUnrecognized, help: "FREQUENCY LEVEL (e.g. 1004Hz -10dBm0), or off.") var tone: [String] = []
        @Option(help: "Stop after this many seconds (default: until off).") var seconds: Double?

        func validate() throws {
            if tone == ["off"] {
                guard seconds == nil else { throw ValidationError("--seconds goes with a tone, not with off") }
                return
            }
            guard tone.count == 2 else { throw ValidationError("give FREQUENCY LEVEL (e.g. 1004Hz -10dBm0) or off, not '\(tone.joined(separator: " "))'") }
            _ = try LineTestText.frequency(tone[0])
            _ = try LineTestText.dBm0(tone[1])
            if let seconds, !(seconds > 0 && seconds <= LineTests.longestToneSeconds) {
                throw ValidationError("--seconds must be more than 0 and at most \(Int(LineTests.longestToneSeconds))")
            }
        }

        func run() throws {
            let (span, position) = try Trunkctl.Chan.parse(target)
            let off = tone == ["off"]
            let params = ChannelToneParams(span: span, channel: position, frequencyHz: off ? nil : try LineTestText.frequency(tone[0]),
                                           levelDBm0: off ? nil : try LineTestText.dBm0(tone[1]), seconds: seconds, off: off)
            let report = try options.client.call(.chanTone, params, as: ChannelToneReport.self)
            options.emit(report) {
                guard report.playing, let hz = report.frequencyHz, let level = report.levelDBm0 else { return "\(report.address): test tone off\n" }
                let length = report.seconds.map { "for \($0 == $0.rounded() ? String(Int($0)) : String($0)) s" } ?? "until `trunkctl chan tone \(report.address) off`"
                return "\(report.address): sending \(hz) Hz at \(LineTestText.level(level)) dBm0 \(length)\n"
            }
        }
    }

    struct Level: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure what SPAN/POSITION receives: RMS level in dBm0 and the dominant frequency.",
            discussion: """
                Listens through the media loop for --seconds (on an idle channel too) and reports the
                RMS and peak level and the strongest frequency, as a transmission test set does.

                Examples:
                  trunkctl chan level 2/1                 # with `chan tone 1/1 1004Hz -10dBm0` on: about -10 dBm0, 1004 Hz
                  trunkctl chan level 4/1 --seconds 3 --json
                """)
        @OptionGroup var options: CommonOptions
        @Argument(help: "SPAN/POSITION, e.g. 2/1.") var target: String
        @Option(help: "How long to measure (0.3-60 s).") var seconds: Double = 1
        @Flag(name: .customLong("pre-ec"), help: "Measure before the echo canceller (a call with one).") var preEC = false

        func validate() throws {
            guard LineTests.levelSeconds.contains(seconds) else { throw ValidationError("--seconds must be 0.3-60") }
        }

        func run() throws {
            let (span, position) = try Trunkctl.Chan.parse(target)
            var client = options.client
            client.timeoutSeconds = Int(seconds) + 30
            let report = try client.call(.chanLevel, ChannelLevelParams(span: span, channel: position, seconds: seconds, preEchoCanceller: preEC),
                                         as: ChannelLevelReport.self)
            options.emit(report) { Self.text(report) }
        }

        static func text(_ report: ChannelLevelReport) -> String {
            guard report.levelDBm0 > -99 else { return "\(report.address): silence over \(String(format: "%.2f", report.seconds)) s\n" }
            var out = "\(report.address): \(String(format: "%.1f", report.levelDBm0)) dBm0 RMS (peak \(String(format: "%.1f", report.peakDBm0)) dBm0)"
            if let hz = report.frequencyHz { out += ", \(String(format: "%.0f", hz)) Hz" }
            out += " over \(String(format: "%.2f", report.seconds)) s"
            if let call = report.call { out += ", call \(call)" }
            if report.droppedBlocks > 0 { out += " (\(report.droppedBlocks) block(s) lost)" }
            return out + "\n"
        }
    }

    struct Monitor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Listen to SPAN/POSITION: write what it carries to a WAV file (A-law, 8 kHz).",
            discussion: """
                Mono is what the channel receives (the far end); --stereo puts that on the left and
                what the channel is sent on the right; --pre-ec listens before the echo canceller.
                Ends after --seconds or on Ctrl-C, the file valid either way. Works on an idle channel
                too (its line's audio); audio the stream loses when trunkctl falls behind is written as
                silence and reported.

                Examples:
                  trunkctl chan monitor 2/5 -o call.wav --seconds 30
                  trunkctl chan monitor 4/1 --stereo --pre-ec -o line1.wav     # until Ctrl-C
                  sox call.wav -n stat
                """)
        @OptionGroup var options: CommonOptions
        @Argument(help: "SPAN/POSITION, e.g. 2/5.") var target: String
        @Option(name: .shortAndLong, help: "The WAV file to write.") var output: String
        @Option(help: "Stop after this many seconds (default: until Ctrl-C).") var seconds: Double?
        @Flag(help: "Left the far end (received), right what the channel is sent.") var stereo = false
        @Flag(name: .customLong("pre-ec"), help: "Listen before the echo canceller.") var preEC = false

        func validate() throws {
            if let seconds, !(seconds > 0 && seconds <= LineTests.longestToneSeconds) {
                throw ValidationError("--seconds must be more than 0 and at most \(Int(LineTests.longestToneSeconds))")
            }
        }

        func run() throws {
            let (span, position) = try Trunkctl.Chan.parse(target)
            let file = try MonitorWAVFile(path: output, channels: stereo ? 2 : 1)
            signal(SIGINT) { _ in monitorInterrupted.store(true, ordering: .relaxed) }
            // A parent may hand SIGINT down blocked (posix_spawn keeps the caller's mask): Ctrl-C must reach us.
            var interrupt = sigset_t()
            sigemptyset(&interrupt)
            sigaddset(&interrupt, SIGINT)
            pthread_sigmask(SIG_UNBLOCK, &interrupt, nil)
            var nextSampleTime: UInt64?
            var dropped: UInt64 = 0
            let params = ChannelMonitorParams(span: span, channel: position, seconds: seconds, stereo: stereo, preEchoCanceller: preEC)
            let result: ChannelMonitorReport?
            do {
                result = try options.client.stream(.chanMonitor, params, as: ChannelMonitorReport.self,
                                                   shouldStop: { monitorInterrupted.load(ordering: .relaxed) }) { line in
                    let chunk = try JSONDecoder().decode(MonitorNotification.self, from: line).params
                    guard let audio = Data(base64Encoded: chunk.alaw) else {
                        throw TrunkError(.protocolError, "trunkd sent monitor audio that is not base64 (chunk \(chunk.seq))")
                    }
                    if let expected = nextSampleTime, chunk.sampleTime > expected {
                        try file.appendSilence(frames: Int(chunk.sampleTime - expected))
                    }
                    try file.append(audio)
                    nextSampleTime = chunk.sampleTime + UInt64(chunk.frames)
                    dropped = chunk.droppedBlocks
                }
            } catch {
                try? file.finish()
                throw error
            }
            try file.finish()
            signal(SIGINT, SIG_DFL)
            let summary = ChannelMonitorReport(address: "\(span)/\(position)", frames: file.frames, channels: file.format.channels,
                                               droppedBlocks: result?.droppedBlocks ?? dropped, ended: result?.ended ?? "interrupted")
            options.emit(summary) {
                "\(summary.address): \(summary.frames) frames (\(String(format: "%.2f", Double(summary.frames) / 8000)) s) \(stereo ? "stereo" : "mono") A-law to \(output)\n"
            }
            if summary.droppedBlocks > 0 {
                FileHandle.standardError.write(Data("trunkctl: \(summary.address): \(summary.droppedBlocks) block(s) of audio lost because trunkctl read too slowly; written as silence\n".utf8))
            }
        }
    }
}
