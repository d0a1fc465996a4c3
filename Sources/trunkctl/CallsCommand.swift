import ArgumentParser
import Foundation
import TrunkGateway

extension Trunkctl {
    struct Calls: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calls on this node: live ones, or the most recent ended ones.",
            discussion: """
                Examples:
                  trunkctl calls --live
                  trunkctl calls --json
                """)
        @OptionGroup var options: CommonOptions
        @Flag(help: "Only calls in progress.") var live = false

        func run() throws {
            let report = try options.client.call(.calls, NoParams(), as: CallsReport.self)
            let calls = live ? report.live : report.live + report.recentlyEnded
            var shown = report
            if live { shown.recentlyEnded = [] }
            options.emit(shown) { Self.text(calls) }
        }

        static func text(_ calls: [CallRecord]) -> String {
            guard !calls.isEmpty else { return "no calls\n" }
            var out = "CALL-ID                               DIR       TRUNK  SPAN/CH  CALLER          CALLEE          STATE      CAUSE\n"
            for call in calls {
                out += StatusText.pad(call.callID, 38) + StatusText.pad(call.direction.rawValue, 10) + StatusText.pad(call.trunk, 7)
                out += StatusText.pad("\(call.span)/\(call.channel.map(String.init) ?? "-")", 9)
                out += StatusText.pad(call.caller ?? "-", 16) + StatusText.pad(call.callee ?? "-", 16)
                out += StatusText.pad(call.state.rawValue, 11) + (call.cause.map(String.init) ?? "-") + "\n"
            }
            return out
        }
    }
}
