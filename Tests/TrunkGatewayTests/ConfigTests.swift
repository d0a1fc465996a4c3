import Testing
@testable import TrunkGateway
import TrunkHardware

@Suite("Configuration files")
struct ConfigTests {
    /// Each broken file must be refused with this line:column and a message starting so.
    static let broken: [(name: String, text: String, position: String, message: String)] = [
        ("unquoted string", "[[span]]\nspan = 1\nbackend = dahdi\n", "3:11", "'dahdi' is not a value: strings need double quotes"),
        ("unclosed string", "[[port]]\nname = \"tap\n", "2:8", "this string is not closed"),
        ("missing equals", "[[span]]\nspan 1\n", "2:6", "expected '=' after span"),
        ("bad table header", "[[span]\nspan = 1\n", "1:8", "expected ']]' to close [[span]]"),
        ("table defined twice", "[lab]\n[lab]\n", "2:1", "table [lab] is defined twice"),
        ("unknown table", "[trunks]\n", "1:1", "unknown table [trunks]"),
        ("key set twice", "[[span]]\nspan = 1\nspan = 2\n", "3:1", "span is set twice"),
        ("garbage after value", "[[span]]\nspan = 1 2\n", "2:10", "expected the end of the line"),
        ("key at top level", "span = 1\n", "1:1", "span is not a setting of the top of the file"),
        ("unknown key", "[[span]]\nspan = 1\nbackend = \"virtual\"\ncolour = \"red\"\n", "4:1", "unknown setting colour in [[span]]"),
        ("wrong type: integer", "[[span]]\nspan = \"one\"\nbackend = \"virtual\"\n", "2:8", "span must be an integer, not a string"),
        ("wrong type: boolean", "[[span]]\nspan = 1\nbackend = \"virtual\"\ncrc4 = \"yes\"\n", "4:8", "crc4 must be true or false"),
        ("out of range", "[[span]]\nspan = 200\nbackend = \"virtual\"\n", "2:8", "span must be 1…128, not 200"),
        ("unknown backend", "[[span]]\nspan = 1\nbackend = \"zaptel\"\n", "3:11", "backend must be one of \"dahdi\", \"alsa\", \"virtual\""),
        ("missing backend", "[[span]]\nspan = 1\n", "1:1", "[[span]] needs backend"),
        ("D-channel off TS16", "[[span]]\nspan = 1\nbackend = \"virtual\"\ndchannel = 15\n", "4:12", "span 1: an E1 PRI carries its D-channel on timeslot 16"),
        ("dahdi span without channels", "[[span]]\nspan = 1\nbackend = \"dahdi\"\n", "1:1", "span 1: a dahdi span needs channels"),
        ("wrong channel count", "[[span]]\nspan = 1\nbackend = \"dahdi\"\nchannels = \"1-30\"\n", "4:12", "span 1: an E1 has 31 channels"),
        ("bad channel range", "[[span]]\nspan = 1\nbackend = \"dahdi\"\nchannels = \"31-1\"\n", "4:12", "channels must be channel numbers like"),
        ("channel used twice", "[[span]]\nspan = 1\nbackend = \"dahdi\"\nchannels = \"1-31\"\n[[span]]\nspan = 2\nbackend = \"dahdi\"\nchannels = \"31-61\"\n",
         "5:1", "span 2: channel 31 is already used by span 1"),
        ("span defined twice", "[[span]]\nspan = 1\nbackend = \"virtual\"\n[[span]]\nspan = 1\nbackend = \"virtual\"\n", "4:1", "span 1 is defined twice"),
        ("E1 on a sound card", "[[span]]\nspan = 1\nbackend = \"alsa\"\n", "3:11", "span 1: an E1 span cannot run on an ALSA sound card"),
        ("CAS framing", "[[span]]\nspan = 1\nbackend = \"virtual\"\nframing = \"cas\"\n", "4:11", "framing must be \"ccs\""),
        ("ALSA port without device", "[[port]]\nname = \"tap1\"\nbackend = \"alsa\"\n", "1:1", "[[port]] needs device"),
        ("port on the wrong backend", "[[port]]\nname = \"tap1\"\nbackend = \"dahdi\"\n", "3:11", "port tap1: sound-card ports use backend \"alsa\""),
        ("VOX thresholds crossed", "[[port]]\nname = \"t\"\nbackend = \"alsa\"\ndevice = \"hw:1\"\nvox_start_dbfs = -50\nvox_stop_dbfs = -40\n", "6:17", "vox_stop_dbfs (-40.0) must not be above"),
        ("mixed virtual and dahdi", "[[span]]\nspan = 1\nbackend = \"virtual\"\n[[span]]\nspan = 2\nbackend = \"dahdi\"\nchannels = \"1-31\"\n", "1:1", "span 1: virtual and dahdi spans cannot be mixed"),
        ("unclosed array", "[[span]]\nspan = 1\nbackend = \"dahdi\"\nchannels = [1, 2\n", "4:12", "this array is not closed"),
        ("recording root not absolute", "[recording]\nroot = \"recs\"\n", "2:8", "root must be an absolute folder path"),
        ("recording retention under 30 days", "[recording]\nroot = \"/r\"\nretention = \"7d\"\n", "3:13", "retention class \"7d\" keeps recordings 7 days; the minimum is 30"),
        ("recording unknown format", "[recording]\nroot = \"/r\"\nformat = \"mp3\"\n", "3:10", "format must be one of \"pcm16\", \"alaw\", \"mulaw\""),
        ("recording key inside root", "[recording]\nroot = \"/r\"\nkey_file = \"/r/k.key\"\n", "3:12", "key_file must lie outside the recordings root /r"),
        ("recording checkpoint too long", "[recording]\nroot = \"/r\"\ncheckpoint_seconds = 10\n", "3:22", "checkpoint_seconds must be 0.1…5"),
        ("recording spans not an array", "[recording]\nroot = \"/r\"\nfull_time_spans = 2\n", "3:19", "full_time_spans must be an array"),
        ("recording unknown key", "[recording]\nroot = \"/r\"\nencrypt = true\n", "3:1", "unknown setting encrypt in [[recording]]"),
        ("user unknown role", "[[user]]\nname = \"li\"\nrole = \"boss\"\n", "3:8", "role must be one of \"agent\", \"department\", \"qa\", \"admin\""),
        ("agent without agent_id", "[[user]]\nname = \"li\"\nrole = \"agent\"\n", "1:1", "user li: an agent needs agent_id"),
        ("qa without scope", "[[user]]\nname = \"wang\"\nrole = \"qa\"\n", "3:8", "user wang: a qa user needs tags or groups"),
        ("user tags not strings", "[[user]]\nname = \"wang\"\nrole = \"qa\"\ntags = [1]\n", "4:9", "tags lists strings in double quotes"),
        ("user defined twice", "[[user]]\nname = \"a\"\nrole = \"admin\"\n[[user]]\nname = \"a\"\nrole = \"admin\"\n", "4:1", "user a is defined twice"),
    ]

