import Foundation
import Testing

/// The CTI socket on the embedded default, driven by the example client an integrator starts from.
@Suite("CTI socket from outside")
struct CTICommandLineTests {
    @Test("the example client logs in with the data folder's token, claims a DNIS, answers, plays, collects 1234 and hangs up")
    func exampleClient() throws {
        let data = temporaryDataFolder()
        let trunkd = try Daemon("trunkd", ["--data", data, "--cti-port", "0"])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        let token = try String(contentsOfFile: data + "/cti-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let attributes = try FileManager.default.attributesOfItem(atPath: data + "/cti-token")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/cti_client.py").path
        client.arguments = ["python3", example, "--unix", data + "/cti.sock", "--token", token, "--dnis", "955XX", "--wait", "30"]
        let output = Pipe()
        client.standardOutput = output
        client.standardError = output
        try client.run()
        let text = ReadAll(output.fileHandleForReading)
        // The client logs in (the audit log says so), then claims at once.
        for _ in 0..<100 {
            if let audit = try? String(contentsOfFile: data + "/cti-audit.jsonl", encoding: .utf8), audit.contains("lab-admin") { break }
            usleep(100_000)
        }
        usleep(1_000_000)
        var placed = false
        for _ in 0..<50 where !placed {
            usleep(200_000)
            placed = try run("trunkctl", ["--data", data, "sim", "call", "95500", "--from", "13800138000", "--dtmf", "1234"]).status == 0
        }
        #expect(placed)
        client.waitUntilExit()
        let log = text.wait()
        #expect(client.terminationStatus == 0, "\(log)")
        #expect(log.contains("13800138000 -> 95500"))
        #expect(log.contains("caller entered '1234'"))
        #expect(log.contains("hung up (cause 16)"))
        // Every login is in the audit log.
        let audit = try String(contentsOfFile: data + "/cti-audit.jsonl", encoding: .utf8)
        #expect(audit.contains("lab-admin"))
    }
}
