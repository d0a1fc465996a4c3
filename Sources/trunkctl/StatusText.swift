import Foundation
import TrunkGateway
import TrunkHardware

/// Text shapes technicians know from dahdi_scan, `dahdi show status` and `pri show spans`.
enum StatusText {
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func leftPad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    static func channels(_ status: SpanStatus) -> String {
        switch status.type {
        case .e1: return "\(status.totalChannels) (30B+D)"
        case .analog:
            let kind = status.description.contains("FXS") ? "FXS" : "FXO"
            return "\(status.totalChannels) \(kind)"
        }
    }

    static func uptime(_ seconds: Double) -> String {
        let total = Int(seconds)
        return String(format: "%02d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
    }

    static func status(_ report: StatusReport) -> String {
        var out = "Trunkline \(report.version) on \(report.node), up \(uptime(report.uptimeSeconds)); "
        out += "timing source: \(report.syncSource == 0 ? "internal clock" : "span \(report.syncSource)")\n\n"
        out += "SPAN  TYPE    ROLE     ALARMS        CHANNELS     OPEN  FRAMING   DESCRIPTION\n"
        for span in report.spans {
            let status = span.status
            out += leftPad(String(status.span), 4) + "  "
            out += pad(status.type.rawValue, 8)
            out += pad(status.role?.rawValue ?? "-", 9)
            out += pad(status.alarms.description, 14)
            out += pad(channels(status), 13)
            out += leftPad(String(span.channelsOpen), 4) + "  "
            out += pad(status.framing ?? "-", 10)
            out += status.description
            if span.impairments != nil { out += " [impaired]" }
            out += "\n"
        }
        let analog = report.spans.filter { $0.status.type == .analog }
        if !analog.isEmpty {
            let fxs = analog.filter { $0.status.description.contains("FXS") }.reduce(0) { $0 + $1.status.totalChannels }
            let fxo = analog.filter { $0.status.description.contains("FXO") }.reduce(0) { $0 + $1.status.totalChannels }
            out += "\nAnalog ports: \(fxs + fxo) (\(fxs) FXS, \(fxo) FXO)\n"
        }
        if let blocked = report.maintenance, !blocked.isEmpty {
            out += "Maintenance: " + blocked.map { "\($0.address) \($0.maintenance.text)" }.joined(separator: ", ") + "\n"
        }
        out += "\n"
        for backend in report.backends { out += "\(pad(backend.name + ":", 9)) \(backend.detail)\n" }
        return out
    }

    static func spanShow(_ report: SpanShowReport) -> String {
        let status = report.span.status
        var out = "Span \(status.span): \(status.name) \"\(status.description)\"\n"
        out += "  Type: \(status.type.rawValue)"
        if let role = status.role { out += "   Role: \(role.rawValue) side" }
        if let framing = status.framing { out += "   Framing: \(framing)" }
        if let code = status.lineCode { out += "   Line code: \(code)" }
        out += "   Timing priority: \(status.timingPriority)\n"
        out += "  Alarms: \(status.alarms.description)\n"
        let c = status.counters
        if status.type == .e1 {
            out += "  Counters: BPV \(c.bipolarViolations)   CRC4 \(c.crc4Errors)   FAS \(c.framingErrors)   E-bit \(c.eBitErrors)"
            out += "   Errored seconds \(c.erroredSeconds)   Slips \(c.slips)\n"
            out += "  D-channel: bad FCS \(c.badFCS)   aborts \(c.aborts)   overruns \(c.overruns)\n"
        }
        out += "  Impairments: \(impairments(report.span.impairments))\n"
        out += "  Channels (first \(status.baseChannel), \(status.totalChannels) in all):\n"
        out += "    CHAN  POS  SIGNALLING  LAW    HOOK       OPEN\n"
        for channel in report.channels {
            out += "    " + leftPad(String(channel.channel), 4) + "  " + leftPad(String(channel.chanPos), 3) + "  "
            out += pad("\(channel.signalling.rawValue) (\(channel.signalling.portName))", 12)
            out += pad(channel.law.rawValue, 7)
            out += pad(channel.signalling == .bearer || channel.signalling == .hdlc ? "-" : channel.hookState.rawValue, 11)
            out += channel.isOpen ? "yes" : "no"
            out += "\n"
        }
        return out
    }

    static func impairments(_ impairments: Impairments?) -> String {
        guard let i = impairments, !i.isClean else { return "none" }
        var parts: [String] = []
        if i.cut { parts.append("cable cut") }
        if i.alarmIndicationSignal { parts.append("AIS") }
        if i.bitErrorRate > 0 { parts.append("BER \(i.bitErrorRate)\(i.bitErrorsOnDChannelOnly ? " (D-channel only)" : "")") }
        if i.delayMs > 0 { parts.append("delay \(i.delayMs) ms") }
        if i.slipEveryMs > 0 { parts.append("slip every \(i.slipEveryMs) ms") }
        if i.echoModel > 0 { parts.append("echo G.168 model \(i.echoModel), ERL \(i.echoReturnLossDB) dB, \(i.echoDelayMs) ms") }
        return parts.joined(separator: ", ")
    }

    static func timing(_ report: TimingReport) -> String {
        var out = String(format: "Timing accuracy over %.1f s: %.4f%% (%@)\n", report.sampleSeconds, report.accuracyPercent,
                         report.realtime ? "SCHED_FIFO" : "normal priority")
        out += "Tick lateness: p50 < \(report.latenessP50Microseconds) µs, p99 < \(report.latenessP99Microseconds) µs, "
        out += "p99.9 < \(report.latenessP999Microseconds) µs, max \(report.latenessMaxMicroseconds) µs\n"
        out += "Ticks: \(report.ticks), given up after stalls: \(report.skippedTicks)\n"
        return out
    }
}