    @Test("broken configurations are refused with file, line, column and what is expected", arguments: 0..<broken.count)
    func brokenConfig(_ index: Int) {
        let case_ = Self.broken[index]
        do {
            _ = try TrunklineConfig.parse(text: case_.text, file: "trunkline.toml")
            Issue.record("\(case_.name): accepted")
        } catch {
            let first = error.errors.first { "\($0.position)" == case_.position && $0.message.hasPrefix(case_.message) }
            #expect(first != nil, "\(case_.name): got \(error.errors.map(\.description))")
            #expect(error.errors.allSatisfy { $0.file == "trunkline.toml" })
        }
    }

    @Test("a good configuration reads into spans and ports; comments and layout are free")
    func goodConfig() throws {
        let text = """
            # Two E1 PRI trunks on a TE420 and a line-tap card
            [[span]]
            span = 1
            backend = "dahdi"         # the carrier's first trunk
            channels = "1-31"
            signalling = "pri_cpe"
            timing = 1

            [[span]]
            span = 2
            backend = "dahdi"
            channels = [32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
                        48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62]
            crc4 = false

            [[port]]
            name = "tap1"
            backend = "alsa"
            device = "hw:1,0"
            vox_start_dbfs = -38.5
            vox_hang_ms = 3000
            """
        let config = try TrunklineConfig.parse(text: text, file: "t.toml")
        #expect(config.spans.map(\.number) == [1, 2])
        #expect(config.spans[0].channels == Array(1...31) && config.spans[0].timing == 1 && config.spans[0].signalling == .priCpe)
        #expect(config.spans[1].channels == Array(32...62) && !config.spans[1].crc4)
        #expect(config.ports.first?.device == "hw:1,0")
        #expect(config.ports.first?.vox.startLevelDBFS == -38.5 && config.ports.first?.vox.hangMs == 3000)
        #expect(!config.usesEmbeddedDefault)
        #expect(try TrunklineConfig.parse(text: "# nothing yet\n", file: "t.toml").usesEmbeddedDefault)
    }

