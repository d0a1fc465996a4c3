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
    /// Blocking, the call model's state and a test tone (absent where no call service runs).
    var maintenance: ChannelMaintenanceReport?
}

extension Trunkctl {
    struct Chan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One channel: show it, take it out of service and back, test its line.",
            discussion: """
                Channels are named SPAN/POSITION: the E1 timeslot (1-31) or the analog port (1-24).

                Examples:
                  trunkctl chan show 2/5
                  trunkctl chan block 2/5              # no new calls on it; a call already up runs to its end
                  trunkctl chan block 4/1 --force      # an FXO line: busied out now, its call cleared (cause 8)
                  trunkctl chan unblock 2/5
                  trunkctl chan tone 1/1 1004Hz -10dBm0    # test tone from the carrier's side …
                  trunkctl chan level 2/1                  # … measured at the trunk: about -10 dBm0 at 1004 Hz
                  trunkctl chan tone 1/1 off
                  trunkctl chan monitor 2/5 --stereo -o call.wav --seconds 30
                """,
            subcommands: [Show.self, Block.self, Unblock.self, Tone.self, Level.self, Monitor.self])

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
                let maintenance = try? options.client.call(.chanState, ChannelAddressParams(span: span, channel: position), as: ChannelMaintenanceReport.self)
                let report = ChanShowReport(span: span, position: position, parameters: parameters, spanAlarms: show.span.status.alarms.names,
                                            pri: pri, maintenance: maintenance)
                options.emit(report) { Chan.text(report) }
                if !report.spanAlarms.isEmpty { throw ExitCode(2) }
            }
        }

        struct Block: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Maintenance blocking: SPAN/POSITION takes no new calls.",
                discussion: """
                    PRI B-channel: local blocking, never hunted. FXO line: busied out — held off hook, so the
                    exchange finds it busy and hunts past it — never hunted for outbound calls, a ring on it
                    never answered. FXS port: never rung. A call already up runs to its end ("blocking
                    pending"); --force clears it now with cause 8 (preemption).

                    Examples:
                      trunkctl chan block 2/5
                      trunkctl chan block 4/1 --force
                    """)
            @OptionGroup var options: CommonOptions
            @Argument(help: "SPAN/POSITION, e.g. 2/5.") var target: String
            @Flag(help: "Clear a call on the channel now (cause 8, preemption) instead of waiting for its end.") var force = false
            func run() throws { try Chan.setBlocking(options, target, blocked: true, force: force) }
        }

        struct Unblock: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Return SPAN/POSITION to service (an FXO line goes back on hook).")
            @OptionGroup var options: CommonOptions
            @Argument(help: "SPAN/POSITION, e.g. 2/5.") var target: String
            func run() throws { try Chan.setBlocking(options, target, blocked: false, force: false) }
        }

        static func parse(_ target: String) throws(TrunkError) -> (Int, Int) {
            let parts = target.split(separator: "/")
            guard parts.count == 2, let span = Int(parts[0]), let position = Int(parts[1]), span >= 1, position >= 1 else {
                throw TrunkError(.invalidArgument, "a channel is SPAN/POSITION, e.g. 2/5, not '\(target)'")
            }
            return (span, position)
        }

        static func setBlocking(_ options: CommonOptions, _ target: String, blocked: Bool, force: Bool) throws {
            let (span, position) = try parse(target)
            let report = try options.client.call(blocked ? .chanBlock : .chanUnblock, ChannelBlockParams(span: span, channel: position, force: force),
                                                 as: ChannelMaintenanceReport.self)
            options.emit(report) { blockText(report) }
        }

        static func blockText(_ report: ChannelMaintenanceReport) -> String {
            switch report.maintenance {
            case .inService:
                return "\(report.address): in service\n"
            case .blockingPending:
                return "\(report.address): blocking pending (call \(report.call ?? "?") runs to its end; --force clears it)\n"
            case .blocked:
                var notes: [String] = []
                if let cleared = report.clearedCall { notes.append("call \(cleared) cleared, cause 8 preemption") }
                if report.kind == "fxo" { notes.append("the line is busied out: off hook, the exchange sees it busy") }
                if report.kind == "fxs" { notes.append("the port is never rung") }
                return "\(report.address): blocked" + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))") + "\n"
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
            if let m = report.maintenance {
                switch m.maintenance {
                case .inService: break
                case .blocked:
                    out += "  maintenance: blocked" + (m.busiedOut == true ? " (busied out: held off hook)" : "") + "\n"
                case .blockingPending:
                    out += "  maintenance: blocking pending (call \(m.call ?? "?") runs to its end)\n"
                }
                if let tone = m.testTone, let hz = tone.frequencyHz, let level = tone.levelDBm0 {
                    out += "  test tone: \(hz) Hz at \(LineTestText.level(level)) dBm0\n"
                }
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
