import ArgumentParser
import Foundation
import TrunkGateway

extension Trunkctl {
    struct Alarms: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Alarm history: span alarms, D-channel down, slips, clock source changes, configuration applies.",
            discussion: """
                Times are UTC. Exit status 2 while any alarm is active.

                Examples:
                  trunkctl alarms --active
                  trunkctl alarms --since 2h
                  trunkctl alarms --since 2026-11-30T08:00:00Z --json
                """)
        @OptionGroup var options: CommonOptions
        @Flag(help: "Only alarms not yet cleared.") var active = false
        @Option(help: "Only alarms raised since: 30m, 2h, 7d, or an ISO 8601 time (2026-11-30T08:00:00Z).") var since: String?

        func validate() throws {
            if let since, Self.parseSince(since, now: Date()) == nil {
                throw ValidationError("--since must be like 30m, 2h, 7d or 2026-11-30T08:00:00Z, not '\(since)'")
            }
        }

        static func parseSince(_ text: String, now: Date) -> Double? {
            if let unit = text.last, let amount = Double(text.dropLast()), amount >= 0 {
                let seconds: Double? = switch unit {
                case "s": 1
                case "m": 60
                case "h": 3600
                case "d": 86_400
                default: nil
                }
                if let seconds { return now.timeIntervalSince1970 - amount * seconds }
            }
            return ISO8601DateFormatter().date(from: text)?.timeIntervalSince1970
        }

        func run() throws {
            let params = AlarmsParams(activeOnly: active, since: since.flatMap { Self.parseSince($0, now: Date()) })
            let report = try options.client.call(.alarms, params, as: AlarmsReport.self)
            options.emit(report) { StatusText.alarms(report) }
            if report.activeCount > 0 { throw ExitCode(2) }
        }
    }
}

extension StatusText {
    static func utc(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    static func alarms(_ report: AlarmsReport) -> String {
        var out = "\(report.activeCount) active alarm(s); history kept \(report.historyDays) days\n"
        guard !report.alarms.isEmpty else { return out + "no alarms recorded\n" }
        out += "RAISED (UTC)         CLEARED (UTC)        SEVERITY    SPAN  ALARM          MESSAGE\n"
        for alarm in report.alarms {
            let cleared = alarm.clearedAt.map(utc) ?? "ACTIVE"
            let span = alarm.span.map(String.init) ?? "-"
            let who = alarm.user.map { " (by \($0))" } ?? ""
            out += "\(utc(alarm.raisedAt).column(21))\(cleared.column(21))\(alarm.severity.rawValue.column(12))\(span.column(6))\(alarm.kind.column(15))\(alarm.message)\(who)\n"
        }
        return out
    }
}

extension String {
    func column(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
