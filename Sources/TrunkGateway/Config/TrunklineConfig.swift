import Foundation
import TrunkCore
import TrunkHardware
import TrunkRecording

/// trunkd's configuration: which spans and ports it drives and through which backend.
/// A file that declares no spans and no ports means the embedded default (the virtual lab).
public struct TrunklineConfig: Sendable {
    public enum Backend: String, Sendable, CaseIterable, Codable {
        case dahdi
        case alsa
        case virtual
    }

    public enum Signalling: String, Sendable, CaseIterable {
        case priNet = "pri_net"
        case priCpe = "pri_cpe"
    }

    public struct Span: Sendable {
        public var number: Int
        public var backend: Backend
        public var signalling: Signalling
        public var framing: String
        public var crc4: Bool
        public var lineCode: String
        public var timing: Int
        /// DAHDI channel numbers of the span's 31 timeslots (dahdi backend).
        public var channels: [Int]
        /// Timeslot of the D-channel.
        public var dchannel: Int
        public var position: SourcePosition
        /// Line build-out as DAHDI numbers it (0 for E1 on 120 Ω).
        public var lineBuildOut = 0
        public var pri = PRISettings()
        /// Echo canceller on the span's B-channels.
        public var echo = EchoSettings()
    }

    public enum PortUse: String, Sendable, CaseIterable {
        case lineTap = "line-tap"
        case operatorAudio = "operator"
    }

    public struct Port: Sendable {
        public var name: String
        public var backend: Backend
        public var device: String
        public var use: PortUse
        public var vox: VoxSettings
        public var position: SourcePosition
    }

    public var file: String
    public var spans: [Span] = []
    public var ports: [Port] = []
    public var analogPorts: [AnalogPortConfig] = []
    public var tones = ToneZone()
    public var trunkGroups: [TrunkGroupConfig] = []
    public var routes: [RouteConfig] = []
    public var cti = CTISettings()
    public var alarms = AlarmSettings()
    public var metrics = MetricsSettings()
    /// `[recording]`; nil: recordings go to the data folder with the defaults.
    public var recording: RecordingConfiguration?
    /// `[[user]]`: who may search, play and export recordings.
    public var users: [RecordingUser] = []
    /// `[flow]`: the built-in flow's timings; nil: its defaults.
    public var flow: BuiltInFlow.Configuration?

    public var usesEmbeddedDefault: Bool { spans.isEmpty && ports.isEmpty && !analogPorts.contains { $0.backend == .dahdi } }

    public static func load(path: String, hardware: HardwarePorts? = nil) throws -> TrunklineConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw TrunkError(.notFound, "cannot read configuration \(path): \((error as NSError).localizedDescription)")
        }
        return try parse(text: text, file: path, hardware: hardware)
    }

    /// Reads and checks a configuration; every problem comes back with file, line and column.
    /// `hardware` tells the kind of each DAHDI analog port where it is known.
    public static func parse(text: String, file: String, hardware: HardwarePorts? = nil) throws(ConfigErrors) -> TrunklineConfig {
        let document: ConfigDocument
        do {
            document = try ConfigDocument(file: file, text: text)
        } catch {
            throw ConfigErrors(errors: [error])
        }
        var reader = ConfigReader(file: file)
        var config = TrunklineConfig(file: file)
        var userPositions: [(RecordingUser, SourcePosition)] = []
        for table in document.tables {
            switch table.name {
            case "":
                reader.noKeys(table, context: "the top of the file (put settings under a [table])")
            case "span": if let span = reader.span(table) { config.spans.append(span) }
            case "port": if let port = reader.port(table) { config.ports.append(port) }
            case "analog": config.analogPorts += reader.analogPorts(table)
            case "tones": config.tones = reader.toneZone(table)
            case "trunk_group": if let group = reader.trunkGroup(table) { config.trunkGroups.append(group) }
            case "route": if let route = reader.route(table) { config.routes.append(route) }
            case "cti": reader.ctiListeners(table, into: &config.cti)
            case "cti.token": if let token = reader.ctiToken(table) { config.cti.tokens.append(token) }
            case "alarms": config.alarms = reader.alarmSettings(table)
            case "metrics": config.metrics = reader.metricsSettings(table)
            case "recording": config.recording = reader.recording(table)
            case "flow": config.flow = reader.flowSettings(table)
            case "user": if let user = reader.user(table) { config.users.append(user); userPositions.append((user, table.position)) }
            default:
                reader.errors.append(ConfigError(file: file, position: table.position,
                                                 message: "unknown table [\(table.name)]; expected [[span]], [[port]], [[analog]], [tones], [[trunk_group]], [[route]], [cti], [[cti.token]], [alarms], [metrics], [recording], [flow] or [[user]]"))
            }
        }
        reader.crossCheck(config)
        reader.crossCheckSections(config, hardware: hardware)
        reader.crossCheckUsers(userPositions)
        reader.crossCheckRecording(config, document.tables.first { $0.name == "recording" })
        guard reader.errors.isEmpty else {
            throw ConfigErrors(errors: reader.errors.sorted { ($0.position.line, $0.position.column) < ($1.position.line, $1.position.column) })
        }
        return config
    }
}

