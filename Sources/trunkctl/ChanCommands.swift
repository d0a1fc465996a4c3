import ArgumentParser
import Foundation
import TrunkCore
import TrunkGateway
import TrunkHardware

/// One channel as `chan show` reports it: the device's view, and the PRI B-channel's where
/// the span runs PRI.
struct ChanShowReport: Codable, Sendable {
    var span: Int
    var position: Int
    var parameters: ChannelParameters
    var spanAlarms: [String]
    var pri: PRIChannelReport?
}

extension Trunkctl {
    struct Chan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One channel: show it, take it out of service and back.",
            discussion: """
                Channels are named SPAN/POSITION: the E1 timeslot (1-31) or the analog port (1-24).

                Examples:
                  trunkctl chan show 2/5
                  trunkctl chan block 2/5      # no new calls on it; a call already up runs to its end
                  trunkctl chan unblock 2/5
                """,
            subcommands: [Show.self, Block.self, Unblock.self])

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Signalling, hook state, law, blocking and the call on SPAN/POSITION.")
            @OptionGroup var options: CommonOptions
            @Argument(help: "SPAN/POSITION, e.g. 2/5.") var target: String

            func run() throws {
                let (span, position) = try Chan.parse(target)
                let show = try options.client.call(.spanShow, SpanParams(span: span), as: SpanShowReport.self)
                guard let parameters = show.channels.first(where: { $0.chanPos == position }) else {
                    throw TrunkError(.notFound, "span \(span) has no channel \(position) (it has \(show.channels.count))")
                }
                var pri: PRIChannelReport?
                if show.span.status.type == .e1, let report = try? options.client.call(.priSpan, SpanParams(span: span), as: PRISpanReport.self) {
                    pri = report.channels.first { $0.channel == position }
                }
                let report = ChanShowReport(span: span, position: position, parameters: parameters, spanAlarms: show.span.status.alarms.names, pri: pri)
                options.emit(report) { Chan.text(report) }
                if !report.spanAlarms.isEmpty { throw ExitCode(2) }
            }
        }

        struct Block: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Maintenance blocking: SPAN/POSITION takes no new calls (PRI: local blocking).")
            @OptionGroup var options: CommonOptions
            @Argument(help: "SPAN/POSITION, e.g. 2/5.") var target: String
            func run() throws { try Chan.setBlocking(options, target, blocked: true) }
        }

        struct Unblock: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Return SPAN/POSITION to service.")
            @OptionGroup var options: CommonOptions
            @Argument(help: "SPAN/POSITION, e.g. 2/5.") var target: String
            func run() throws { try Chan.setBlocking(options, target, blocked: false) }
        }

        static func parse(_ target: String) throws(TrunkError) -> (Int, Int) {
            let parts = target.split(separator: "/")
            guard parts.count == 2, let span = Int(parts[0]), let position = Int(parts[1]), span >= 1, position >= 1 else {
                throw TrunkError(.invalidArgument, "a channel is SPAN/POSITION, e.g. 2/5, not '\(target)'")
            }
            return (span, position)
        }

        static func setBlocking(_ options: CommonOptions, _ target: String, blocked: Bool) throws {
            let (span, position) = try parse(target)
            let show = try options.client.call(.spanShow, SpanParams(span: span), as: SpanShowReport.self)
            guard show.span.status.type == .e1 else {
                throw TrunkError(.unavailable, "span \(span) is an analog card: maintenance blocking of analog ports arrives with the analog signalling layer")
            }
            guard position != 16 else { throw TrunkError(.invalidArgument, "\(span)/16 is the D-channel; block B-channels (1-15, 17-31)") }
            let report = try options.client.call(blocked ? .priBlock : .priUnblock, PRIChannelParams(span: span, channel: position), as: PRISpanReport.self)
            let state = report.channels.first { $0.channel == position }
            options.emit(state) {
                let note = blocked && state?.call != nil ? " (the call on it runs to its end)" : ""
                return "\(span)/\(position): \(blocked ? "blocked" : "in service")\(note)\n"
            }
        }

        static func text(_ report: ChanShowReport) -> String {
            let p = report.parameters
            let kind: String = switch p.signalling {
            case .bearer: "E1 B-channel"
            case .hdlc: "E1 D-channel (HDLC)"
            case .fxoKewlStart: "FXS port (fxoks signalling)"
            case .fxsKewlStart: "FXO port (fxsks signalling)"
            }
            var out = "Channel \(report.span)/\(report.position) (DAHDI channel \(p.channel)): \(kind)\n"
            out += "  law \(p.linear ? "linear 16-bit" : p.law.rawValue), block \(p.blockSize) samples, \(p.isOpen ? "open" : "not open")\n"
            out += "  hook \(p.hookState.rawValue), polarity \(p.polarityReversed ? "reversed" : "normal"), span alarms \(report.spanAlarms.isEmpty ? "OK" : report.spanAlarms.joined(separator: " "))\n"
            if let pri = report.pri {
                out += "  PRI: \(pri.state.rawValue)"
                if let call = pri.call { out += ", call \(call)" }
                if let numbers = pri.numbers { out += ", \(numbers)" }
                if let state = pri.callState { out += " (Q.931 state \(state))" }
                out += "\n"
            }
            return out
        }
    }
}

