import ArgumentParser
import Foundation
import TrunkCore
import TrunkGateway

// Errors end in one line on standard error and exit 1; integrity problems and alarms exit 2.
do {
    var command = try Trunkrec.parseAsRoot()
    try command.run()
} catch let error as TrunkError {
    FileHandleStandardError.write("trunkrec: \(error.message)\n")
    exit(1)
} catch let error as ConfigErrors {
    FileHandleStandardError.write("\(error.description)\n")
    exit(1)
} catch let code as ExitCode {
    exit(code.rawValue)
} catch {
    if Trunkrec.exitCode(for: error) == .success {
        print(Trunkrec.fullMessage(for: error))
        exit(0)
    }
    let message = Trunkrec.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    FileHandleStandardError.write("trunkrec: \(message)\n")
    exit(1)
}