public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Turns tables into typed settings, collecting every error rather than stopping at the first.
struct ConfigReader {
    let file: String
    var errors: [ConfigError] = []

    init(file: String) { self.file = file }

    mutating func fail(_ position: SourcePosition, _ message: String) {
        errors.append(ConfigError(file: file, position: position, message: message))
    }

    mutating func noKeys(_ table: ConfigTable, context: String) {
        for entry in table.entries { fail(entry.keyPosition, "\(entry.key) is not a setting of \(context)") }
    }

    /// Unknown keys are errors: a misspelt setting must not be silently ignored.
    mutating func checkKeys(_ table: ConfigTable, allowed: [String]) {
        for entry in table.entries where !allowed.contains(entry.key) {
            fail(entry.keyPosition, "unknown setting \(entry.key) in [[\(table.name)]]; expected one of: \(allowed.joined(separator: ", "))")
        }
    }

    func value(_ table: ConfigTable, _ key: String) -> ConfigValue? { table.entries.first { $0.key == key }?.value }

    mutating func integer(_ table: ConfigTable, _ key: String, in range: ClosedRange<Int>, default fallback: Int? = nil) -> Int? {
        guard let value = value(table, key) else {
            if fallback == nil { fail(table.position, "[[\(table.name)]] needs \(key)") }
            return fallback
        }
        guard case .integer(let number) = value.kind else {
            fail(value.position, "\(key) must be an integer, not \(value.typeName)")
            return nil
        }
        guard range.contains(number) else {
            fail(value.position, "\(key) must be \(range.lowerBound)…\(range.upperBound), not \(number)")
            return nil
        }
        return number
    }

    mutating func number(_ table: ConfigTable, _ key: String, default fallback: Double) -> Double {
        guard let value = value(table, key) else { return fallback }
        switch value.kind {
        case .integer(let number): return Double(number)
        case .float(let number): return number
        default:
            fail(value.position, "\(key) must be a number, not \(value.typeName)")
            return fallback
        }
    }

    mutating func boolean(_ table: ConfigTable, _ key: String, default fallback: Bool) -> Bool {
        guard let value = value(table, key) else { return fallback }
        guard case .boolean(let flag) = value.kind else {
            fail(value.position, "\(key) must be true or false, not \(value.typeName)")
            return fallback
        }
        return flag
    }

    mutating func string(_ table: ConfigTable, _ key: String, default fallback: String? = nil) -> String? {
        guard let value = value(table, key) else {
            if fallback == nil { fail(table.position, "[[\(table.name)]] needs \(key)") }
            return fallback
        }
        guard case .string(let text) = value.kind else {
            fail(value.position, "\(key) must be a string in double quotes, not \(value.typeName)")
            return nil
        }
        return text
    }

    mutating func choice<E: RawRepresentable & CaseIterable>(_ table: ConfigTable, _ key: String, default fallback: E? = nil) -> E?
    where E.RawValue == String {
        guard let text = string(table, key, default: fallback?.rawValue) else { return nil }
        guard let choice = E(rawValue: text) else {
            let position = value(table, key)?.position ?? table.position
            fail(position, "\(key) must be one of \(E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), not \"\(text)\"")
            return nil
        }
        return choice
    }

