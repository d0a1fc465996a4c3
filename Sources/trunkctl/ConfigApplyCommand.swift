import ArgumentParser
import Foundation
import TrunkGateway

extension Trunkctl.Config {
    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a configuration file to the running trunkd: only what changed, calls on untouched spans stay up.",
            discussion: """
                trunkd checks the file, compares it with what it runs and prints the diff. Lines marked
                "!" need a trunkd restart (spans added or re-framed, CTI listeners, …); the rest is
                applied live. A file with errors is refused and the running configuration stays.
                Every apply is logged and kept in the alarm history with the OS user who ran it.

                Examples:
                  trunkctl config apply --dry-run /etc/trunkline/trunkline.toml   # show the diff only
                  trunkctl config apply /etc/trunkline/trunkline.toml
                """)
        @OptionGroup var options: CommonOptions
        @Argument(help: "The file (default: /etc/trunkline/trunkline.toml).") var file: String = TrunklineConfig.defaultPath
        @Flag(help: "Show what would change; change nothing.") var dryRun = false

        func run() throws {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                FileHandleStandardError.write("\(file): cannot read: \((error as NSError).localizedDescription)\n")
                throw ExitCode.failure
            }
            let path = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
            let result = try options.client.call(.configApply, ConfigApplyParams(file: path, text: text, dryRun: dryRun), as: ConfigApplyResult.self)
            options.emit(result) {
                if result.diff.isEmpty { return "\(result.file): no changes: trunkd already runs this configuration\n" }
                let verb = result.dryRun ? "would change" : (result.applied ? "applied" : "nothing applied live")
                return "\(result.file): \(verb)\(result.diff.isEmpty ? "" : ":")\n" + (result.diff.isEmpty ? "" : result.diff.text)
                    + (result.diff.needsRestart ? "(! = needs a trunkd restart)\n" : "")
            }
        }
    }
}
