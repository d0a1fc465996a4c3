import Testing
@testable import TrunkGateway
import TrunkHardware
import TrunkISDN

@Suite("Configuration sections")
struct ConfigSectionTests {
    static let virtualPair = "[[span]]\nspan = 1\nbackend = \"virtual\"\nsignalling = \"pri_net\"\n"

    /// Each broken file must be refused with exactly this line:column and a message starting so.
    static let broken: [(name: String, text: String, position: String, message: String)] = [
        // signalling and line settings of a span
        ("unknown switch type", "[[span]]\nspan = 1\nbackend = \"virtual\"\nswitch_type = \"ni2\"\n", "4:15",
         "switch_type must be one of \"euroisdn\", not \"ni2\""),
        ("timer out of range", "[[span]]\nspan = 1\nbackend = \"virtual\"\nt303 = 50\n", "4:8", "t303 must be 1000…60000, not 50"),
        ("timer as a string", "[[span]]\nspan = 1\nbackend = \"virtual\"\nt200 = \"1s\"\n", "4:8", "t200 must be an integer, not a string"),
        ("line build-out out of range", "[[span]]\nspan = 1\nbackend = \"virtual\"\nline_build_out = 9\n", "4:18", "line_build_out must be 0…7, not 9"),
        ("overlap dialling not a boolean", "[[span]]\nspan = 1\nbackend = \"virtual\"\noverlap_dial = 1\n", "4:16", "overlap_dial must be true or false, not an integer"),
        ("overlap dialling the driver does not do", "[[span]]\nspan = 1\nbackend = \"virtual\"\noverlap_dial = true\n", "4:16",
         "overlap_dial = true is not supported yet"),
        ("RESTART on bring-up the driver does not send", "[[span]]\nspan = 1\nbackend = \"virtual\"\nrestart_on_up = true\n", "4:17",
         "restart_on_up = true is not supported yet"),
        ("duplicate timing priority",
         virtualPair + "timing = 1\n[[span]]\nspan = 2\nbackend = \"virtual\"\ntiming = 1\n", "6:1",
         "span 2: timing priority 1 is already given to span 1"),
        ("timing loop across a cable",
         virtualPair + "timing = 2\n[[span]]\nspan = 2\nbackend = \"virtual\"\ntiming = 1\n", "6:1",
         "span 2: spans 1 and 2 are cabled to each other and both take timing from the line"),
        // analog ports
        ("analog port without channel", "[[analog]]\nport = \"fxs\"\n", "1:1", "[[analog]] needs channel"),
        ("unknown analog port kind", "[[analog]]\nchannel = 63\nport = \"fxx\"\n", "3:8", "port must be one of \"fxs\", \"fxo\", not \"fxx\""),
        ("FXS declared on an FXO port", "[[analog]]\nchannel = 67\nport = \"fxs\"\n", "1:1",
         "channel 67 is declared fxs, but on the simulator's embedded default it is an FXO port"),
        ("analog port on an E1 timeslot", "[[analog]]\nchannel = 5\nport = \"fxo\"\n", "1:1", "channel 5 is already used by span 1, not an analog port"),
        ("analog port declared twice", "[[analog]]\nchannels = \"63-64\"\nport = \"fxs\"\n[[analog]]\nchannel = 64\nport = \"fxs\"\n", "4:1",
         "channel 64 is declared twice as an analog port (first at line 1)"),
        ("ring cadence on an FXO port", "[[analog]]\nchannel = 67\nport = \"fxo\"\nring_cadence = [1000, 4000]\n", "4:16",
         "ring_cadence applies to fxs ports"),
        ("ring cadence not in pairs", "[[analog]]\nchannel = 63\nport = \"fxs\"\nring_cadence = [1000]\n", "4:16", "ring_cadence must be on/off pairs"),
        ("caller ID detection on an FXS port", "[[analog]]\nchannel = 63\nport = \"fxs\"\ncallerid = \"auto\"\n", "4:12",
         "callerid \"auto\" applies to fxo ports"),
        ("gain out of range", "[[analog]]\nchannel = 63\nport = \"fxs\"\nrx_gain_db = 30\n", "4:14", "rx_gain_db must be -24…12 dB, not 30.0"),
        ("echo tail too long", "[[analog]]\nchannel = 63\nport = \"fxs\"\necho_tail_ms = 256\n", "4:16", "echo_tail_ms must be 32…128, not 256"),
        // tones
        ("tone zone without a plan", "[tones]\nzone = \"us\"\n", "2:8", "zone must be one of \"cn\" (the tone plans Trunkline carries), not \"us\""),
        ("unknown key in [tones]", "[tones]\nregion = \"cn\"\n", "2:1", "unknown setting region in [tones]"),
        // trunk groups
        ("unknown hunt order", "[[trunk_group]]\nname = \"in\"\nspans = [2]\nhunt = \"random\"\n", "4:8",
         "hunt must be one of \"ascending\", \"descending\", \"round_robin\", not \"random\""),
        ("trunk group on an unknown span", "[[trunk_group]]\nname = \"in\"\nspans = [9]\n", "3:9", "trunk group in: span 9 is not declared (spans: 1, 2, 3, 4)"),
        ("trunk group takes the D-channel", "[[trunk_group]]\nname = \"in\"\nchannels = \"32-62\"\n", "3:12",
         "trunk group in: channel 47 is span 2's D-channel (timeslot 16), not a B-channel"),
        ("channel in two trunk groups", "[[trunk_group]]\nname = \"a\"\nspans = [2]\n[[trunk_group]]\nname = \"b\"\nchannels = \"40-41\"\n", "4:1",
         "trunk group b: channel 40 is already in trunk group a"),
        ("trunk group without members", "[[trunk_group]]\nname = \"in\"\n", "1:1", "trunk group in needs spans"),
        // routes
        ("route to an unknown trunk group", "[[route]]\ndnis = \"955XX\"\ntrunk_group = \"agents\"\n", "3:15",
         "route: unknown trunk group \"agents\" (none declared)"),
        ("route on an unknown span", "[[route]]\nspan = 7\nflow = \"default\"\n", "2:8", "route: span 7 is not declared"),
        ("route with two actions", "[[route]]\nflow = \"default\"\nreject = 17\n", "3:1",
         "a route needs exactly one of trunk_group, flow or reject, not flow and reject"),
        ("bad DNIS pattern", "[[route]]\ndnis = \"95-5\"\nflow = \"default\"\n", "2:8", "dnis must be digits with X"),
        ("reject cause out of range", "[[route]]\nreject = 200\n", "2:10", "reject must be 1…127, not 200"),
        ("unknown built-in flow", "[[route]]\nflow = \"ivr\"\n", "2:8", "flow must be one of the built-in flows \"default\", not \"ivr\""),
        // CTI
        ("TCP listener without a port", "[cti]\ntcp = \"localhost\"\n", "2:7", "tcp must be \"HOST:PORT\""),
        ("relative Unix socket path", "[cti]\nunix = \"cti.sock\"\n", "2:8", "unix must be an absolute socket path"),
        ("unknown key in [cti]", "[cti]\nport = 7070\n", "2:1", "unknown setting port in [cti]"),
        ("TLS listener without its files", "[cti]\ntls = \"127.0.0.1:7443\"\n", "2:7", "tls listeners need tls_cert"),
        ("TLS files without a listener", "[cti]\ntls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\n", "2:12",
         "tls_cert is set but there is no tls listener"),
        ("relative TLS certificate path", "[cti]\ntls = \"127.0.0.1:7443\"\ntls_cert = \"cert.pem\"\ntls_key = \"/k.pem\"\n", "3:12",
         "tls_cert must be an absolute path to a PEM certificate file"),
        ("one address both tcp and tls",
         "[cti]\ntcp = \"127.0.0.1:7443\"\ntls = \"127.0.0.1:7443\"\ntls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\n", "3:7",
         "127.0.0.1:7443 is both a tcp and a tls listener"),
        ("token too short", "[[cti.token]]\nname = \"acd\"\ntoken = \"short\"\npermissions = [\"call\"]\n", "3:9",
         "token acd: a token needs at least 16 characters, this has 5"),
        ("unknown permission", "[[cti.token]]\nname = \"acd\"\ntoken = \"0123456789abcdef\"\npermissions = [\"call\", \"god\"]\n", "4:24",
         "permissions are among call, media, record, supervise, config, admin, not \"god\""),
        ("two tokens with one secret",
         "[[cti.token]]\nname = \"a\"\ntoken = \"0123456789abcdef\"\npermissions = [\"call\"]\n[[cti.token]]\nname = \"b\"\ntoken = \"0123456789abcdef\"\npermissions = [\"call\"]\n",
         "5:1", "token b has the same secret as token a"),
        ("token scoped to an unknown span", "[[cti.token]]\nname = \"qa\"\ntoken = \"0123456789abcdef\"\npermissions = [\"record\"]\nspans = [12]\n", "5:9",
         "token qa: span 12 is not declared"),
        ("bad dotted table name", "[[cti.]]\n", "1:7", "expected a table name after '.', found ']'"),
        // alarms
        ("alarm history under three months", "[alarms]\nhistory_days = 30\n", "2:16",
         "history_days must be at least 90 (alarm history is kept three months), not 30"),
        ("storage threshold out of range", "[alarms]\nstorage_percent = 100\n", "2:19", "storage_percent must be 50…99, not 100"),
    ]

