import Foundation
import Testing
@testable import TrunkCTI

/// examples/cti_client.py against a running server: the documented client flow works as written.
@Suite("CTI example client")
struct ExampleClientTests {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/cti_client.py").path

    @Test("the Python example logs in, claims a DNIS, answers, plays, collects digits and hangs up")
    func exampleClientFlow() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Self.script, "--port", "\(server.port)", "--token", TestServer.agentToken, "--dnis", "955XX", "--digits", "4", "--wait", "20"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()

        // The caller: once the claim is in, a call for 95500 arrives and its caller keys 1234.
        var claimed = false
        for _ in 0..<1_000 {
            if await server.backend.performed.contains(where: { if case .claim = $0 { true } else { false } }) {
                claimed = true
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(claimed)
        let callID = await server.backend.offer(channel: 34, ani: "13800138000", dnis: "95500")
        await server.backend.press("1234", on: callID)

        let text = await Task.detached {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }.value
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("caller entered '1234'"))
        let verbs = await server.backend.performed.map { request -> String in
            switch request {
            case .claim: "claim"
            case .answer: "answer"
            case .play: "play"
            case .collect: "collect"
            case .hangup: "hangup"
            default: "other"
            }
        }
        #expect(verbs == ["claim", "answer", "play", "collect", "hangup"])
    }
}
