import ArgumentParser
import Foundation
import TrunkCore
import TrunkGateway
import TrunkTrace

/// `trunkctl pri …`: the D-channel as Asterisk's `pri show …` commands show it, plus test
/// calls, restarts and traces.
extension Trunkctl {
    struct Pri: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "ISDN PRI: D-channel state, B-channels, test calls, RESTART, traces.",
            discussion: """
                Examples:
                  trunkctl pri show spans
                  trunkctl pri show span 2
                  trunkctl pri show channels 2
                  trunkctl pri call 1 95500 --from 13800138000     # the carrier calls the call centre
                  trunkctl pri hangup 1/1 --cause 16
                  trunkctl pri restart 2/5                          # one channel; `2` alone: the interface
                  trunkctl pri block 2/5                            # maintenance: no new calls on 2/5
                  trunkctl pri trace 2 --pcap /tmp/span2.pcap --seconds 30   # then: tshark -r /tmp/span2.pcap -V
                  trunkctl pri debug 2 --seconds 10
                  trunkctl pri debug --pcap /tmp/span2.pcap          # decode a trace offline
                """,
            subcommands: [Show.self, Call.self, Hangup.self, Restart.self, Block.self, Unblock.self, Trace.self, Debug.self])

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "PRI status.", subcommands: [Spans.self, SpanCommand.self, Channels.self])

            struct Spans: ParsableCommand {
                static let configuration = CommandConfiguration(abstract: "One line per PRI span: up, down or in alarm.")
                @OptionGroup var options: CommonOptions

                func run() throws {
                    let reports = try options.client.call(.priSpans, NoParams(), as: [PRISpanReport].self)
                    options.emit(reports) { reports.map { "PRI span \($0.span)/0: \(PRIText.summary($0)) (\($0.role) side)\n" }.joined() }
                    if reports.contains(where: { $0.inAlarm || !$0.dataLinkUp }) { throw ExitCode(2) }
                }
            }

            struct SpanCommand: ParsableCommand {
                static let configuration = CommandConfiguration(commandName: "span", abstract: "Q.921 state, V(S)/V(R)/V(A), counters and timers of one PRI span.")
                @OptionGroup var options: CommonOptions
                @Argument(help: "Span number.") var span: Int

                func run() throws {
                    let report = try options.client.call(.priSpan, SpanParams(span: span), as: PRISpanReport.self)
                    options.emit(report) { PRIText.span(report) }
                    if report.inAlarm || !report.dataLinkUp { throw ExitCode(2) }
                }
            }

            struct Channels: ParsableCommand {
                static let configuration = CommandConfiguration(abstract: "Every B-channel's state and call.")
                @OptionGroup var options: CommonOptions
                @Argument(help: "Only this span.") var span: Int?

                func run() throws {
                    var reports = try options.client.call(.priSpans, NoParams(), as: [PRISpanReport].self)
                    if let span {
                        reports = reports.filter { $0.span == span }
                        guard !reports.isEmpty else { throw TrunkError(.notFound, "span \(span) has no PRI signalling") }
                    }
                    options.emit(reports) { PRIText.channels(reports) }
                }
            }
        }

        struct Call: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Place a test call from a span (the far span sees it ring).")
            @OptionGroup var options: CommonOptions
            @Argument(help: "Span to call from.") var span: Int
            @Argument(help: "Called number.") var number: String
            @Option(help: "Calling number.") var from: String?
            @Option(help: "B-channel (default: the stack chooses).") var channel: Int?

            func run() throws {
                let result = try options.client.call(.priCall, PRICallParams(span: span, called: number, calling: from, channel: channel), as: PRICallResult.self)
                options.emit(result) { "span \(span): call \(result.call) to \(number) placed on channel \(result.channel.map(String.init) ?? "?")\n" }
            }
        }

        struct Hangup: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Clear the call on SPAN/CHANNEL.")
            @OptionGroup var options: CommonOptions
            @Argument(help: "SPAN/CHANNEL, e.g. 1/5.") var target: String
            @Option(help: "Q.850 cause (default 16, normal clearing).") var cause: Int = 16

            func run() throws {
                let (span, channel) = try PRIText.parseTarget(target)
                guard let channel else { throw TrunkError(.invalidArgument, "hangup needs SPAN/CHANNEL, e.g. 1/5") }
                let report = try options.client.call(.priHangup, PRIChannelParams(span: span, channel: channel, cause: cause), as: PRISpanReport.self)
                options.emit(report) { "span \(span) channel \(channel): DISCONNECT sent, cause \(cause)\n" }
            }
        }

        struct Restart: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Send RESTART for SPAN/CHANNEL, or for the whole interface with SPAN alone.")
            @OptionGroup var options: CommonOptions
            @Argument(help: "SPAN or SPAN/CHANNEL.") var target: String

            func run() throws {
                let (span, channel) = try PRIText.parseTarget(target)
                let report = try options.client.call(.priRestart, PRIChannelParams(span: span, channel: channel), as: PRISpanReport.self)
                options.emit(report) { "span \(span): RESTART sent for \(channel.map { "channel \($0)" } ?? "the interface")\n" }
            }
        }

        struct Block: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Take SPAN/CHANNEL out of service (local maintenance blocking).")
            @OptionGroup var options: CommonOptions
            @Argument(help: "SPAN/CHANNEL, e.g. 2/5.") var target: String
            func run() throws { try Pri.setBlocking(options, target, blocked: true) }
        }

        struct Unblock: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Return SPAN/CHANNEL to service.")
            @OptionGroup var options: CommonOptions
            @Argument(help: "SPAN/CHANNEL, e.g. 2/5.") var target: String
            func run() throws { try Pri.setBlocking(options, target, blocked: false) }
        }

        static func setBlocking(_ options: CommonOptions, _ target: String, blocked: Bool) throws {
            let (span, channel) = try PRIText.parseTarget(target)
            guard let channel else { throw TrunkError(.invalidArgument, "\(blocked ? "block" : "unblock") needs SPAN/CHANNEL, e.g. 2/5") }
            let report = try options.client.call(blocked ? .priBlock : .priUnblock, PRIChannelParams(span: span, channel: channel), as: PRISpanReport.self)
            options.emit(report) { "span \(span) channel \(channel): \(blocked ? "blocked" : "in service")\n" }
        }

        struct Trace: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Write the D-channel of a span to a pcap file (LINUX_LAPD) for Wireshark/tshark.")
            @OptionGroup var options: CommonOptions
            @Argument(help: "Span number.") var span: Int
            @Option(help: "pcap file to write.") var pcap: String
            @Option(help: "How long to trace.") var seconds: Double = 10

            func run() throws {
                var client = options.client
                client.timeoutSeconds = Int(seconds) + 30
                let path = pcap.hasPrefix("/") ? pcap : FileManager.default.currentDirectoryPath + "/" + pcap
                let result = try client.call(.priTrace, PRITraceParams(span: span, path: path, seconds: seconds), as: PRITraceResult.self)
                options.emit(result) { "span \(span): \(result.frames) frames written to \(result.path)\n" }
            }
        }

        struct Debug: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print each D-channel message decoded, live or from a pcap trace.")
            @OptionGroup var options: CommonOptions
            @Argument(help: "Span number (live).") var span: Int?
            @Option(help: "How long to listen (live).") var seconds: Double = 10
            @Option(help: "Decode this pcap trace instead (trunkd not needed).") var pcap: String?

            func validate() throws {
                if (span == nil) == (pcap == nil) { throw ValidationError("give a span to listen to, or --pcap FILE to decode") }
            }

            func run() throws {
                if let pcap {
                    let records = try LAPDTraceReader.read(path: pcap)
                    let lines = records.map { PRIDebugText.describe(frame: $0.frame, direction: $0.direction, span: nil) }
                    options.emit(PRIDebugResult(lines: lines)) { lines.map { $0 + "\n" }.joined() }
                    return
                }
                var client = options.client
                client.timeoutSeconds = Int(seconds) + 30
                let result = try client.call(.priDebug, PRIDebugParams(span: span!, seconds: seconds), as: PRIDebugResult.self)
                options.emit(result) { result.lines.map { $0 + "\n" }.joined() }
            }
        }
    }
}

