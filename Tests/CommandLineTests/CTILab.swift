import Foundation
import Testing
import TrunkGateway

/// trunkd on the embedded default with the lab's far end driven through trunkctl: the carrier's
/// subscribers place calls (`sim call`) and are listened to where their ear would be
/// (`sim listen`). The CTI side is only ever touched through the socket.
final class CTILab: @unchecked Sendable {
    let data: String
    let daemon = Process()
    let token: String
    /// trunkd's log, in a file so that a test can watch it while trunkd runs.
    var logPath: String { data + "/trunkd.log" }

    /// `realtime`: trunkd asks for SCHED_FIFO for its tick thread (`--realtime`), as a production
    /// node does, so its tick lateness measures trunkd and not the other work on the machine.
    init(realtime: Bool = false) throws {
        data = temporaryDataFolder()
        _ = FileManager.default.createFile(atPath: data + "/trunkd.log", contents: nil)
        daemon.executableURL = URL(fileURLWithPath: Binaries.path("trunkd"))
        daemon.arguments = ["--data", data, "--cti-port", "0"] + (realtime ? ["--realtime"] : [])
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: data + "/trunkd.log"))
        try daemon.run()
        try waitUntilAnswering(["--data", data])
        var token = ""
        for _ in 0..<100 where token.isEmpty {
            token = (try? String(contentsOfFile: data + "/cti-token", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if token.isEmpty { usleep(50_000) }
        }
        self.token = token
        // The socket appears once the CTI service has started.
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socketPath) { usleep(50_000) }
    }

    var socketPath: String { data + "/cti.sock" }

    /// A client that has read the greeting and logged in with the lab's admin token.
    func client(name: String, receiveBuffer: Int? = nil) throws -> CTISocketClient {
        let client = try CTISocketClient(unixPath: socketPath, receiveBuffer: receiveBuffer)
        guard client.wait(timeout: 10, { $0["method"] as? String == "session.greeting" }) != nil else {
            throw CTISocketClient.Failure(description: "no greeting on \(socketPath)")
        }
        try client.call("session.login", ["token": token, "version": 1, "client": name])
        return client
    }

    /// The carrier's subscriber calls the gateway on B-channel `channel` of span 1.
    func call(_ number: String, from: String, channel: Int, dtmf: String? = nil) throws {
        var arguments = ["--data", data, "sim", "call", number, "--from", from, "--channel", String(channel)]
        if let dtmf { arguments += ["--dtmf", dtmf] }
        let result = try run("trunkctl", arguments)
        guard result.status == 0 else {
            throw CTISocketClient.Failure(description: "trunkctl sim call failed (\(result.status)): \(result.stderr)")
        }
    }

    /// What the carrier's subscribers on these B-channels hear while each sends its tone.
    func listen(_ parties: [(channel: Int, sendHz: Int?)], hz: [Int], ms: Int = 500) throws -> SimListenResult {
        var arguments = ["--data", data, "sim", "listen", "--json", "--ms", String(ms)]
        arguments += parties.map { party in party.sendHz.map { "\(party.channel):\($0)" } ?? "\(party.channel)" }
        for frequency in hz { arguments += ["--hz", String(frequency)] }
        let result = try run("trunkctl", arguments)
        guard result.status == 0 else {
            throw CTISocketClient.Failure(description: "trunkctl sim listen failed (\(result.status)): \(result.stderr)")
        }
        return try JSONDecoder().decode(SimListenResult.self, from: Data(result.stdout.utf8))
    }

    /// Tick lateness of the media loop's clock over `seconds` (`trunkctl test timing`).
    func timing(seconds: Double) throws -> TimingReport {
        let result = try run("trunkctl", ["--data", data, "test", "timing", "--json", "--seconds", String(seconds)], timeout: seconds + 30)
        guard result.status == 0 else {
            throw CTISocketClient.Failure(description: "trunkctl test timing failed (\(result.status)): \(result.stderr)")
        }
        return try JSONDecoder().decode(TimingReport.self, from: Data(result.stdout.utf8))
    }

    /// Waits until trunkd's log has a line containing `text`.
    func waitForLog(_ text: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let log = try? String(contentsOfFile: logPath, encoding: .utf8), log.contains(text) { return true }
            usleep(20_000)
        }
        return false
    }

    /// SIGTERM, then wait (SIGKILL after 10 s); the data folder goes with it.
    func stop() {
        if daemon.isRunning { daemon.terminate() }
        let deadline = Date().addingTimeInterval(10)
        while daemon.isRunning && Date() < deadline { usleep(10_000) }
        if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) }
        daemon.waitUntilExit()
        try? FileManager.default.removeItem(atPath: data)
    }
}

extension SimListenResult {
    func party(_ channel: Int) -> Heard? { parties.first { $0.channel == channel } }
}