    /// "1-31" or [1, 2, 3] or "1-15,17-31": channel numbers.
    mutating func channelList(_ table: ConfigTable, _ key: String) -> [Int]? {
        guard let value = value(table, key) else { return nil }
        switch value.kind {
        case .array(let items):
            var numbers: [Int] = []
            for item in items {
                guard case .integer(let number) = item.kind, (1...1024).contains(number) else {
                    fail(item.position, "\(key) lists channel numbers 1…1024")
                    return nil
                }
                numbers.append(number)
            }
            return numbers
        case .string(let text):
            var numbers: [Int] = []
            for part in text.split(separator: ",") {
                let bounds = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard (1...2).contains(bounds.count), bounds.allSatisfy({ $0 != nil && (1...1024).contains($0!) }),
                      bounds.count == 1 || bounds[0]! <= bounds[1]! else {
                    fail(value.position, "\(key) must be channel numbers like \"1-31\" or \"1-15,17-31\", not \"\(text)\"")
                    return nil
                }
                numbers += Array(bounds[0]!...bounds[bounds.count - 1]!)
            }
            return numbers
        default:
            fail(value.position, "\(key) must be a range string like \"1-31\" or an array of numbers, not \(value.typeName)")
            return nil
        }
    }

    mutating func span(_ table: ConfigTable) -> TrunklineConfig.Span? {
        checkKeys(table, allowed: ["span", "backend", "signalling", "framing", "crc4", "linecode", "timing", "channels", "dchannel",
                                   "line_build_out", "echo_canceller", "echo_tail_ms"] + Self.priKeys)
        let errorsBefore = errors.count
        let number = integer(table, "span", in: 1...128)
        let backend: TrunklineConfig.Backend? = choice(table, "backend")
        let signalling: TrunklineConfig.Signalling? = choice(table, "signalling", default: .priCpe)
        let framing = string(table, "framing", default: "ccs")
        let crc4 = boolean(table, "crc4", default: true)
        let lineCode = string(table, "linecode", default: "hdb3")
        let timing = integer(table, "timing", in: 0...128, default: 0)
        let dchannel = integer(table, "dchannel", in: 1...31, default: 16)
        let lineBuildOut = integer(table, "line_build_out", in: 0...7, default: 0)
        let pri = priSettings(table)
        let echo = echoSettings(table)
        var channels: [Int] = []
        if let framing, framing != "ccs" {
            fail(value(table, "framing")!.position, "framing must be \"ccs\" for a PRI span (CAS signalling is not supported yet), not \"\(framing)\"")
        }
        if let lineCode, !["hdb3", "ami"].contains(lineCode) {
            fail(value(table, "linecode")!.position, "linecode must be \"hdb3\" or \"ami\", not \"\(lineCode)\"")
        }
        if let dchannel, dchannel != 16 {
            fail(value(table, "dchannel")!.position, "span \(number ?? 0): an E1 PRI carries its D-channel on timeslot 16, not \(dchannel)")
        }
        if backend == .dahdi {
            if let list = channelList(table, "channels") {
                if list.count != 31 {
                    fail(value(table, "channels")!.position, "span \(number ?? 0): an E1 has 31 channels (timeslots 1-31), not \(list.count)")
                }
                channels = list
            } else if value(table, "channels") == nil {
                fail(table.position, "span \(number ?? 0): a dahdi span needs channels = \"FIRST-LAST\" (its 31 DAHDI channel numbers)")
            }
        } else if backend == .alsa {
            fail(value(table, "backend")!.position, "span \(number ?? 0): an E1 span cannot run on an ALSA sound card; use \"dahdi\" or \"virtual\"")
        } else if let entry = value(table, "channels") {
            fail(entry.position, "span \(number ?? 0): channels are given only for dahdi spans")
        }
        guard errors.count == errorsBefore, let number, let backend, let signalling else { return nil }
        return TrunklineConfig.Span(number: number, backend: backend, signalling: signalling, framing: framing ?? "ccs", crc4: crc4,
                                    lineCode: lineCode ?? "hdb3", timing: timing ?? 0, channels: channels, dchannel: 16,
                                    position: table.position, lineBuildOut: lineBuildOut ?? 0, pri: pri, echo: echo)
    }