    @Test("[recording] and [[user]] read into the recording settings and users")
    func recordingConfig() throws {
        let text = """
            [recording]
            root = "/var/lib/trunkline/recordings"
            format = "pcm16"
            layout = "mono"
            mode = "on-demand"
            full_time_spans = [1, 2]
            retention = "1y"
            storage_alarm_free_percent = 15
            storage_reserve_bytes = 1_000_000
            key_file = "/etc/trunkline/recording.key"

            [[user]]
            name = "li.na"
            role = "agent"
            agent_id = "1001"

            [[user]]
            name = "wang"
            role = "qa"
            groups = ["billing"]
            tags = ["vip"]
            """
        let config = try TrunklineConfig.parse(text: text, file: "t.toml")
        let recording = try #require(config.recording)
        #expect(recording.root == "/var/lib/trunkline/recordings" && recording.format.name == "pcm16/mono")
        #expect(recording.mode == .onDemand && recording.fullTimeSpans == [1, 2] && recording.retentionDefault.days == 365)
        #expect(recording.storageAlarmFreePercent == 15 && recording.storageReserveBytes == 1_000_000)
        #expect(recording.keyFile == "/etc/trunkline/recording.key")
        #expect(config.users.map(\.name) == ["li.na", "wang"])
        #expect(config.users[0].role == .agent && config.users[0].agentId == "1001")
        #expect(config.users[1].groups == ["billing"] && config.users[1].tags == ["vip"])
        #expect(config.usesEmbeddedDefault, "recording settings alone do not replace the lab")
    }

    @Test("virtual spans are cabled in pairs with the roles their signalling says")
    func virtualTopology() throws {
        let text = "[[span]]\nspan = 5\nbackend = \"virtual\"\nsignalling = \"pri_net\"\n[[span]]\nspan = 6\nbackend = \"virtual\"\ntiming = 1\n"
        let topology = try #require(try TrunklineConfig.parse(text: text, file: "t.toml").virtualTopology())
        #expect(topology.spans.map(\.number) == [5, 6])
        #expect(topology.spans.map(\.role) == [.network, .user])
        #expect(topology.cables == [SimulatorTopology.Cable(5, 6)])
        // Virtual analog ports bring the lab's FXS and FXO cards, numbered after the E1 spans.
        let withPorts = try TrunklineConfig.parse(text: text + "[[analog]]\nchannel = 65\nport = \"fxs\"\n", file: "t.toml")
        let lab = try #require(try withPorts.virtualTopology())
        #expect(lab.spans.map(\.kind) == [.e1, .e1, .fxs, .fxo] && lab.spans.map(\.number) == [5, 6, 7, 8])
        #expect(lab.cables.last == SimulatorTopology.Cable(7, 8))
        #expect(throws: ConfigErrors.self) {
            try TrunklineConfig.parse(text: text + "[[analog]]\nchannel = 70\nport = \"fxs\"\n", file: "t.toml")
        }
        let odd = try TrunklineConfig.parse(text: "[[span]]\nspan = 5\nbackend = \"virtual\"\n", file: "t.toml")
        #expect(throws: (any Error).self) { try odd.virtualTopology() }
    }
}