    @Test("broken sections are refused with file, line, column and what is expected", arguments: 0..<broken.count)
    func brokenSection(_ index: Int) {
        let case_ = Self.broken[index]
        do {
            _ = try TrunklineConfig.parse(text: case_.text, file: "trunkline.toml")
            Issue.record("\(case_.name): accepted")
        } catch {
            let match = error.errors.first { "\($0.position)" == case_.position && $0.message.hasPrefix(case_.message) }
            #expect(match != nil, "\(case_.name): got \(error.errors.map(\.description))")
            #expect(error.errors.allSatisfy { $0.file == "trunkline.toml" })
        }
    }

    @Test("an FXS port declared on DAHDI hardware that only offers FXO is refused, named after the devices")
    func fxsOnDAHDIFXO() throws {
        let hardware = HardwarePorts(source: "the DAHDI devices", kinds: [33: .fxo, 34: .fxo])
        let text = "[[analog]]\nbackend = \"dahdi\"\nchannel = 33\nport = \"fxs\"\n"
        do {
            _ = try TrunklineConfig.parse(text: text, file: "t.toml", hardware: hardware)
            Issue.record("accepted")
        } catch {
            #expect(error.errors.map(\.description) == ["t.toml:1:1: channel 33 is declared fxs, but on the DAHDI devices it is an FXO port"])
        }
        let fxo = try TrunklineConfig.parse(text: text.replacingOccurrences(of: "\"fxs\"", with: "\"fxo\""), file: "t.toml", hardware: hardware)
        #expect(fxo.analogPorts.map(\.kind) == [.fxo])
    }

