import Foundation
import Testing

/// The recorder's alarms on a real trunkd: in `trunkctl alarms`, as a CTI event and in the log.
@Suite("Recorder alarms, run as built", .serialized)
struct RecordingAlarmCommandLineTests {
    /// Connects to the CTI socket with the data folder's token, replays every event kept and
    /// prints the alarm events (span.* and node.*) as they came, one line each.
    static let ctiReplay = """
        import json, socket, sys, time
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(sys.argv[1])
        reader = sock.makefile("r", encoding="utf-8", newline="\\n")
        reader.readline()
        def call(n, method, **params):
            sock.sendall((json.dumps({"jsonrpc": "2.0", "id": n, "method": method, "params": params}) + "\\n").encode())
        call(1, "session.login", token=sys.argv[2], version=1, client="recording-alarm-test")
        call(2, "events.subscribe", types=["span.*", "node.*"], since_seq=0)
        sock.settimeout(float(sys.argv[3]))
        try:
            while True:
                line = reader.readline()
                if not line:
                    break
                message = json.loads(line)
                if message.get("method") == "event":
                    print(line.rstrip("\\n"), flush=True)
        except (socket.timeout, TimeoutError):
            pass
        """

    @Test("a recording store below its reserve: storage_full (urgent) in trunkctl alarms, a node.alarm CTI event valid against the schema, a log line; calls go on unrecorded")
    func storageFull() throws {
        let data = temporaryDataFolder()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let config = data + "/trunkline.toml"
        // A reserve no disk has: the store is full from the start.
        try """
            [recording]
            storage_reserve_bytes = 1_000_000_000_000_000
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let trunkd = try Daemon("trunkd", ["--data", data, "--config", config, "--cti-port", "0"])
        var stopped = false
        defer { if !stopped { trunkd.stop() } }
        try waitUntilAnswering(["--data", data])

        var full: [String: Any]?
        var status: Int32 = 0
        for _ in 0..<100 where full == nil {
            usleep(200_000)
            let result = try AlarmHistoryCommandLineTests.alarms(data, ["--active"])
            status = result.status
            full = result.records.first { $0["kind"] as? String == "recording.storage_full" }
        }
        let alarm = try #require(full, "recording.storage_full is in the alarm history")
        #expect(alarm["severity"] as? String == "urgent" && alarm["clearedAt"] == nil)
        #expect((alarm["message"] as? String ?? "").contains("new recordings are refused"))
        #expect(status == 2, "trunkctl alarms exits 2 while an alarm is active")
        let text = try run("trunkctl", ["--data", data, "alarms"])
        #expect(text.stdout.contains("recording.storage_full"), "\(text.stdout)")

        // A lab call is answered and completes; the store refuses its recording.
        var placed = try run("trunkctl", ["--data", data, "sim", "call", "95500", "--from", "13800138009", "--dtmf", "12#", "--hold", "3"])
        for _ in 0..<50 where placed.status != 0 {
            usleep(200_000)
            placed = try run("trunkctl", ["--data", data, "sim", "call", "95500", "--from", "13800138009", "--dtmf", "12#", "--hold", "3"])
        }
        #expect(placed.status == 0, "\(placed.stderr)")
        var ended: [String: Any]?
        for _ in 0..<200 where ended == nil {
            usleep(100_000)
            let calls = try run("trunkctl", ["--data", data, "calls", "--from", "-1h", "--json"])
            let list = (try? JSONSerialization.jsonObject(with: Data(calls.stdout.utf8)) as? [[String: Any]]) ?? []
            ended = list.first { ($0["events"] as? [[String: Any]])?.last?["kind"] as? String == "hangup" }
        }
        let call = try #require(ended, "the call ends")
        #expect((call["recordings"] as? [String] ?? []).isEmpty && call["handler"] as? String == "flow")
        let recordings = FileManager.default.enumerator(atPath: data + "/recordings")?.allObjects as? [String] ?? []
        #expect(!recordings.contains { $0.hasSuffix(".wav") || $0.hasSuffix(".part") }, "\(recordings)")

        // The CTI socket carries it as node.alarm (an alarm of no span) with its kind and
        // severity, never as span.alarm, and the event is what docs/cti-schema.json says.
        let token = try String(contentsOfFile: data + "/cti-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let client = try run("/usr/bin/env", ["python3", "-c", Self.ctiReplay, data + "/cti.sock", token, "3"], absolute: true)
        let lines = client.stdout.split(separator: "\n").map(String.init)
        let events = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.compactMap { $0["params"] as? [String: Any] }
        let storage = events.filter { $0["kind"] as? String == "recording.storage_full" }
        #expect(!storage.isEmpty, "\(client.stdout) \(client.stderr)")
        for event in storage {
            #expect(event["type"] as? String == "node.alarm" && event["severity"] as? String == "urgent", "\(event)")
            #expect(event["span"] == nil && event["channel"] == nil, "\(event)")
            #expect((event["message"] as? String ?? "").contains("new recordings are refused"), "\(event)")
        }
        #expect(!events.contains { $0["type"] as? String == "span.alarm" && $0["span"] == nil }, "a span.alarm always names its span: \(client.stdout)")
        CTISchema.expectValid(lines, kind: "server")

        stopped = true
        let log = trunkd.stop().log
        #expect(log.contains("alarm raised: recording store") && log.contains("recording.storage_full"), "\(log.suffix(2000))")
    }
}