    mutating func port(_ table: ConfigTable) -> TrunklineConfig.Port? {
        checkKeys(table, allowed: ["name", "backend", "device", "use", "vox_start_dbfs", "vox_stop_dbfs", "vox_hang_ms"])
        let errorsBefore = errors.count
        let name = string(table, "name")
        let backend: TrunklineConfig.Backend? = choice(table, "backend")
        let use: TrunklineConfig.PortUse? = choice(table, "use", default: .lineTap)
        var vox = VoxSettings()
        vox.startLevelDBFS = number(table, "vox_start_dbfs", default: vox.startLevelDBFS)
        vox.stopLevelDBFS = number(table, "vox_stop_dbfs", default: vox.stopLevelDBFS)
        vox.hangMs = integer(table, "vox_hang_ms", in: 100...60000, default: vox.hangMs) ?? vox.hangMs
        if vox.stopLevelDBFS > vox.startLevelDBFS, let position = value(table, "vox_stop_dbfs")?.position {
            fail(position, "vox_stop_dbfs (\(vox.stopLevelDBFS)) must not be above vox_start_dbfs (\(vox.startLevelDBFS))")
        }
        var device = ""
        if backend == .alsa {
            device = string(table, "device") ?? ""
        } else if let backend {
            fail(value(table, "backend")!.position, "port \(name ?? "?"): sound-card ports use backend \"alsa\", not \"\(backend.rawValue)\" (analog FXS/FXO ports come with the analog-line configuration)")
        }
        guard errors.count == errorsBefore, let name, let backend, let use else { return nil }
        return TrunklineConfig.Port(name: name, backend: backend, device: device, use: use, vox: vox, position: table.position)
    }

    /// Checks across tables: numbers and channels used once, one backend kind for the lab.
    mutating func crossCheck(_ config: TrunklineConfig) {
        var spanNumbers: [Int: SourcePosition] = [:]
        var channelOwner: [Int: Int] = [:]
        for span in config.spans {
            if let first = spanNumbers[span.number] {
                fail(span.position, "span \(span.number) is defined twice (first at line \(first.line))")
            }
            spanNumbers[span.number] = span.position
            for channel in span.channels {
                if let owner = channelOwner[channel], owner != span.number {
                    fail(span.position, "span \(span.number): channel \(channel) is already used by span \(owner)")
                }
                channelOwner[channel] = span.number
            }
        }
        var names = Set<String>()
        for port in config.ports where !names.insert(port.name).inserted {
            fail(port.position, "port \(port.name) is defined twice")
        }
        let virtualSpans = config.spans.filter { $0.backend == .virtual }
        if !virtualSpans.isEmpty && config.spans.contains(where: { $0.backend == .dahdi }) {
            fail(virtualSpans[0].position, "span \(virtualSpans[0].number): virtual and dahdi spans cannot be mixed in one node")
        }
    }
}

extension TrunklineConfig {
    /// Where trunkd looks when no --config is given; absent, it runs the embedded default.
    public static let defaultPath = "/etc/trunkline/trunkline.toml"

    /// Virtual spans become a simulator of their own: consecutive virtual spans are cabled in
    /// pairs, each playing the side its signalling says.
    public func virtualTopology() throws(TrunkError) -> SimulatorTopology? {
        let virtual = spans.filter { $0.backend == .virtual }
        guard !virtual.isEmpty else { return nil }
        guard virtual.count % 2 == 0 else {
            let last = virtual[virtual.count - 1]
            throw TrunkError(.invalidArgument, "\(file):\(last.position.line):\(last.position.column): virtual spans are cabled in pairs; span \(last.number) has no partner")
        }
        var topology = SimulatorTopology(spans: [], cables: [])
        for span in virtual {
            topology.spans.append(SimulatorTopology.Span(number: span.number, kind: .e1, role: span.signalling == .priNet ? .network : .user,
                                                         timingPriority: span.timing, crc4: span.crc4))
        }
        for index in stride(from: 0, to: virtual.count, by: 2) {
            topology.cables.append(SimulatorTopology.Cable(virtual[index].number, virtual[index + 1].number))
        }
        topology.addLabAnalogCards(if: analogPorts.contains { $0.backend == .virtual })
        try topology.validate()
        return topology
    }
}
