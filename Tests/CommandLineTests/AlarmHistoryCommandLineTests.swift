import Foundation
import Testing

@Suite("Alarm history, run as built", .serialized)
struct AlarmHistoryCommandLineTests {
    static func alarms(_ data: String, _ extra: [String] = []) throws -> (status: Int32, records: [[String: Any]], active: Int) {
        let result = try run("trunkctl", ["--data", data, "alarms", "--json"] + extra)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        return (result.status, object["alarms"] as? [[String: Any]] ?? [], object["activeCount"] as? Int ?? -1)
    }

    @Test("a cable cut and restore are recorded with urgent severity, raise and clear times, and survive a restart")
    func cutAndRestoreSurviveRestart() throws {
        let data = temporaryDataFolder()
        var trunkd = try Daemon("trunkd", ["--data", data])
        try waitUntilAnswering(["--data", data])
        #expect(try Self.alarms(data).records.isEmpty)

        let beforeCut = Date().timeIntervalSince1970
        #expect(try run("trunkctl", ["--data", data, "sim", "cut", "1"]).status == 0)
        let afterCut = Date().timeIntervalSince1970
        // The monitor polls every 200 ms: wait until it has seen the cut.
        var during = try Self.alarms(data, ["--active"])
        let deadline = Date().addingTimeInterval(5)
        while during.records.count < 3 && Date() < deadline {
            usleep(100_000)
            during = try Self.alarms(data, ["--active"])
        }
        #expect(during.status == 2, "exit 2 while an alarm is active")
        let kinds = Set(during.records.map { "\($0["span"] as? Int ?? 0) \($0["kind"] as? String ?? "")" })
        #expect(kinds == ["1 span.RED", "1 span.LOS", "2 span.YELLOW"])
        #expect(during.records.allSatisfy { $0["severity"] as? String == "urgent" && $0["clearedAt"] == nil })
        let text = try run("trunkctl", ["--data", data, "alarms", "--active"])
        #expect(text.stdout.contains("ACTIVE") && text.stdout.contains("span.RED") && text.status == 2)

        usleep(500_000)
        let beforeRestore = Date().timeIntervalSince1970
        #expect(try run("trunkctl", ["--data", data, "sim", "restore", "1"]).status == 0)
        let afterRestore = Date().timeIntervalSince1970
        var after = try Self.alarms(data)
        let clearDeadline = Date().addingTimeInterval(5)
        while after.active != 0 && Date() < clearDeadline {
            usleep(100_000)
            after = try Self.alarms(data)
        }
        let clearedBy = Date().timeIntervalSince1970
        #expect(after.status == 0 && after.active == 0)
        trunkd.stop()

        // A new trunkd on the same data folder reads the same history.
        trunkd = try Daemon("trunkd", ["--data", data])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        let history = try Self.alarms(data)
        #expect(history.status == 0)
        #expect(history.records.count == 3)
        for record in history.records {
            let raised = record["raisedAt"] as? Double ?? 0, cleared = record["clearedAt"] as? Double ?? 0
            // Raised between the cut and the monitor's next pass; cleared likewise after the restore.
            #expect(raised >= beforeCut - 0.01 && raised <= afterCut + 1, "raised \(raised), cut at \(beforeCut)…\(afterCut)")
            #expect(cleared >= beforeRestore - 0.01 && cleared <= min(afterRestore + 1, clearedBy), "cleared \(cleared), restored at \(beforeRestore)…\(afterRestore)")
            #expect(record["severity"] as? String == "urgent")
        }
        #expect(try Self.alarms(data, ["--active"]).records.isEmpty)
        #expect(try Self.alarms(data, ["--since", "1m"]).records.count == 3)
        #expect(try run("trunkctl", ["--data", data, "alarms", "--since", "yesterday"]).status == 1)
    }
}

@Suite("config apply, run as built", .serialized)
struct ConfigApplyCommandLineTests {
    @Test("config apply through the control socket is applied, logged and recorded with the OS user of trunkctl (SO_PEERCRED)")
    func appliedAndRecordedWithUser() throws {
        let data = temporaryDataFolder()
        let trunkd = try Daemon("trunkd", ["--data", data])
        try waitUntilAnswering(["--data", data])
        let file = data + "/new.toml"
        try "[[span]]\nspan = 1\nbackend = \"virtual\"\nsignalling = \"pri_net\"\nt305 = 20000\n[[span]]\nspan = 2\nbackend = \"virtual\"\ntiming = 1\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let applied = try run("trunkctl", ["--data", data, "config", "apply", file])
        #expect(applied.status == 0 && applied.stdout == "\(file): applied:\n  span 1: T305 30000 → 20000 ms (stack retimed, link and calls stay up)\n")
        let records = try JSONSerialization.jsonObject(with: Data(try run("trunkctl", ["--data", data, "alarms", "--json"]).stdout.utf8)) as? [String: Any]
        let apply = (records?["alarms"] as? [[String: Any]])?.first { $0["kind"] as? String == "config.apply" }
        let me = String(cString: getpwuid(getuid())!.pointee.pw_name)
        #expect(apply?["user"] as? String == me)

        try "[[span]]\nspan = 1\nbackend = \"virtual\"\nt305 = 5\n".write(toFile: file, atomically: true, encoding: .utf8)
        let refused = try run("trunkctl", ["--data", data, "config", "apply", file])
        #expect(refused.status == 1 && refused.stderr == "trunkctl: \(file):4:8: t305 must be 1000…120000, not 5\n")
        let log = trunkd.stop().log
        #expect(log.contains("configuration applied") && log.contains("user=\(me)") && log.contains("T305 30000 → 20000"))
        #expect(log.contains("configuration refused; the running one stays"))
    }
}
