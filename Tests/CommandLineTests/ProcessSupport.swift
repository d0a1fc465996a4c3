import Foundation
import Testing

/// Runs the built executables the way a technician does, and captures what they print.
enum Binaries {
    /// The folder holding trunkd, trunkctl and trunksim from this build.
    static let folder: URL = {
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.appendingPathComponent("trunkd").path) {
            return candidate
        }
        return candidates[0]
    }()

    static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
}

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a command to completion (bounded by `timeout`), with stdout and stderr captured.
func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 60, absolute: Bool = false) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: absolute ? executable : Binaries.path(executable))
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Drain both pipes while waiting so a chatty command cannot block on a full pipe.
    let outData = ReadAll(out.fileHandleForReading)
    let errData = ReadAll(err.fileHandleForReading)
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
        Issue.record("\(executable) \(arguments) did not finish within \(timeout) s")
    }
    process.waitUntilExit()
    return RunResult(status: process.terminationStatus, stdout: outData.wait(), stderr: errData.wait())
}

/// Reads a pipe to EOF on a background thread.
final class ReadAll: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)
    private var text: String?

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    /// The whole output, once the writer has closed the pipe; later calls return the same text.
    func wait() -> String {
        if let text { return text }
        done.wait()
        let result = String(decoding: data, as: UTF8.self)
        text = result
        return result
    }
}

/// A daemon (trunkd or trunksim) started for a test, stopped with SIGTERM at the end.
final class Daemon {
    let process = Process()
    let stderrPipe = Pipe()
    private let stderrText: ReadAll

    /// `environment`: variables set (or replaced) for the daemon on top of the test's own.
    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: Binaries.path(executable))
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderrPipe
        try process.run()
        stderrText = ReadAll(stderrPipe.fileHandleForReading)
    }

    /// SIGTERM, then wait; returns the exit status and what it logged.
    @discardableResult
    func stop() -> (status: Int32, log: String) {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return (process.terminationStatus, stderrText.wait())
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// A fresh data folder under the system temporary directory.
func temporaryDataFolder() -> String {
    let path = NSTemporaryDirectory() + "trunkline-test-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Waits until `trunkctl status` answers (trunkd is up), or fails after `timeout`.
func waitUntilAnswering(_ arguments: [String], timeout: TimeInterval = 20) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let result = try run("trunkctl", arguments + ["status", "--json"])
        if result.status == 0 || result.status == 2 { return }
        usleep(100_000)
    }
    Issue.record("no answer from \(arguments) within \(timeout) s")
}

/// Polls until `condition` holds on the JSON status, for alarm changes that take a few ticks.
func waitForStatus(_ arguments: [String], timeout: TimeInterval = 5, _ condition: ([String: Any]) -> Bool) throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let result = try run("trunkctl", arguments + ["status", "--json"])
        if let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], condition(object) { return true }
        usleep(50_000)
    }
    return false
}

/// The alarm bits of each span in a JSON status report.
func alarmsBySpan(_ status: [String: Any]) -> [Int: Int] {
    var result: [Int: Int] = [:]
    for span in status["spans"] as? [[String: Any]] ?? [] {
        if let inner = span["status"] as? [String: Any], let number = inner["span"] as? Int, let alarms = inner["alarms"] as? Int {
            result[number] = alarms
        }
    }
    return result
}
