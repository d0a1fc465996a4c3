import Foundation
import Testing

/// The call model through the built trunkd and trunkctl: a lab call through the built-in flow,
/// its call record, and the records after trunkd is killed.
@Suite("Calls from the command line", .serialized)
struct CallsCommandLineTests {
    func records(_ data: String) throws -> [[String: Any]] {
        let result = try run("trunkctl", ["--data", data, "calls", "--from", "-1h", "--json"])
        guard result.status == 0 else { return [] }
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    @Test("sim call with DTMF 123#: answered by the built-in flow, digits collected, the record stamped in order with cause 16")
    func simCallThroughTheFlow() throws {
        let data = temporaryDataFolder()
        let trunkd = try Daemon("trunkd", ["--data", data])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        var placed = try run("trunkctl", ["--data", data, "sim", "call", "95500", "--from", "13800138000", "--dtmf", "123#"])
        for _ in 0..<50 where placed.status != 0 {
            usleep(100_000)  // the D-channels come up within a few hundred ms of the start
            placed = try run("trunkctl", ["--data", data, "sim", "call", "95500", "--from", "13800138000", "--dtmf", "123#"])
        }
        #expect(placed.status == 0, "\(placed.stderr)")
        var record: [String: Any]?
        for _ in 0..<200 where record == nil {
            usleep(100_000)
            record = try records(data).first { ($0["events"] as? [[String: Any]])?.last?["kind"] as? String == "hangup" }
        }
        let call = try #require(record, "the call ends within 20 s")
        #expect(call["handler"] as? String == "flow" && call["digits"] as? String == "123")
        #expect(call["cause"] as? Int == 16 && call["clearedBy"] as? String == "local")
        #expect(call["caller"] as? String == "13800138000" && call["callee"] as? String == "95500")
        let events = call["events"] as! [[String: Any]]
        let kinds = events.compactMap { $0["kind"] as? String }
        for kind in ["seized", "number_complete", "answered", "first_media", "dtmf", "hangup"] { #expect(kinds.contains(kind), "\(kind)") }
        let times = events.compactMap { $0["atMs"] as? Double }
        #expect(times == times.sorted())
        // The flow recorded the caller: the record names the recording, and trunkrec finds it by caller.
        let recordings = call["recordings"] as? [String] ?? []
        #expect(recordings.count == 1)
        let found = try run("trunkrec", ["search", "--data", data, "--caller", "13800138000", "--json"])
        #expect(found.status == 0 && recordings.allSatisfy { found.stdout.contains($0) }, "\(found.stdout) \(found.stderr)")
        let csv = try run("trunkctl", ["--data", data, "calls", "--from", "-1h", "--csv"])
        #expect(csv.status == 0 && csv.stdout.hasPrefix("call_id,direction,trunk,span,channel,") && csv.stdout.contains(",123,"))
        let stats = try run("trunkctl", ["--data", data, "calls", "stats", "--from", "-1h"])
        #expect(stats.status == 0 && stats.stdout.contains("pri") && stats.stdout.contains("inbound"))
        let badTime = try run("trunkctl", ["--data", data, "calls", "--from", "yesterday"])
        #expect(badTime.status != 0 && badTime.stderr.contains("cannot read the time 'yesterday'"))
    }

    @Test("after kill -9 and a restart, the call that was active is closed with node_restart; nothing duplicated or lost")
    func killNine() throws {
        let data = temporaryDataFolder()
        let first = try Daemon("trunkd", ["--data", data])
        try waitUntilAnswering(["--data", data])
        var placed = try run("trunkctl", ["--data", data, "sim", "call", "95500", "--from", "13800138001", "--hold", "1"])
        for _ in 0..<50 where placed.status != 0 {
            usleep(100_000)
            placed = try run("trunkctl", ["--data", data, "sim", "call", "95500", "--from", "13800138001", "--hold", "1"])
        }
        #expect(placed.status == 0)
        // The first call ends (the caller hangs up after 1 s); the second is still in the flow when trunkd dies.
        usleep(2_500_000)
        #expect(try run("trunkctl", ["--data", data, "sim", "call", "95500", "--from", "13800138002"]).status == 0)
        usleep(1_000_000)
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()

        let second = try Daemon("trunkd", ["--data", data])
        defer { second.stop() }
        try waitUntilAnswering(["--data", data])
        let all = try records(data)
        #expect(all.count == 2)
        #expect(Set(all.compactMap { $0["callID"] as? String }).count == 2)
        let completed = try #require(all.first { $0["caller"] as? String == "13800138001" })
        #expect(completed["cause"] as? Int == 16 && completed["failure"] == nil)
        let interrupted = try #require(all.first { $0["caller"] as? String == "13800138002" })
        #expect(interrupted["failure"] as? String == "node_restart" && interrupted["clearedBy"] as? String == "system")
        let kinds = (interrupted["events"] as? [[String: Any]])?.compactMap { $0["kind"] as? String } ?? []
        #expect(kinds.contains("answered") && kinds.last == "hangup")
        // A second restart changes nothing.
        _ = second.stop()
        let third = try Daemon("trunkd", ["--data", data])
        defer { third.stop() }
        try waitUntilAnswering(["--data", data])
        let again = try records(data)
        #expect(again.count == 2)
        #expect(again.first { $0["caller"] as? String == "13800138002" }?["failure"] as? String == "node_restart")
    }
}
