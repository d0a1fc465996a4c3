import ArgumentParser
import Foundation
import TrunkCore
import TrunkGateway
import TrunkHardware

extension Trunkctl {
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Configuration files.",
            subcommands: [Check.self, Apply.self, ImportDahdi.self])

        struct Check: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Validate a configuration file without touching the running daemon.",
                discussion: """
                    Every problem is printed as FILE:LINE:COLUMN: what is wrong and what is expected.
                    Example:
                      trunkctl config check /etc/trunkline/trunkline.toml
                    """)
            @Argument(help: "The file (default: /etc/trunkline/trunkline.toml).") var file: String = TrunklineConfig.defaultPath
            @Flag(help: "Print JSON instead of text.") var json = false

            func run() throws {
                do {
                    // Where DAHDI's devices are present, analog ports are checked against the kinds they report.
                    let dahdi = DAHDIBackend()
                    let hardware = dahdi.devicesPresent ? (try? dahdi.discover()).map(HardwarePorts.init(dahdiSpans:)) : nil
                    let config = try TrunklineConfig.load(path: file, hardware: hardware)
                    let summary = config.usesEmbeddedDefault
                        ? "\(file): OK (no spans or ports: trunkd would run the embedded default)"
                        : "\(file): OK (\(config.spans.count) span(s), \(config.ports.count) port(s))"
                    let sections = "\(config.analogPorts.count) analog port(s), \(config.trunkGroups.count) trunk group(s), \(config.routes.count) route(s), \(config.cti.tokens.count) CTI token(s), tone zone \(config.tones.zone)"
                    if json {
                        print(#"{"analogPorts":\#(config.analogPorts.count),"ctiTokens":\#(config.cti.tokens.count),"file":"\#(file)","ok":true,"ports":\#(config.ports.count),"routes":\#(config.routes.count),"spans":\#(config.spans.count),"toneZone":"\#(config.tones.zone)","trunkGroups":\#(config.trunkGroups.count)}"#)
                    } else {
                        print(summary)
                        print("  \(sections)")
                    }
                } catch let errors as ConfigErrors {
                    if json {
                        let items = errors.errors.map { error in
                            ["file": error.file, "line": String(error.position.line), "column": String(error.position.column), "message": error.message]
                        }
                        let data = try JSONSerialization.data(withJSONObject: ["ok": false, "errors": items], options: [.sortedKeys])
                        print(String(decoding: data, as: UTF8.self))
                    } else {
                        for error in errors.errors { FileHandleStandardError.write("\(error)\n") }
                    }
                    throw ExitCode.failure
                }
            }
        }
    }
}
