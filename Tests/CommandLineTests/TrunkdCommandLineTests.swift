import Foundation
import Testing

@Suite("trunkd and trunkctl, run as built", .serialized)
struct TrunkdCommandLineTests {
    static let red = 1 << 3, yellow = 1 << 2, los = 1 << 8

    @Test("trunkd boots the embedded default: two clean E1 spans and 8 analog ports")
    func embeddedDefault() throws {
        let data = temporaryDataFolder()
        let trunkd = try Daemon("trunkd", ["--data", data])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])

        let result = try run("trunkctl", ["--data", data, "status"])
        #expect(result.status == 0)
        let spanLines = result.stdout.split(separator: "\n").filter { $0.range(of: #"^\s+\d+\s"#, options: .regularExpression) != nil }
        #expect(spanLines.count == 4)
        #expect(spanLines[0].contains("E1") && spanLines[0].contains("network") && spanLines[0].contains(" OK "))
        #expect(spanLines[1].contains("E1") && spanLines[1].contains("user") && spanLines[1].contains(" OK "))
        #expect(result.stdout.contains("Analog ports: 8 (4 FXS, 4 FXO)"))
        #expect(result.stdout.contains("timing source: span 2"))
        #expect(result.stdout.contains("no DAHDI devices found"))
        #expect(result.stderr.isEmpty)
    }

    @Test("sim cut 1: RED on span 1, YELLOW on span 2, exit 2; restore clears both")
    func cutAndRestore() throws {
        let data = temporaryDataFolder()
        let trunkd = try Daemon("trunkd", ["--data", data])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])

        #expect(try run("trunkctl", ["--data", data, "sim", "cut", "1"]).status == 0)
        #expect(try waitForStatus(["--data", data]) { alarmsBySpan($0)[2] == Self.yellow })
        let cut = try run("trunkctl", ["--data", data, "status"])
        #expect(cut.status == 2)
        let line1 = cut.stdout.split(separator: "\n").first { $0.hasPrefix("   1 ") }
        let line2 = cut.stdout.split(separator: "\n").first { $0.hasPrefix("   2 ") }
        #expect(line1?.contains("RED LOS") == true)
        #expect(line2?.contains("YELLOW") == true)
        let json = try JSONSerialization.jsonObject(with: Data(try run("trunkctl", ["--data", data, "status", "--json"]).stdout.utf8)) as! [String: Any]
        #expect(alarmsBySpan(json)[1] == Self.red | Self.los)
        #expect(try run("trunkctl", ["--data", data, "span", "show", "1"]).status == 2)

        #expect(try run("trunkctl", ["--data", data, "sim", "restore", "1"]).status == 0)
        #expect(try waitForStatus(["--data", data]) { alarmsBySpan($0).values.allSatisfy { $0 == 0 } })
        #expect(try run("trunkctl", ["--data", data, "status"]).status == 0)
    }

    @Test("bad input: unknown command, unknown span, bad option value: one line, exit 1")
    func badInput() throws {
        let data = temporaryDataFolder()
        let trunkd = try Daemon("trunkd", ["--data", data])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])

        for arguments in [["frobnicate"], ["span", "show", "9"], ["sim", "cut", "42"], ["span", "frob"],
                          ["sim", "impair", "2", "--ber", "2"], ["sim", "impair", "2", "--echo-model", "3"], ["span", "show", "x"]] {
            let result = try run("trunkctl", ["--data", data] + arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stdout.isEmpty, "\(arguments)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("trunkctl: "), "\(arguments)")
        }
        #expect(try run("trunkctl", ["--data", data, "span", "show", "9"]).stderr.contains("span 9 does not exist"))
        #expect(try run("trunkctl", ["--data", data, "frobnicate"]).stderr.contains("unknown command 'frobnicate'"))
    }

    @Test("trunkctl without a running trunkd says so and exits 1")
    func notRunning() throws {
        let result = try run("trunkctl", ["--data", temporaryDataFolder(), "status"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("trunkd is not running"))
    }

    @Test("a second trunkd on the same data folder is refused; the first keeps running and stops cleanly on SIGTERM")
    func singleInstance() throws {
        let data = temporaryDataFolder()
        let first = try Daemon("trunkd", ["--data", data])
        try waitUntilAnswering(["--data", data])
        let second = try run("trunkd", ["--data", data], timeout: 20)
        #expect(second.status == 1)
        #expect(second.stderr.contains("already running on data folder \(data)"))
        #expect(second.stderr.split(separator: "\n").count == 1)
        #expect(try run("trunkctl", ["--data", data, "status"]).status == 0)
        let stopped = first.stop()
        #expect(stopped.status == 0)
        #expect(stopped.log.contains("trunkd stopped"))
        #expect(!FileManager.default.fileExists(atPath: data + "/control.sock"))
    }

    @Test("impairments reach the line: bit errors are counted on the span")
    func impairments() throws {
        let data = temporaryDataFolder()
        let trunkd = try Daemon("trunkd", ["--data", data])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        #expect(try run("trunkctl", ["--data", data, "sim", "impair", "2", "--ber", "1e-4"]).status == 0)
        usleep(300_000)
        let show = try run("trunkctl", ["--data", data, "span", "show", "2", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as! [String: Any]
        let counters = ((object["span"] as! [String: Any])["status"] as! [String: Any])["counters"] as! [String: Any]
        #expect((counters["bipolarViolations"] as! Int) > 0)
        #expect((counters["crc4Errors"] as! Int) > 0)
        let text = try run("trunkctl", ["--data", data, "span", "show", "2"])
        #expect(text.stdout.contains("Impairments: BER 0.0001"))
        #expect(try run("trunkctl", ["--data", data, "sim", "impair", "2", "--clear"]).status == 0)
    }

    @Test("split simulator: trunksim plays the carrier in its own process, trunkd runs as on real cards")
    func splitSimulator() throws {
        let data = temporaryDataFolder()
        let trunksim = try Daemon("trunksim", ["--data", data])
        defer { trunksim.stop() }
        try waitUntilAnswering(["--socket", data + "/sim-control.sock"])
        let trunkd = try Daemon("trunkd", ["--data", data, "--sim-connect"])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])

        #expect(try waitForStatus(["--data", data]) { alarmsBySpan($0) == [2: 0, 4: 0] })
        #expect(try run("trunkctl", ["--socket", data + "/sim-control.sock", "sim", "cut", "1"]).status == 0)
        #expect(try waitForStatus(["--data", data]) { alarmsBySpan($0)[2] == Self.yellow })
        #expect(try run("trunkctl", ["--socket", data + "/sim-control.sock", "sim", "restore", "1"]).status == 0)
        #expect(try waitForStatus(["--data", data]) { alarmsBySpan($0)[2] == 0 })
        // The carrier going away is a dead line for trunkd.
        trunksim.stop()
        #expect(try waitForStatus(["--data", data]) { alarmsBySpan($0)[2] == Self.red | Self.los })
    }

    @Test("PRI on the embedded default: both D-channels up by themselves; a carrier call rings the call centre's span")
    func priOnEmbeddedDefault() throws {
        let data = temporaryDataFolder()
        let trunkd = try Daemon("trunkd", ["--data", data])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        var spans = try run("trunkctl", ["--data", data, "pri", "show", "spans"])
        for _ in 0..<50 where spans.status != 0 {
            usleep(100_000)
            spans = try run("trunkctl", ["--data", data, "pri", "show", "spans"])
        }
        #expect(spans.status == 0)
        #expect(spans.stdout == "PRI span 1/0: Up, Active (network side)\nPRI span 2/0: Up, Active (user side)\n")

        let call = try run("trunkctl", ["--data", data, "pri", "call", "1", "95500", "--from", "13800138000", "--channel", "7"])
        #expect(call.status == 0, "\(call.stderr)")
        // No CTI client has claimed it: the built-in flow answers at once.
        var answered = false
        for _ in 0..<50 where !answered {
            let channels = try run("trunkctl", ["--data", data, "pri", "show", "channels", "2"])
            answered = channels.stdout.split(separator: "\n").contains { $0.contains("   7  connected") && $0.contains("13800138000 → 95500") }
            if !answered { usleep(100_000) }
        }
        #expect(answered)
        // The call model shows it: one inbound PRI call on span 2, up, taken by the flow, with its numbers.
        let live = try JSONSerialization.jsonObject(with: Data(try run("trunkctl", ["--data", data, "calls", "--live", "--json"]).stdout.utf8)) as! [String: Any]
        let calls = live["live"] as! [[String: Any]]
        #expect(calls.count == 1)
        #expect(calls.first?["direction"] as? String == "inbound" && calls.first?["trunk"] as? String == "pri")
        let address = calls.first?["address"] as? [String: Any]
        #expect(address?["span"] as? Int == 2 && address?["channel"] as? Int == 7)
        #expect(calls.first?["caller"] as? String == "13800138000" && calls.first?["callee"] as? String == "95500")
        #expect(calls.first?["state"] as? String == "up" && calls.first?["handler"] as? String == "flow")
        #expect(try run("trunkctl", ["--data", data, "pri", "hangup", "1/7"]).status == 0)
        var ended = false
        for _ in 0..<50 where !ended {
            let text = try run("trunkctl", ["--data", data, "calls"]).stdout
            ended = text.contains("ended") && text.contains(" 16\n")
            if !ended { usleep(100_000) }
        }
        #expect(ended, "the cleared call is listed as ended with cause 16")
        #expect(try run("trunkctl", ["--data", data, "pri", "block", "2/5"]).status == 0)
        #expect(try run("trunkctl", ["--data", data, "pri", "show", "channels", "2"]).stdout.contains("   2     5  blocked"))
        #expect(try run("trunkctl", ["--data", data, "pri", "unblock", "2/5"]).status == 0)

        // A trace decodes offline, and bad input is refused in one line.
        let trace = data + "/span2.pcap"
        #expect(try run("trunkctl", ["--data", data, "pri", "trace", "2", "--pcap", trace, "--seconds", "1"]).status == 0)
        #expect(try run("trunkctl", ["pri", "debug", "--pcap", trace]).status == 0)
        for arguments in [["pri", "call", "1", "12ab"], ["pri", "show", "span", "3"], ["pri", "restart", "2/16"], ["pri", "hangup", "2/5"]] {
            let result = try run("trunkctl", ["--data", data] + arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
    }

    @Test("configured backends: dahdi and alsa declarations open the real backends and fail naming the device")
    func configuredBackends() throws {
        let data = temporaryDataFolder()
        let dahdi = data + "/dahdi.toml"
        try "[[span]]\nspan = 1\nbackend = \"dahdi\"\nchannels = \"1-31\"\n".write(toFile: dahdi, atomically: true, encoding: .utf8)
        let check = try run("trunkctl", ["config", "check", dahdi])
        #expect(check.status == 0 && check.stdout.contains("OK (1 span(s), 0 port(s))"))
        // No DAHDI kernel modules on this machine: trunkd says so and names the span's line.
        let noCards = try run("trunkd", ["--data", data, "--config", dahdi], timeout: 20)
        #expect(noCards.status == 1)
        #expect(noCards.stderr.contains("\(dahdi):1:1: span 1 uses backend dahdi, but no DAHDI devices were found"))

        let alsa = data + "/alsa.toml"
        try "[[port]]\nname = \"tap1\"\nbackend = \"alsa\"\ndevice = \"hw:7,0\"\n".write(toFile: alsa, atomically: true, encoding: .utf8)
        let noSoundCard = try run("trunkd", ["--data", data, "--config", alsa], timeout: 20)
        #expect(noSoundCard.status == 1)
        #expect(noSoundCard.stderr.contains("port tap1: ALSA capture device hw:7,0: "))

        let broken = data + "/broken.toml"
        try "[[span]]\nspan = 1\nbackend = \"virtual\"\ndchannel = 15\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let refused = try run("trunkctl", ["config", "check", broken])
        #expect(refused.status == 1)
        #expect(refused.stderr == "\(broken):4:12: span 1: an E1 PRI carries its D-channel on timeslot 16, not 15\n")
        #expect(try run("trunkd", ["--data", data, "--config", broken], timeout: 20).status == 1)
    }

    @Test("virtual spans from a configuration file run as their own lab")
    func configuredVirtualSpans() throws {
        let data = temporaryDataFolder()
        let file = data + "/lab.toml"
        try """
            [[span]]
            span = 7
            backend = "virtual"
            signalling = "pri_net"
            [[span]]
            span = 8
            backend = "virtual"
            timing = 1
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let trunkd = try Daemon("trunkd", ["--data", data, "--config", file])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        #expect(try waitForStatus(["--data", data]) { alarmsBySpan($0) == [7: 0, 8: 0] })
        var spans = try run("trunkctl", ["--data", data, "pri", "show", "spans"])
        for _ in 0..<50 where spans.status != 0 {
            usleep(100_000)
            spans = try run("trunkctl", ["--data", data, "pri", "show", "spans"])
        }
        #expect(spans.stdout == "PRI span 7/0: Up, Active (network side)\nPRI span 8/0: Up, Active (user side)\n")
    }
}
