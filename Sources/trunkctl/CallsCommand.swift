import ArgumentParser
import Foundation
import TrunkGateway

extension Trunkctl {
    struct Calls: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calls: live ones from trunkd, or the call detail records of a period.",
            discussion: """
                Without --from/--to the live and most recently ended calls are asked of trunkd.
                With them, the call records are read from the data folder's store (trunkd need
                not run). Times: ISO 8601 (2026-11-30T09:00:00Z) or relative (-15m, -2h, -1d).

                Examples:
                  trunkctl calls --live
                  trunkctl calls --from -1h --json
                  trunkctl calls --from 2026-11-30T00:00:00Z --to 2026-12-01T00:00:00Z --csv > day.csv
                  trunkctl calls stats --from -1d
                """,
            subcommands: [List.self, Stats.self],
            defaultSubcommand: List.self)
    }
}

extension Trunkctl.Calls {
    struct Period: ParsableArguments {
        @Option(parsing: .unconditional, help: "Start of the period (ISO 8601 or -15m/-2h/-1d).") var from: String?
        @Option(parsing: .unconditional, help: "End of the period (default: now).") var to: String?

        func range() throws -> (Date, Date) {
            let now = Date()
            let start = try from.map { try Self.parse($0, now: now) } ?? now.addingTimeInterval(-86_400)
            let end = try to.map { try Self.parse($0, now: now) } ?? now.addingTimeInterval(1)
            guard start < end else { throw ValidationError("--from must be before --to") }
            return (start, end)
        }

        static func parse(_ text: String, now: Date) throws -> Date {
            if text.hasPrefix("-"), let unit = text.last, let value = Double(text.dropFirst().dropLast()) {
                let seconds: Double? = switch unit {
                case "s": value
                case "m": value * 60
                case "h": value * 3600
                case "d": value * 86_400
                default: nil
                }
                if let seconds { return now.addingTimeInterval(-seconds) }
            }
            let formatter = ISO8601DateFormatter()
            if let date = formatter.date(from: text) { return date }
            formatter.formatOptions = [.withFullDate]
            if let date = formatter.date(from: text) { return date }
            throw ValidationError("cannot read the time '\(text)': use ISO 8601 (2026-11-30T09:00:00Z) or -15m, -2h, -1d")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Live calls, or the records of a period.")
        @OptionGroup var options: CommonOptions
        @OptionGroup var period: Period
        @Flag(help: "Only calls in progress.") var live = false
        @Flag(help: "Comma-separated values, one call per line.") var csv = false

        func run() throws {
            if period.from != nil || period.to != nil {
                let (start, end) = try period.range()
                let store = try CDRStore(path: DataFolder.resolve(options.data).callRecordsPath, readOnly: true)
                let calls = try store.calls(.init(from: start, to: end))
                if csv { print(CallRecordCSV.render(calls), terminator: "") } else { options.emit(calls) { Self.text(calls) } }
                return
            }
            let report = try options.client.call(.calls, NoParams(), as: CallsReport.self)
            var shown = report
            if live { shown.recentlyEnded = [] }
            let calls = shown.live + shown.recentlyEnded
            if csv { print(CallRecordCSV.render(calls), terminator: "") } else { options.emit(shown) { Self.text(calls) } }
        }

        static func text(_ calls: [CallRecord]) -> String {
            guard !calls.isEmpty else { return "no calls\n" }
            var out = "CALL-ID                               DIR       TRUNK  SPAN/CH  CALLER          CALLEE          STATE           CAUSE\n"
            for call in calls {
                out += StatusText.pad(call.callID, 38) + StatusText.pad(call.direction.rawValue, 10) + StatusText.pad(call.trunk.rawValue, 7)
                out += StatusText.pad(call.address.description, 9)
                out += StatusText.pad(call.caller ?? "-", 16) + StatusText.pad(call.callee ?? "-", 16)
                let state = call.isEnded ? "ended" + (call.failure.map { " (\($0.rawValue))" } ?? "") : call.state.rawValue
                out += StatusText.pad(state, 16) + (call.cause.map(String.init) ?? "-") + "\n"
            }
            return out
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Traffic per interval and trunk group: offered, answered, abandoned, blocked, answer delay.")
        @OptionGroup var options: CommonOptions
        @OptionGroup var period: Period
        @Option(help: "Interval length in minutes.") var interval = 15

        func run() throws {
            let (start, end) = try period.range()
            let store = try CDRStore(path: DataFolder.resolve(options.data).callRecordsPath, readOnly: true)
            let stats = IntervalStatistics.compute(try store.calls(.init(from: start, to: end)), intervalSeconds: interval * 60)
            options.emit(stats) {
                guard !stats.isEmpty else { return "no calls in that period\n" }
                let formatter = ISO8601DateFormatter()
                var out = "INTERVAL              GROUP   DIR       OFFERED ANSWERED ABANDONED BLOCKED  DELAY-AVG  P50      P99      ASR\n"
                for s in stats {
                    out += StatusText.pad(formatter.string(from: s.intervalStart), 22) + StatusText.pad(s.trunkGroup, 8)
                    out += StatusText.pad(s.direction.rawValue, 10) + StatusText.pad("\(s.offered)", 8) + StatusText.pad("\(s.answered)", 9)
                    out += StatusText.pad("\(s.abandoned)", 10) + StatusText.pad("\(s.blocked)", 9)
                    out += StatusText.pad(Self.ms(s.answerDelayAverageMs), 11) + StatusText.pad(Self.ms(s.answerDelayP50Ms), 9)
                    out += StatusText.pad(Self.ms(s.answerDelayP99Ms), 9)
                    out += s.seizureToAnswerRatio.map { String(format: "%.1f%%", $0 * 100) } ?? "-"
                    out += "\n"
                }
                return out
            }
        }

        static func ms(_ value: Double?) -> String { value.map { String(format: "%.0f ms", $0) } ?? "-" }
    }
}