enum PRIText {
    static func summary(_ report: PRISpanReport) -> String {
        if report.inAlarm { return "In Alarm, Down" }
        return report.dataLinkUp ? "Up, Active" : "Down, Active"
    }

    static func span(_ r: PRISpanReport) -> String {
        var out = "PRI span \(r.span)/0: \(summary(r)), \(r.role) side\n"
        out += "  Q.921: \(r.q921State)   V(S)=\(r.vs) V(R)=\(r.vr) V(A)=\(r.va)\n"
        out += "  Frames: received \(r.counters.framesReceived), sent \(r.counters.framesSent), "
        out += "I-frames received \(r.q921.iFramesReceived), sent \(r.q921.iFramesSent), retransmitted \(r.q921.retransmitted)\n"
        out += "  Errors: bad FCS \(r.counters.badFCS), aborts \(r.counters.aborts), unknown address \(r.q921.unknownAddress), "
        out += "malformed \(r.q921.malformed), Q.921 \(r.q921.protocolErrors), Q.931 \(r.q931.protocolErrors)\n"
        out += "  Link: up \(r.counters.linkUps) times, down \(r.counters.linkDowns) times\n"
        out += "  Q.931: messages received \(r.q931.messagesReceived), sent \(r.q931.messagesSent); calls in \(r.q931.incomingCalls), out \(r.q931.outgoingCalls), active \(r.activeCalls)\n"
        out += "  Timers running: \(r.timers.isEmpty ? "none" : r.timers.joined(separator: ", "))\n"
        return out
    }

    static func channels(_ reports: [PRISpanReport]) -> String {
        var out = "SPAN  CHAN  STATE       CALL       Q.931  NUMBERS\n"
        for report in reports {
            for channel in report.channels {
                out += StatusText.leftPad(String(report.span), 4) + "  " + StatusText.leftPad(String(channel.channel), 4) + "  "
                out += StatusText.pad(channel.state.rawValue, 12) + StatusText.pad(channel.call ?? "-", 11)
                out += StatusText.pad(channel.callState.map { "\(report.role == "network" ? "N" : "U")\($0)" } ?? "-", 7)
                out += (channel.numbers ?? "") + "\n"
            }
        }
        return out
    }

    /// "2" → (2, nil); "2/5" → (2, 5).
    static func parseTarget(_ text: String) throws(TrunkError) -> (Int, Int?) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let span = Int(parts[0]) else {
            throw TrunkError(.invalidArgument, "'\(text)' is not SPAN or SPAN/CHANNEL")
        }
        if parts.count == 2 {
            guard let channel = Int(parts[1]) else { throw TrunkError(.invalidArgument, "'\(text)' is not SPAN/CHANNEL") }
            return (span, channel)
        }
        return (span, nil)
    }
}