    static let complete = """
        # The call centre's node: the lab's two E1 spans, its analog ports, routing and CTI.
        [[span]]
        span = 1
        backend = "virtual"
        signalling = "pri_net"
        [[span]]
        span = 2
        backend = "virtual"
        signalling = "pri_cpe"
        timing = 1
        switch_type = "euroisdn"
        overlap_dial = false
        restart_on_up = false
        t303 = 6000
        t200 = 1500
        n316 = 3
        t310 = 30000
        echo_tail_ms = 128

        [[analog]]
        channels = "63-64"
        port = "fxs"
        start = "loopstart"
        callerid = "dtmf"
        ring_cadence = [400, 200, 400, 2000]
        tx_gain_db = -3.5

        [[analog]]
        channel = 67
        port = "fxo"
        echo_canceller = false

        [tones]
        zone = "cn"

        [[trunk_group]]
        name = "carrier"
        spans = [2]
        hunt = "round_robin"

        [[trunk_group]]
        name = "phones"
        channels = "63-64"
        hunt = "descending"

        [[route]]
        dnis = "955XX"
        span = 2
        trunk_group = "phones"
        [[route]]
        dnis = "110"
        reject = 21
        [[route]]
        flow = "default"

        [cti]
        tcp = ["127.0.0.1:7070", "[::1]:7070"]
        unix = "/run/trunkline/cti.sock"

        [[cti.token]]
        name = "acd"
        token = "b7f3c1d2e4a59687"
        permissions = ["call", "media", "supervise"]
        spans = [2]
        idle_timeout_s = 600

        [alarms]
        slip_burst_count = 3
        slip_burst_window_s = 30
        history_days = 120
        """

