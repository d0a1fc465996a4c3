import ArgumentParser
import Foundation
import TrunkCore
import TrunkGateway

// Errors end in one line on standard error and exit 1 (ArgumentParser's own usage errors
// included); help and version go to standard output with 0; alarms are the commands' exit 2.
/// Options every command takes may also come before the command (`trunkctl --data D status`).
/// Those are taken here and handed on through the environment CommonOptions reads, so the
/// parser sees the command first and its errors name the real problem.
func takeLeadingOptions(_ arguments: [String]) -> [String] {
    var rest = arguments[...]
    while let first = rest.first, first.hasPrefix("--") {
        let parts = first.split(separator: "=", maxSplits: 1).map(String.init)
        let variable: String
        switch parts[0] {
        case "--data": variable = "TRUNKLINE_DATA"
        case "--socket": variable = "TRUNKCTL_SOCKET"
        case "--json":
            setenv("TRUNKCTL_JSON", "1", 1)
            rest = rest.dropFirst()
            continue
        default: return Array(rest)
        }
        rest = rest.dropFirst()
        let value: String
        if parts.count == 2 {
            value = parts[1]
        } else if let next = rest.first {
            value = next
            rest = rest.dropFirst()
        } else {
            FileHandleStandardError.write("trunkctl: \(parts[0]) needs a value\n")
            exit(1)
        }
        setenv(variable, value, 1)
    }
    return Array(rest)
}

let arguments = takeLeadingOptions(Array(CommandLine.arguments.dropFirst()))
let commandNames = Trunkctl.configuration.subcommands.map { $0._commandName }
if let first = arguments.first, !first.hasPrefix("-"), !commandNames.contains(first), first != "help" {
    FileHandleStandardError.write("trunkctl: unknown command '\(first)' (commands: \(commandNames.joined(separator: ", ")); see trunkctl --help)\n")
    exit(1)
}

do {
    var command = try Trunkctl.parseAsRoot(arguments)
    try command.run()
} catch let error as TrunkError {
    FileHandleStandardError.write("trunkctl: \(error.message)\n")
    exit(1)
} catch let code as ExitCode {
    exit(code.rawValue)
} catch {
    if Trunkctl.exitCode(for: error) == .success {
        print(Trunkctl.fullMessage(for: error))
        exit(0)
    }
    let message = Trunkctl.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    FileHandleStandardError.write("trunkctl: \(message) (see trunkctl --help)\n")
    exit(1)
}
