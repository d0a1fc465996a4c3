import Foundation
import Testing

/// `channel.ring` through a real trunkd and its CTI socket: a file that declares the lab's FXS
/// ports makes them stations, the lab's FXO ports play the phones; a client rings one phone
/// (it sees the ring and the caller ID, picks up: `channel.answered`) and another with a
/// timeout shorter than its first ring (op.failed with reason timeout and cause 19).
@Suite("channel.ring through trunkd")
struct StationRingCommandLineTests {
    @Test("ring 63 with caller ID: the phone logs the ring and 13800138000, channel.answered; ring 64 for 1 s: timeout, cause 19")
    func ringStationsThroughTheSocket() throws {
        let data = temporaryDataFolder()
        let config = data + "/stations.toml"
        try """
        [[analog]]
        channels = "63-66"
        port = "fxs"
        callerid = "fsk"
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let trunkd = try Daemon("trunkd", ["--data", data, "--config", config, "--cti-port", "0"])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        let token = try String(contentsOfFile: data + "/cti-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        client.arguments = ["-c", Self.client, data + "/cti.sock", token]
        let output = Pipe()
        client.standardOutput = output
        client.standardError = output
        try client.run()
        let text = ReadAll(output.fileHandleForReading)
        client.waitUntilExit()
        let log = text.wait()
        #expect(client.terminationStatus == 0, "\(log)")
        #expect(log.contains("ring 63 accepted"), "\(log)")
        #expect(log.contains("63 alerting"), "no ringing event for 63: \(log)")
        #expect(log.contains("63 answered op-ring-63"), "\(log)")
        #expect(log.contains("64 failed timeout 19"), "\(log)")
        #expect(log.contains("64 hangup 19"), "\(log)")
        let (_, daemonLog) = trunkd.stop()
        // The phone on the FXO port cabled to 63 (span 4 port 1) saw the ring and the number.
        let ringing = daemonLog.split(separator: "\n").filter { $0.contains("lab phone ringing") && $0.contains("port=1") }
        #expect(ringing.contains { $0.contains("caller_id=13800138000") && $0.contains("method=fskV23") }, "\(daemonLog)")
        #expect(daemonLog.split(separator: "\n").contains { $0.contains("lab phone off hook") && $0.contains("port=1") }, "\(daemonLog)")
        // The 1 s ring on 64 ended within its first burst: that phone never went off hook.
        #expect(!daemonLog.split(separator: "\n").contains { $0.contains("lab phone off hook") && $0.contains("port=2") }, "\(daemonLog)")
    }

    /// argv: socket path, token. Prints one line per thing seen; exits 1 on a timeout.
    static let client = #"""
    import json, socket, sys, time
    path, token = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(30)
    f = s.makefile("rwb")
    def send(obj):
        f.write((json.dumps(obj) + "\n").encode()); f.flush()
    def read():
        line = f.readline()
        if not line:
            print("closed"); sys.exit(1)
        return json.loads(line)
    read()  # greeting
    send({"jsonrpc": "2.0", "id": 1, "method": "session.login", "params": {"token": token, "version": 1, "client": "ring-test"}})
    assert "result" in read()
    send({"jsonrpc": "2.0", "id": 2, "method": "events.subscribe", "params": {"chans": [63, 64], "calls": ["ring-63", "ring-64"]}})
    read()
    send({"jsonrpc": "2.0", "id": 3, "method": "channel.ring", "params": {"channel": 63, "caller_id": "13800138000", "call_id": "ring-63", "op_id": "op-ring-63"}})
    send({"jsonrpc": "2.0", "id": 4, "method": "channel.ring", "params": {"channel": 64, "caller_id": "10086", "timeout_ms": 1000, "call_id": "ring-64"}})
    done = set()
    deadline = time.time() + 25
    while time.time() < deadline and done != {"63", "64"}:
        m = read()
        if m.get("id") in (3, 4):
            print("ring", 63 if m["id"] == 3 else 64, "accepted" if "result" in m else "refused %s" % m.get("error"))
            continue
        p = m.get("params", {})
        if m.get("method") != "event":
            continue
        chan, t = str(p.get("channel", "")), p.get("type")
        if t == "channel.progress":
            print(chan, p.get("progress"))
        elif t == "channel.answered":
            print(chan, "answered", p.get("op_id"))
            if chan == "63": done.add("63")
        elif t == "op.failed":
            print(p.get("call_id")[-2:], "failed", p.get("reason"), p.get("cause"))
        elif t == "channel.hangup":
            print(chan, "hangup", p.get("cause"))
            if chan == "64": done.add("64")
    print("done", sorted(done))
    sys.exit(0 if done == {"63", "64"} else 1)
    """#
}
