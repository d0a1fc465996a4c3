import Foundation
import Testing

/// Maintenance blocking of analog ports through the built trunkd and trunkctl: a blocked FXO
/// line is busied out (off hook), so the lab exchange finds it busy and rings the next one;
/// unblocking puts it back. A call on a line being blocked runs to its end unless --force.
@Suite("Channel blocking from the command line", .serialized)
struct ChannelBlockingCommandLineTests {
    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    /// Polls `chan show CHANNEL --json` until `condition` holds on it.
    static func waitForChannel(_ ctl: ([String]) throws -> RunResult, _ channel: String, timeout: TimeInterval = 10,
                               _ condition: ([String: Any]) -> Bool) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String: Any] = [:]
        repeat {
            last = json(try ctl(["chan", "show", channel, "--json"]).stdout)
            if condition(last) { return last }
            usleep(100_000)
        } while Date() < deadline
        return last
    }

    static func hook(_ show: [String: Any]) -> String? { (show["parameters"] as? [String: Any])?["hookState"] as? String }
    static func maintenance(_ show: [String: Any]) -> [String: Any] { show["maintenance"] as? [String: Any] ?? [:] }

    @Test("a blocked FXO line is busied out: the exchange skips it and refuses to ring it; config apply keeps it; unblocked, it takes calls again")
    func busyOut() throws {
        let data = temporaryDataFolder()
        let trunkd = try Daemon("trunkd", ["--data", data])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        let ctl = { (arguments: [String]) throws -> RunResult in try run("trunkctl", ["--data", data] + arguments) }

        let blocked = try ctl(["chan", "block", "4/1"])
        #expect(blocked.status == 0 && blocked.stdout == "4/1: blocked (the line is busied out: off hook, the exchange sees it busy)\n", "\(blocked.stderr)")
        let show = try Self.waitForChannel(ctl, "4/1") { Self.maintenance($0)["busiedOut"] as? Bool == true }
        #expect(Self.hook(show) == "off-hook", "the line is held off hook")
        #expect(Self.maintenance(show)["state"] as? String == "blocked", "the call model shows the channel blocked")
        #expect(try ctl(["chan", "show", "4/1"]).stdout.hasSuffix("  maintenance: blocked (busied out: held off hook)\n"))
        // The exchange's side of the pair sees a line off hook: not idle, never rung.
        let exchangeSide = try Self.waitForChannel(ctl, "3/1") { Self.hook($0) == "off-hook" }
        #expect(Self.hook(exchangeSide) == "off-hook")
        let refused = try ctl(["sim", "call", "95500", "--from", "13800138000", "--span", "3", "--port", "1", "--cid", "dtmf"])
        #expect(refused.status == 1 && refused.stderr.contains("span 3 port 1 is") && refused.stderr.contains("not idle"), "\(refused.stderr)")
        let hunted = try ctl(["sim", "call", "95500", "--from", "13800138000", "--span", "3", "--cid", "dtmf", "--hold", "1"])
        #expect(hunted.status == 0 && hunted.stdout.contains(" on 3/2: "), "the exchange rings the next line: \(hunted.stdout)\(hunted.stderr)")

        // A live configuration apply leaves maintenance state alone.
        let file = data + "/retime.toml"
        try "[[span]]\nspan = 1\nbackend = \"virtual\"\nsignalling = \"pri_net\"\nt303 = 6000\n[[span]]\nspan = 2\nbackend = \"virtual\"\ntiming = 1\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let applied = try ctl(["config", "apply", file])
        #expect(applied.status == 0 && applied.stdout.contains("span 1: T303 4000 → 6000 ms"), "\(applied.stdout)\(applied.stderr)")
        #expect(Self.maintenance(Self.json(try ctl(["chan", "show", "4/1", "--json"]).stdout))["busiedOut"] as? Bool == true)

        let status = try ctl(["status"])
        #expect(status.stdout.contains("\nMaintenance: 4/1 blocked\n"), "\(status.stdout)")
        let statusJSON = Self.json(try ctl(["status", "--json"]).stdout)
        let entries = statusJSON["maintenance"] as? [[String: Any]] ?? []
        #expect(entries.count == 1 && entries.first?["address"] as? String == "4/1" && entries.first?["kind"] as? String == "fxo")

        let unblocked = try ctl(["chan", "unblock", "4/1"])
        #expect(unblocked.status == 0 && unblocked.stdout == "4/1: in service\n")
        let back = try Self.waitForChannel(ctl, "4/1") { Self.hook($0) == "on-hook" && Self.maintenance($0)["maintenance"] as? String == "in_service" }
        #expect(Self.hook(back) == "on-hook" && Self.maintenance(back)["state"] as? String == "idle")
        #expect(Self.json(try ctl(["status", "--json"]).stdout)["maintenance"] == nil, "nothing blocked any more")
        // The exchange releases its side once the line has been on hook past the flash window.
        var again = try ctl(["sim", "call", "95500", "--from", "13800138000", "--span", "3", "--port", "1", "--cid", "dtmf", "--hold", "1"])
        let deadline = Date().addingTimeInterval(10)
        while again.status != 0 && Date() < deadline {
            usleep(200_000)
            again = try ctl(["sim", "call", "95500", "--from", "13800138000", "--span", "3", "--port", "1", "--cid", "dtmf", "--hold", "1"])
        }
        #expect(again.status == 0 && again.stdout.contains(" on 3/1: "), "\(again.stderr)")
    }

    @Test("blocking a line with a call up is pending until the call ends; --force clears it with cause 8; FXS ports are never rung")
    func pendingAndForce() throws {
        let data = temporaryDataFolder()
        let trunkd = try Daemon("trunkd", ["--data", data])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        let ctl = { (arguments: [String]) throws -> RunResult in try run("trunkctl", ["--data", data] + arguments) }

        let placed = try ctl(["sim", "call", "95500", "--from", "13800138000", "--span", "3", "--port", "3", "--cid", "dtmf"])
        #expect(placed.status == 0, "\(placed.stderr)")
        let up = try Self.waitForChannel(ctl, "4/3", timeout: 20) { Self.maintenance($0)["state"] as? String == "up" }
        let call = try #require(Self.maintenance(up)["call"] as? String, "the flow answers the exchange's call")

        let pending = try ctl(["chan", "block", "4/3"])
        #expect(pending.status == 0 && pending.stdout == "4/3: blocking pending (call \(call) runs to its end; --force clears it)\n")
        #expect(try ctl(["status"]).stdout.contains("Maintenance: 4/3 blocking pending"))
        #expect(Self.maintenance(Self.json(try ctl(["chan", "show", "4/3", "--json"]).stdout))["state"] as? String == "up", "the call goes on")

        let forced = try ctl(["chan", "block", "4/3", "--force", "--json"])
        let report = Self.json(forced.stdout)
        #expect(forced.status == 0 && report["clearedCall"] as? String == call && report["maintenance"] as? String == "blocked")
        var record: [String: Any]?
        for _ in 0..<50 where record == nil {
            usleep(100_000)
            let calls = try JSONSerialization.jsonObject(with: Data(try ctl(["calls", "--from", "-1h", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
            record = calls.first { $0["callID"] as? String == call && ($0["events"] as? [[String: Any]])?.last?["kind"] as? String == "hangup" }
        }
        let ended = try #require(record, "the call ends")
        #expect(ended["cause"] as? Int == 8 && ended["clearedBy"] as? String == "local")
        let busied = try Self.waitForChannel(ctl, "4/3") { Self.maintenance($0)["busiedOut"] as? Bool == true }
        #expect(Self.hook(busied) == "off-hook", "after the guard time on hook the line is busied out")

        // An FXS port of the exchange, blocked, is never rung.
        #expect(try ctl(["chan", "block", "3/4"]).stdout == "3/4: blocked (the port is never rung)\n")
        let notRung = try ctl(["sim", "call", "95500", "--span", "3", "--port", "4", "--cid", "dtmf"])
        #expect(notRung.status == 1 && notRung.stderr.contains("span 3 port 4 is blocked for maintenance: it is never rung"))
        #expect(try ctl(["chan", "unblock", "3/4"]).stdout == "3/4: in service\n")
        #expect(try ctl(["sim", "call", "95500", "--span", "3", "--port", "4", "--cid", "dtmf", "--hold", "1"]).status == 0)
    }
}
