import ArgumentParser
import Foundation
import TrunkGateway

extension Trunkctl.Config {
    struct ImportDahdi: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-dahdi",
            abstract: "Convert a DAHDI system.conf (and Asterisk chan_dahdi.conf) into a Trunkline configuration.",
            discussion: """
                Spans (span=, bchan=, dchan=/hardhdlc=), analog ports (fxoks=, fxols=, fxsks=, fxsls=),
                echocanceller=, loadzone=/defaultzone=, and chan_dahdi.conf's signalling=, switchtype=,
                echocancel=, group=, cidsignalling=, rxgain=/txgain= and channel => ranges carry over.
                Asterisk contexts are dialplan and are listed as a comment. The result is checked
                before it is printed; notes on what did not carry over exactly go to stderr.

                Examples:
                  trunkctl config import-dahdi /etc/dahdi/system.conf /etc/asterisk/chan_dahdi.conf -o trunkline.toml
                  trunkctl config import-dahdi /etc/dahdi/system.conf > trunkline.toml
                """)
        @Argument(help: "DAHDI's system.conf.") var systemConf: String
        @Argument(help: "Asterisk's chan_dahdi.conf (optional).") var chanDahdi: String?
        @Option(name: .shortAndLong, help: "Write the configuration to FILE instead of stdout.") var output: String?
        @Flag(help: "Print JSON ({toml, notes}) instead of text.") var json = false

        func read(_ path: String) throws -> DAHDIImport.Source {
            do {
                return DAHDIImport.Source(file: path, text: try String(contentsOfFile: path, encoding: .utf8))
            } catch {
                FileHandleStandardError.write("\(path): cannot read: \((error as NSError).localizedDescription)\n")
                throw ExitCode.failure
            }
        }

        /// The converted file, checked as `config check` would; problems go to stderr.
        func convert(_ system: DAHDIImport.Source, _ chan: DAHDIImport.Source?) -> DAHDIImport.Result? {
            do throws(ConfigErrors) {
                let result = try DAHDIImport.convert(systemConf: system, chanDahdi: chan)
                _ = try TrunklineConfig.parse(text: result.toml, file: output ?? "(imported)")
                return result
            } catch {
                for problem in error.errors { FileHandleStandardError.write("\(problem)\n") }
                return nil
            }
        }

        func run() throws {
            let system = try read(systemConf)
            var chan: DAHDIImport.Source?
            if let chanDahdi { chan = try read(chanDahdi) }
            guard let result = convert(system, chan) else { throw ExitCode.failure }
            if let output {
                try result.toml.write(toFile: output, atomically: true, encoding: .utf8)
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: ["toml": result.toml, "notes": result.notes, "output": output.map { $0 as Any } ?? NSNull()],
                                                      options: [.sortedKeys, .prettyPrinted])
                print(String(decoding: data, as: UTF8.self))
            } else {
                if output == nil { print(result.toml, terminator: "") } else { print("\(output!): written") }
                for note in result.notes { FileHandleStandardError.write("note: \(note)\n") }
            }
        }
    }
}