extension Trunkctl.Span {
    struct Counters: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Line error counters of span N (BPV, CRC-4, FAS, E-bit, errored seconds, slips, D-channel FCS).",
            discussion: """
                Examples:
                  trunkctl span counters 2
                  trunkctl span counters 2 --watch            # every second until Ctrl-C
                  trunkctl span counters 2 --reset            # print, then zero them
                """)
        @OptionGroup var options: CommonOptions
        @Argument(help: "Span number.") var span: Int
        @Flag(help: "Print again every --interval seconds.") var watch = false
        @Option(help: "Seconds between prints with --watch.") var interval: Double = 1
        @Option(help: "With --watch: stop after this many prints (default: until interrupted).") var count: Int?
        @Flag(help: "Zero the counters after printing them.") var reset = false

        func validate() throws {
            guard interval >= 0.1 && interval <= 3600 else { throw ValidationError("--interval must be 0.1…3600 s") }
            if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        }

        func run() throws {
            var printed = 0
            var alarms = false
            repeat {
                if printed > 0 { Thread.sleep(forTimeInterval: interval) }
                let report = try options.client.call(.spanShow, SpanParams(span: span), as: SpanShowReport.self).span
                options.emit(report) { Self.text(report) }
                alarms = !report.status.alarms.isEmpty
                printed += 1
                fflush(nil)  // each print reaches a pipe at once (watching through tee or a log)
            } while watch && (count == nil || printed < count!)
            if reset {
                _ = try options.client.call(.spanResetCounters, SpanParams(span: span), as: SpanReport.self)
                if !options.wantsJSON { print("span \(span): counters reset") }
            }
            if alarms { throw ExitCode(2) }
        }

        static func text(_ report: SpanReport) -> String {
            let c = report.status.counters
            let alarms = report.status.alarms.isEmpty ? "OK" : report.status.alarms.names.joined(separator: " ")
            return "span \(report.status.span) (\(alarms)): BPV \(c.bipolarViolations)  CRC4 \(c.crc4Errors)  FAS \(c.framingErrors)  E-bit \(c.eBitErrors)  "
                + "errored s \(c.erroredSeconds)  slips \(c.slips)  bad FCS \(c.badFCS)  aborts \(c.aborts)  overruns \(c.overruns)\n"
        }
    }
}

extension Trunkctl.Span {
    struct Loopback: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put span N in maintenance loopback: local (hear itself), network (return the line to the far end), or off.",
            discussion: """
                Loopback takes the span out of service while it lasts; the span shows LOOPBACK.
                On DAHDI cards it is DAHDI_MAINT, supported where the card's driver offers it.

                Examples:
                  trunkctl span loopback 2 network     # the carrier tests the line up to our card
                  trunkctl span loopback 2 off
                """)
        @OptionGroup var options: CommonOptions
        @Argument(help: "Span number.") var span: Int
        @Argument(help: "local, network or off.") var mode: String

        func validate() throws {
            guard SpanLoopback(rawValue: mode) != nil else { throw ValidationError("loopback mode must be local, network or off, not '\(mode)'") }
        }

        func run() throws {
            let report = try options.client.call(.spanLoopback, LoopbackParams(span: span, mode: SpanLoopback(rawValue: mode)!), as: SpanReport.self)
            options.emit(report) { "span \(span): loopback \(mode) (alarms: \(report.status.alarms.description))\n" }
        }
    }
}