    @Test("a complete configuration reads into typed sections with the defaults named in the docs")
    func completeConfig() throws {
        let config = try TrunklineConfig.parse(text: Self.complete, file: "t.toml")
        let span2 = try #require(config.spans.last)
        #expect(!span2.pri.overlapDial && !span2.pri.restartOnBringUp && span2.pri.switchType == .euroisdn)
        #expect(span2.pri.timers == ["t303": 6000, "t200": 1500, "n316": 3, "t310": 30000])
        #expect(span2.echo == EchoSettings(enabled: true, tailMs: 128))
        #expect(config.spans.first?.pri == PRISettings())

        let q931 = span2.pri.callControl(role: .user)
        #expect(q931.t303 == .seconds(6) && q931.n316 == 3 && q931.t310 == .seconds(30) && q931.t305 == .seconds(30))
        let q921 = span2.pri.dataLink(role: .user)
        #expect(q921.t200 == .milliseconds(1500) && q921.t203 == .seconds(10) && q921.k == 7)
        #expect(PRISettings().callControl(role: .network).t310 == nil)

        #expect(config.analogPorts.map(\.channel) == [63, 64, 67])
        #expect(config.analogPorts[0].start == .loopstart && config.analogPorts[0].callerID == .dtmf)
        #expect(config.analogPorts[0].ringCadenceMs == [400, 200, 400, 2000] && config.analogPorts[0].txGainDB == -3.5)
        #expect(config.analogPorts[2].callerID == .auto && config.analogPorts[2].start == .kewlstart && !config.analogPorts[2].echo.enabled)
        #expect(config.tones.zone == "cn")
        #expect(config.trunkGroups.map(\.hunt) == [.roundRobin, .descending])
        #expect(config.routes.map(\.action) == [.trunkGroup("phones"), .reject(cause: 21), .flow("default")])
        #expect(config.cti.tcp == [.init(host: "127.0.0.1", port: 7070), .init(host: "::1", port: 7070)])
        #expect(config.cti.unix == ["/run/trunkline/cti.sock"])
        #expect(config.cti.tokens.first?.permissions == [.call, .media, .supervise] && config.cti.tokens.first?.idleTimeoutSeconds == 600)
        #expect(config.alarms.slipBurstCount == 3 && config.alarms.historyDays == 120 && config.alarms.storagePercent == 90)
        #expect(config.channelNumbers(ofSpan: 2) == Array(32...62) && config.dChannel(ofSpan: 2) == 47)
    }

    @Test("DNIS patterns match as Asterisk's extension letters do")
    func dnisPatterns() {
        #expect(RouteConfig.matches(pattern: "955XX", number: "95500"))
        #expect(!RouteConfig.matches(pattern: "955XX", number: "9550"))
        #expect(!RouteConfig.matches(pattern: "955XX", number: "955001"))
        #expect(RouteConfig.matches(pattern: "N1X", number: "210") && !RouteConfig.matches(pattern: "N1X", number: "110"))
        #expect(RouteConfig.matches(pattern: "Z0", number: "10") && !RouteConfig.matches(pattern: "Z0", number: "00"))
        #expect(RouteConfig.matches(pattern: "400.", number: "4008123") && !RouteConfig.matches(pattern: "400.", number: "400"))
    }
}
