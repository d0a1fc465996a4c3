import Foundation
import Testing

/// trunkctl's output as technicians and scripts see it: text compared whole, JSON compared by
/// shape (every key path and value type), volatile fields (host, uptime, times, paths) normalised.
@Suite("trunkctl golden output, run as built", .serialized)
struct GoldenOutputTests {
    /// "spans[].status.span: number" for every leaf; arrays collapse to [].
    static func shape(_ json: String) -> [String] {
        var out = Set<String>()
        func walk(_ value: Any, _ path: String) {
            switch value {
            case let object as [String: Any]:
                if object.isEmpty { out.insert("\(path): {}") }
                for (key, item) in object { walk(item, path.isEmpty ? key : path + "." + key) }
            case let array as [Any]:
                if array.isEmpty { out.insert("\(path)[]: empty") }
                for item in array { walk(item, path + "[]") }
            case let number as NSNumber:
                // Foundation hands JSON true/false back as an NSNumber of C type char.
                out.insert("\(path): \(String(cString: number.objCType) == "c" ? "bool" : "number")")
            case is String: out.insert("\(path): string")
            default: out.insert("\(path): null")
            }
        }
        walk((try? JSONSerialization.jsonObject(with: Data(json.utf8))) ?? [:], "")
        return out.sorted()
    }

