import ArgumentParser
import Foundation
import TrunkCore
import TrunkGateway
import TrunkHardware

/// trunkctl: the technicians' command line. Every command has `--json`; exit status is 0 when
/// all is well, 1 on an error, 2 when an alarm is present.
struct Trunkctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trunkctl",
        abstract: "Configure and diagnose a Trunkline gateway.",
        discussion: """
            Exit status: 0 ok, 1 error, 2 alarm present.

            Examples:
              trunkctl status
              trunkctl span show 2
              trunkctl sim cut 1 && trunkctl status; trunkctl sim restore 1
              trunkctl sim impair 2 --ber 1e-5 --dchan-only
              trunkctl alarms --active
              trunkctl config apply --dry-run /etc/trunkline/trunkline.toml
            """,
        subcommands: [Status.self, Span.self, Chan.self, Pri.self, Calls.self, Alarms.self, Sim.self, Config.self, Test.self, Dsp.self, Completions.self])
}

/// Where to find trunkd and how to print.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "trunkd's data folder (default: $TRUNKLINE_DATA or ~/.local/state/trunkline).")
    var data: String?

    @Option(name: .long, help: "Control socket to use instead of <data>/control.sock (e.g. trunksim's sim-control.sock).")
    var socket: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    var client: ControlClient {
        ControlClient(path: socket ?? ProcessInfo.processInfo.environment["TRUNKCTL_SOCKET"] ?? DataFolder.resolve(data).controlSocketPath)
    }

    var wantsJSON: Bool { json || ProcessInfo.processInfo.environment["TRUNKCTL_JSON"] == "1" }

    func emit<T: Encodable>(_ value: T, text: () -> String) {
        if wantsJSON {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self))
        } else {
            print(text(), terminator: "")
        }
    }
}

extension Trunkctl {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Spans, alarms, timing source and channels (like dahdi_scan / dahdi show status).")
        @OptionGroup var options: CommonOptions

        func run() throws {
            let report = try options.client.call(.status, NoParams(), as: StatusReport.self)
            options.emit(report) { StatusText.status(report) }
            if report.hasAlarms { throw ExitCode(2) }
        }
    }

    struct Span: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One span in detail.", subcommands: [Show.self, Counters.self, ResetCounters.self, Loopback.self])

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Alarms, counters, impairments and channels of span N.")
            @OptionGroup var options: CommonOptions
            @Argument(help: "Span number.") var span: Int

            func run() throws {
                let report = try options.client.call(.spanShow, SpanParams(span: span), as: SpanShowReport.self)
                options.emit(report) { StatusText.spanShow(report) }
                if !report.span.status.alarms.isEmpty { throw ExitCode(2) }
            }
        }

        struct ResetCounters: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "reset-counters", abstract: "Zero the line error counters of span N.")
            @OptionGroup var options: CommonOptions
            @Argument(help: "Span number.") var span: Int

            func run() throws {
                let report = try options.client.call(.spanResetCounters, SpanParams(span: span), as: SpanReport.self)
                options.emit(report) { "span \(span): counters reset\n" }
            }
        }
    }

    struct Sim: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Line simulator controls: cut and restore cables, add impairments.",
            subcommands: [Cut.self, Restore.self, Impair.self, Call.self, Traffic.self, Listen.self])

        struct Cut: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Cut span N's receive pair: RED here, YELLOW at the far end.")
            @OptionGroup var options: CommonOptions
            @Argument(help: "Span number.") var span: Int

            func run() throws {
                let report = try options.client.call(.simCut, SpanParams(span: span), as: SpanReport.self)
                options.emit(report) { "span \(span): cable cut\n" }
            }
        }

        struct Restore: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Restore span N's cable.")
            @OptionGroup var options: CommonOptions
            @Argument(help: "Span number.") var span: Int

            func run() throws {
                let report = try options.client.call(.simRestore, SpanParams(span: span), as: SpanReport.self)
                options.emit(report) { "span \(span): cable restored\n" }
            }
        }

        struct Impair: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Set impairments on what span N receives (fields not given stay as they are).",
                discussion: """
                    Examples:
                      trunkctl sim impair 2 --ber 1e-4 --dchan-only      # D-channel bit errors: BADFCS
                      trunkctl sim impair 2 --slip-every 1000            # a controlled slip a second
                      trunkctl sim impair 4 --echo-model 3 --erl 6 --echo-delay 10   # hybrid echo on the FXO card
                      trunkctl sim impair 1 --corrupt-frames 5           # damage the next 5 frames span 1 sends
                      trunkctl sim impair 2 --clear
                    """)
            @OptionGroup var options: CommonOptions
            @Argument(help: "Span number.") var span: Int
            @Option(help: "Bit error ratio, e.g. 1e-5.") var ber: Double?
            @Flag(help: "Confine bit errors to the D-channel (TS16).") var dchanOnly = false
            @Option(help: "Extra one-way delay in ms (0-500).") var delay: Int?
            @Option(help: "A controlled slip every N ms (0: none).") var slipEvery: Int?
            @Option(help: "Send AIS (all ones): true or false.") var ais: Bool?
            @Option(help: "G.168 echo path model 1-8 (D.2-D.9) on an analog card, 0: none.") var echoModel: Int?
            @Option(help: "Echo return loss in dB.") var erl: Double?
            @Option(help: "Echo bulk delay in ms.") var echoDelay: Int?
            @Option(help: "Damage the FCS of the next N D-channel frames this span sends.") var corruptFrames: Int?
            @Flag(help: "Remove every impairment (and a cut) first.") var clear = false

            func run() throws {
                var params = ImpairParams(span: span)
                params.bitErrorRate = ber
                params.dChannelOnly = dchanOnly ? true : (ber != nil ? false : nil)
                params.delayMs = delay
                params.slipEveryMs = slipEvery
                params.alarmIndicationSignal = ais
                params.echoModel = echoModel
                params.echoReturnLossDB = erl
                params.echoDelayMs = echoDelay
                params.corruptFrames = corruptFrames
                params.clear = clear ? true : nil
                let report = try options.client.call(.simImpair, params, as: SpanReport.self)
                options.emit(report) { "span \(span): \(StatusText.impairments(report.impairments))\n" }
            }
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Line and timing tests.", subcommands: [Timing.self])

        struct Timing: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Tick accuracy and lateness of the timing source, like dahdi_test.")
            @OptionGroup var options: CommonOptions
            @Option(help: "Sample length in seconds.") var seconds: Double = 5

            func run() throws {
                var client = options.client
                client.timeoutSeconds = Int(seconds) + 30
                let report = try client.call(.timing, TimingParams(seconds: seconds), as: TimingReport.self)
                options.emit(report) { StatusText.timing(report) }
            }
        }
    }
}
