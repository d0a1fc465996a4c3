import Foundation
import Testing

/// The embedded default's analog lines through the built trunkd and trunkctl: the lab exchange
/// rings an FXO line with caller ID, the built-in flow answers and collects the digits.
@Suite("Analog calls from the command line", .serialized)
struct AnalogCallsCommandLineTests {
    @Test("sim call --span 3 --port 2 --cid fsk|dtmf --dtmf 123#: the FXO line's call goes through the flow with the caller's number",
          arguments: ["dtmf", "fsk"])
    func exchangeCallThroughTheFlow(cid: String) throws {
        let data = temporaryDataFolder()
        let trunkd = try Daemon("trunkd", ["--data", data])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        let placed = try run("trunkctl", ["--data", data, "sim", "call", "95500", "--from", "13800138000", "--span", "3", "--port", "2",
                                          "--cid", cid, "--dtmf", "123#"])
        #expect(placed.status == 0, "\(placed.stderr)")
        #expect(placed.stdout.hasPrefix("exchange call ") && placed.stdout.contains(" on 3/2: 13800138000 → 95500"))
        var record: [String: Any]?
        for _ in 0..<250 where record == nil {
            usleep(100_000)
            let result = try run("trunkctl", ["--data", data, "calls", "--from", "-1h", "--json"])
            let all = result.status == 0 ? (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? [] : []
            record = all.first { ($0["events"] as? [[String: Any]])?.last?["kind"] as? String == "hangup" }
        }
        let call = try #require(record, "the call ends within 25 s")
        #expect(call["trunk"] as? String == "fxo")
        #expect(call["caller"] as? String == "13800138000" && call["callee"] as? String == "95500")
        #expect(call["handler"] as? String == "flow" && call["digits"] as? String == "123")
        #expect(call["cause"] as? Int == 16 && call["clearedBy"] as? String == "local")
    }

    @Test("a caller ID method other than fsk or dtmf, and --cid on an E1 span, are refused with the reason")
    func badCallerIDMethod() throws {
        let data = temporaryDataFolder()
        let trunkd = try Daemon("trunkd", ["--data", data])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        let bad = try run("trunkctl", ["--data", data, "sim", "call", "95500", "--span", "3", "--cid", "v23"])
        #expect(bad.status != 0 && bad.stderr.contains("--cid must be fsk or dtmf, not 'v23'"))
        let onE1 = try run("trunkctl", ["--data", data, "sim", "call", "95500", "--span", "1", "--cid", "fsk"])
        #expect(onE1.status != 0 && onE1.stderr.contains("span 1 is an E1 span"))
        let noPort = try run("trunkctl", ["--data", data, "sim", "call", "95500", "--span", "3", "--port", "9"])
        #expect(noPort.status != 0 && noPort.stderr.contains("span 3 has no FXS port 9"))
    }
}
