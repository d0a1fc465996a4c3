import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TrunkGateway

extension Trunkctl.Sim {
    struct Call: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The lab's carrier (E1) or exchange (analog line) calls the gateway, as a subscriber would.",
            discussion: """
                On an E1 span the carrier sends a SETUP; on an FXS span (span 3 in the embedded
                default) the exchange rings one of the gateway's analog lines with China's
                cadence and sends caller ID in FSK between the rings or in DTMF before them.

                Examples:
                  trunkctl sim call 95500 --from 13800138000 --dtmf 123#
                  trunkctl sim call 95500 --from 13800138000 --hold 30
                  trunkctl sim call 95500 --from 13800138000 --span 3 --port 2 --cid dtmf --dtmf 123#
                """)
        @OptionGroup var options: CommonOptions
        @Argument(help: "Called number (DNIS).") var number: String
        @Option(help: "Calling number (ANI).") var from: String?
        @Option(help: "Span that places the call: the carrier's E1 span, or the exchange's FXS span.") var span = 1
        @Option(help: "B-channel to use (default: the carrier picks).") var channel: Int?
        @Option(help: "FXS span: the port (line) to ring (default: the first idle one).") var port: Int?
        @Option(help: "FXS span: caller ID signalling, fsk or dtmf.") var cid: String?
        @Option(help: "DTMF the caller keys one second after the answer.") var dtmf: String?
        @Option(help: "Seconds after the answer at which the caller hangs up (default: wait for the gateway).") var hold: Double?

        func validate() throws {
            if let cid, !["fsk", "dtmf"].contains(cid) { throw ValidationError("--cid must be fsk or dtmf, not '\(cid)'") }
            if port != nil && channel != nil { throw ValidationError("give --port (an FXS span's line) or --channel (an E1 B-channel), not both") }
        }

        func run() throws {
            let params = SimCallParams(span: span, called: number, calling: from, channel: port ?? channel, dtmf: dtmf,
                                       holdMs: hold.map { Int($0 * 1000) }, callerID: cid)
            let call = try options.client.call(.simCall, params, as: LabCarrier.Call.self)
            let who = port != nil || cid != nil ? "exchange" : "carrier"
            options.emit(call) { "\(who) call \(call.reference) on \(span)/\(call.channel.map(String.init) ?? "?"): \(from ?? "-") → \(number)\n" }
        }
    }

    struct Traffic: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Offer traffic from the lab's carrier and report completion, blocking and answer delay.",
            discussion: """
                Calls arrive at random (Poisson) at the rate that offers the given load per channel
                with the given mean holding time. The command waits and shows progress; Ctrl-C stops
                only the waiting (`trunkctl sim traffic --stop` stops the run).

                Examples:
                  trunkctl sim traffic --erlang 0.875 --minutes 10 --spans 1
                  trunkctl sim traffic --erlang 0.7 --minutes 2 --hold 20 --dtmf 123#
                """)
        @OptionGroup var options: CommonOptions
        @Option(help: "Offered load per channel (Erlang).") var erlang = 0.875
        @Option(help: "Length of the run in minutes.") var minutes = 10.0
        @Option(help: "Carrier span that offers the traffic.") var spans = 1
        @Option(help: "Channels the load is sized for.") var channels = 30
        @Option(help: "Mean holding time in seconds.") var hold = 20.0
        @Option(help: "Holding-time distribution: exponential or fixed.") var distribution = "exponential"
        @Option(help: "Called number.") var number = "95500"
        @Option(help: "DTMF each caller keys after the answer.") var dtmf = ""
        @Option(help: "Random seed (the same seed repeats the run).") var seed: UInt64 = 1
        @Flag(help: "Only show the current or last run.") var status = false
        @Flag(help: "Stop the current run.") var stop = false

        func validate() throws {
            guard TrafficGenerator.Profile.HoldDistribution(rawValue: distribution) != nil else {
                throw ValidationError("--distribution must be exponential or fixed")
            }
            guard erlang > 0 && erlang <= 1 else { throw ValidationError("--erlang must be in (0, 1]") }
            guard minutes > 0 && minutes <= 24 * 60 else { throw ValidationError("--minutes must be in (0, 1440]") }
        }

        func run() throws {
            if stop || status {
                let report = try options.client.call(stop ? .simTrafficStop : .simTrafficStatus, NoParams(), as: TrafficGenerator.Report.self)
                options.emit(report) { Self.text(report) }
                return
            }
            let profile = TrafficGenerator.Profile(
                erlangPerChannel: erlang, channels: channels, durationMs: Int(minutes * 60_000), meanHoldMs: Int(hold * 1000),
                holdDistribution: .init(rawValue: distribution)!, called: number, dtmf: dtmf, seed: seed)
            var report = try options.client.call(.simTrafficStart, SimTrafficParams(span: spans, profile: profile), as: TrafficGenerator.Report.self)
            let interactive = isatty(1) == 1 && !options.wantsJSON
            while report.running {
                sleep(1)
                report = try options.client.call(.simTrafficStatus, NoParams(), as: TrafficGenerator.Report.self)
                if interactive {
                    let done = min(1, Double(report.elapsedMs) / Double(profile.durationMs))
                    let bar = String(repeating: "#", count: Int(done * 30)) + String(repeating: ".", count: 30 - Int(done * 30))
                    print("\r[\(bar)] \(Int(done * 100))%  offered \(report.offered)  completed \(report.completed)  in progress \(report.inProgress)",
                          terminator: "")
                    fflush(nil)
                }
            }
            if interactive { print("") }
            options.emit(report) { Self.text(report) }
            if report.failed > 0 { throw ExitCode.failure }
        }

        static func text(_ r: TrafficGenerator.Report) -> String {
            let ratio = r.completionRatio.map { String(format: "%.4f%%", $0 * 100) } ?? "-"
            var out = "traffic: \(String(format: "%.3f", r.profile.erlangPerChannel)) E/channel offered on \(r.profile.channels) channels, "
            out += "\(String(format: "%.1f", Double(r.elapsedMs) / 60_000)) min\(r.running ? " (running)" : "")\n"
            out += "offered     \(r.offered)\nblocked     \(r.blocked) (no free channel)\ncompleted   \(r.completed)\n"
            out += "failed      \(r.failed)\(r.failureCauses.isEmpty ? "" : " causes " + r.failureCauses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "))\n"
            out += "in progress \(r.inProgress)\ncompletion  \(ratio) of calls that had a channel\n"
            out += "answer delay p50 \(r.answerDelayP50Ms.map { String(format: "%.0f ms", $0) } ?? "-"), p99 \(r.answerDelayP99Ms.map { String(format: "%.0f ms", $0) } ?? "-")\n"
            out += "carried     \(String(format: "%.3f", r.carriedErlang)) E/channel\n"
            return out
        }
    }
}