    static func normalise(_ text: String, data: String) -> String {
        text.replacingOccurrences(of: #"on \S+, up \d\d:\d\d:\d\d"#, with: "on HOST, up UPTIME", options: .regularExpression)
            .replacingOccurrences(of: #"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"#, with: "TIME", options: .regularExpression)
            .replacingOccurrences(of: data, with: "DATA")
    }

    static let configFile = """
        [[span]]
        span = 1
        backend = "virtual"
        signalling = "pri_net"
        t303 = 6000
        [[span]]
        span = 2
        backend = "virtual"
        timing = 1
        crc4 = false
        [[analog]]
        channel = 63
        port = "fxs"
        [[trunk_group]]
        name = "agents"
        spans = [2]
        [[route]]
        dnis = "955XX"
        trunk_group = "agents"

        """

    @Test("status, chan show, span counters, alarms, config check and config apply --dry-run: text and JSON shapes")
    func golden() throws {
        let data = temporaryDataFolder()
        let trunkd = try Daemon("trunkd", ["--data", data])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        let ctl = { (arguments: [String]) throws -> RunResult in try run("trunkctl", ["--data", data] + arguments) }

        let status = try ctl(["status"])
        #expect(status.status == 0)
        #expect(Self.normalise(status.stdout, data: data) == """
            Trunkline 0.1.0 on HOST, up UPTIME; timing source: span 2

            SPAN  TYPE    ROLE     ALARMS        CHANNELS     OPEN  FRAMING   DESCRIPTION
               1  E1      network  OK            31 (30B+D)      1  CCS/CRC4  Virtual E1 PRI network side (carrier), cabled to span 2
               2  E1      user     OK            31 (30B+D)      1  CCS/CRC4  Virtual E1 PRI user side (trunk), cabled to span 1
               3  analog  -        OK            4 FXS           4  -         Virtual analog card, 4 FXS ports, cabled to span 4
               4  analog  -        OK            4 FXO           4  -         Virtual analog card, 4 FXO ports, cabled to span 3

            Analog ports: 8 (4 FXS, 4 FXO)

            virtual:  line simulator (embedded default), spans 1, 2, 3, 4
            dahdi:    no DAHDI devices found (/dev/dahdi does not exist: the DAHDI kernel modules are not loaded)

            """)

        let alarms = try ctl(["alarms"])
        #expect(alarms.status == 0 && alarms.stdout == "0 active alarm(s); history kept 180 days\nno alarms recorded\n")
        #expect(Self.shape(try ctl(["alarms", "--json"]).stdout) == ["activeCount: number", "alarms[]: empty", "historyDays: number"])

        let counters = try ctl(["span", "counters", "1"])
        #expect(counters.status == 0 && counters.stdout ==
                "span 1 (OK): BPV 0  CRC4 0  FAS 0  E-bit 0  errored s 0  slips 0  bad FCS 0  aborts 0  overruns 0\n")

        // A call from the carrier rings B-channel 5 of span 2.
        var placed = try ctl(["pri", "call", "1", "95505", "--from", "13800138000", "--channel", "5"])
        let deadline = Date().addingTimeInterval(10)
        while placed.status != 0 && Date() < deadline {  // the D-channels come up within a few ms of start
            usleep(100_000)
            placed = try ctl(["pri", "call", "1", "95505", "--from", "13800138000", "--channel", "5"])
        }
        var chan = try ctl(["chan", "show", "2/5"])
        while !chan.stdout.contains("connected") && Date() < deadline {
            usleep(50_000)
            chan = try ctl(["chan", "show", "2/5"])
        }
        #expect(chan.status == 0 && chan.stdout == """
            Channel 2/5 (DAHDI channel 36): E1 B-channel
              law alaw, block 64 samples, open
              hook off-hook, polarity normal, span alarms OK
              PRI: connected, call in#1, 13800138000 → 95505 (Q.931 state 10)

            """)
        #expect(Self.shape(try ctl(["chan", "show", "2/5", "--json"]).stdout) == [
            "maintenance.address: string", "maintenance.call: string", "maintenance.kind: string", "maintenance.maintenance: string",
            "maintenance.state: string",
            "parameters.alarms: number", "parameters.blockSize: number", "parameters.chanPos: number", "parameters.channel: number",
            "parameters.hookState: string", "parameters.isOpen: bool", "parameters.law: string", "parameters.linear: bool",
            "parameters.polarityReversed: bool", "parameters.signalling: string", "parameters.span: number", "position: number",
            "pri.call: string", "pri.callState: number", "pri.channel: number", "pri.numbers: string", "pri.state: string",
            "span: number", "spanAlarms[]: empty",
        ])
        let blocked = try ctl(["chan", "block", "2/6"])
        #expect(blocked.status == 0 && blocked.stdout == "2/6: blocked\n")
        #expect(try ctl(["chan", "show", "2/6"]).stdout.hasSuffix("  PRI: blocked\n  maintenance: blocked\n"))
        #expect(Self.shape(try ctl(["chan", "block", "2/6", "--json"]).stdout) == [
            "address: string", "kind: string", "maintenance: string", "state: string",
        ])
        let analog = try ctl(["chan", "block", "3/1"])
        #expect(analog.status == 0 && analog.stdout == "3/1: blocked (the port is never rung)\n")
        let fxo = try ctl(["chan", "block", "4/4"])
        #expect(fxo.status == 0 && fxo.stdout == "4/4: blocked (the line is busied out: off hook, the exchange sees it busy)\n")
        #expect(try ctl(["status"]).stdout.contains("\nMaintenance: 2/6 blocked, 3/1 blocked, 4/4 blocked\n\n"))
        #expect(try ctl(["chan", "unblock", "4/4"]).stdout == "4/4: in service\n")
        let dChannel = try ctl(["chan", "block", "2/16"])
        #expect(dChannel.status == 1 && dChannel.stderr == "trunkctl: 2/16 is the D-channel; block B-channels (1-15, 17-31)\n")
        let missing = try ctl(["chan", "block", "4/9"])
        #expect(missing.status == 1 && missing.stderr == "trunkctl: span 4 has no FXO port 9 (ports: 1, 2, 3, 4)\n")
        let tone = try ctl(["chan", "tone", "1/7", "1004Hz", "-10dBm0", "--seconds", "5"])
        #expect(tone.status == 0 && tone.stdout == "1/7: sending 1004 Hz at -10 dBm0 for 5 s\n")
        #expect(Self.shape(try ctl(["chan", "tone", "1/7", "off", "--json"]).stdout) == ["address: string", "playing: bool"])

        let file = data + "/trunkline.toml"
        try Self.configFile.write(toFile: file, atomically: true, encoding: .utf8)
        let check = try ctl(["config", "check", file])
        #expect(check.status == 0 && Self.normalise(check.stdout, data: data) == """
            DATA/trunkline.toml: OK (2 span(s), 0 port(s))
              1 analog port(s), 1 trunk group(s), 1 route(s), 0 CTI token(s), tone zone cn

            """)
        let dryRun = try ctl(["config", "apply", "--dry-run", file])
        #expect(dryRun.status == 0 && Self.normalise(dryRun.stdout, data: data) == """
            DATA/trunkline.toml: would change:
              span 1: T303 4000 → 6000 ms (stack retimed, link and calls stay up)
            ! span 2: crc4 true → false (needs restart)
              analog 63: added (fxs, kewlstart): channel opened
              trunk group agents: added
              routes: 0 → 1 route(s), order and targets as in the file (stored for the call manager)
            (! = needs a trunkd restart)

            """)
        #expect(Self.shape(try ctl(["config", "apply", "--dry-run", "--json", file]).stdout) == [
            "applied: bool", "diff.changes[].action: string", "diff.changes[].scope: string", "diff.changes[].what: string",
            "diff.portsAdded[]: number", "diff.portsRemoved[]: empty", "diff.spansRetimed[]: number", "dryRun: bool", "file: string", "user: string",
        ])

        #expect(try ctl(["sim", "cut", "1"]).status == 0)
        var cut = try ctl(["alarms", "--active"])
        while cut.status != 2 && Date() < deadline.addingTimeInterval(5) {
            usleep(100_000)
            cut = try ctl(["alarms", "--active"])
        }
        #expect(cut.status == 2)
        #expect(Self.shape(try ctl(["alarms", "--json"]).stdout) == [
            "activeCount: number", "alarms[].id: number", "alarms[].kind: string", "alarms[].message: string", "alarms[].raisedAt: number",
            "alarms[].severity: string", "alarms[].span: number", "historyDays: number",
        ])
        #expect(try ctl(["status"]).status == 2, "exit 2 while an alarm is present")
    }

    @Test("completion scripts for bash (checked by bash -n), zsh and fish name the commands")
    func completions() throws {
        let bash = try run("trunkctl", ["completions", "bash"])
        #expect(bash.status == 0 && bash.stdout.contains("_trunkctl") && bash.stdout.contains("import-dahdi") && bash.stdout.contains("alarms"))
        let file = NSTemporaryDirectory() + "trunkctl-completion-\(UUID().uuidString).bash"
        try bash.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try run("/bin/bash", ["-n", file], absolute: true).status == 0, "the bash script parses")
        let zsh = try run("trunkctl", ["completions", "zsh"])
        #expect(zsh.status == 0 && zsh.stdout.hasPrefix("#compdef trunkctl"))
        let fish = try run("trunkctl", ["completions", "fish"])
        #expect(fish.status == 0 && fish.stdout.contains("complete -c 'trunkctl'") && fish.stdout.contains("'alarms'"))
        #expect(try run("trunkctl", ["completions", "tcsh"]).status != 0)
    }

    @Test("every command's help names examples")
    func helpHasExamples() throws {
        for command in [["config", "apply"], ["config", "import-dahdi"], ["alarms"], ["chan"], ["span", "counters"], ["completions"],
                        ["chan", "block"], ["chan", "tone"], ["chan", "level"], ["chan", "monitor"]] {
            let help = try run("trunkctl", command + ["--help"])
            #expect(help.status == 0 && help.stdout.contains("Examples:"), "\(command)")
        }
    }
}
