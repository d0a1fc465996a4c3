import TrunkHardware

/// What changes between the running configuration and a new one, and how each change is made:
/// live (only that part is touched) or at the next trunkd restart (said, never dropped).
public struct ConfigDiff: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable {
        /// Applied to the running node without touching anything else.
        case live
        /// The running node cannot change this; it takes effect when trunkd restarts.
        case needsRestart = "needs-restart"
    }

    public struct Change: Codable, Sendable, Equatable, CustomStringConvertible {
        /// "span 1", "analog 63", "tones", "trunk group agents", "route 2", "cti", "alarms".
        public var scope: String
        public var what: String
        public var action: Action
        public var description: String { "\(scope): \(what)\(action == .needsRestart ? " (needs restart)" : "")" }
    }

    public var changes: [Change] = []
    /// Spans whose signalling is reconfigured in place (their links and calls stay up).
    public var spansRetimed: [Int] = []
    public var portsAdded: [Int] = []
    public var portsRemoved: [Int] = []

    public var isEmpty: Bool { changes.isEmpty }
    public var needsRestart: Bool { changes.contains { $0.action == .needsRestart } }

    public var text: String {
        isEmpty ? "no changes\n" : changes.map { "\($0.action == .live ? "  " : "! ")\($0)\n" }.joined()
    }

    /// Compares two configurations; `running` is what the node runs now.
    public static func between(_ running: TrunklineConfig, _ new: TrunklineConfig) -> ConfigDiff {
        var diff = ConfigDiff()
        diff.compareSpans(running.effectiveSpans, new.effectiveSpans)
        diff.compareAnalog(running.analogPorts, new.analogPorts)
        if running.tones != new.tones {
            diff.add("tones", "zone \(running.tones.zone) → \(new.tones.zone) (stored for the media layer)", .live)
        }
        diff.compareNamed("trunk group", running.trunkGroups, new.trunkGroups, name: \.name)
        if running.routes != new.routes {
            diff.add("routes", "\(running.routes.count) → \(new.routes.count) route(s), order and targets as in the file (stored for the call manager)", .live)
        }
        if running.cti != new.cti { diff.add("cti", "listeners or tokens changed (the CTI server reads them at start)", .needsRestart) }
        if running.alarms != new.alarms { diff.add("alarms", "thresholds or history changed (the alarm monitor reads them at start)", .needsRestart) }
        if running.recording != new.recording { diff.add("recording", "[recording] changed (the recorder reads it at start)", .needsRestart) }
        if running.flow != new.flow { diff.add("flow", "[flow] timings changed (the call manager reads them at start)", .needsRestart) }
        if running.metrics != new.metrics { diff.add("metrics", "port \(running.metrics.port.map(String.init) ?? "off") → \(new.metrics.port.map(String.init) ?? "off")", .needsRestart) }
        if running.ports.map(\.name) != new.ports.map(\.name) || zip(running.ports, new.ports).contains(where: { $0.device != $1.device || $0.use != $1.use || $0.vox != $1.vox }) {
            diff.add("ports", "sound-card ports changed (opened at start)", .needsRestart)
        }
        return diff
    }

    mutating func add(_ scope: String, _ what: String, _ action: Action) {
        changes.append(Change(scope: scope, what: what, action: action))
    }

    private mutating func compareSpans(_ old: [TrunklineConfig.Span], _ new: [TrunklineConfig.Span]) {
        for span in new where !old.contains(where: { $0.number == span.number }) {
            add("span \(span.number)", "added (\(span.backend.rawValue), \(span.signalling.rawValue))", .needsRestart)
        }
        for span in old where !new.contains(where: { $0.number == span.number }) {
            add("span \(span.number)", "removed", .needsRestart)
        }
        for before in old {
            guard let after = new.first(where: { $0.number == before.number }) else { continue }
            let scope = "span \(before.number)"
            let fixed: [(String, String, String)] = [
                ("backend", before.backend.rawValue, after.backend.rawValue),
                ("channels", DAHDIImport.ranges(before.channels), DAHDIImport.ranges(after.channels)),
                ("signalling", before.signalling.rawValue, after.signalling.rawValue),
                ("framing", before.framing, after.framing), ("crc4", "\(before.crc4)", "\(after.crc4)"),
                ("linecode", before.lineCode, after.lineCode), ("timing", "\(before.timing)", "\(after.timing)"),
                ("line_build_out", "\(before.lineBuildOut)", "\(after.lineBuildOut)"),
                ("switch_type", before.pri.switchType.rawValue, after.pri.switchType.rawValue),
                ("overlap_dial", "\(before.pri.overlapDial)", "\(after.pri.overlapDial)"),
                ("restart_on_up", "\(before.pri.restartOnBringUp)", "\(after.pri.restartOnBringUp)"),
                ("k", "\(before.pri.value("k"))", "\(after.pri.value("k"))"),
            ]
            for (key, was, now) in fixed where was != now { add(scope, "\(key) \(was) → \(now)", .needsRestart) }
            var retimed = false
            for tunable in PRISettings.tunables where tunable.key != "k" {
                let was = before.pri.value(tunable.key), now = after.pri.value(tunable.key)
                if was != now {
                    add(scope, "\(tunable.key.uppercased()) \(was) → \(now) \(tunable.unit) (stack retimed, link and calls stay up)", .live)
                    retimed = true
                }
            }
            if retimed { spansRetimed.append(before.number) }
            if before.echo != after.echo {
                add(scope, "echo canceller \(Self.describe(before.echo)) → \(Self.describe(after.echo)) (stored for the media layer)", .live)
            }
        }
    }

    private mutating func compareAnalog(_ old: [AnalogPortConfig], _ new: [AnalogPortConfig]) {
        for port in new where !old.contains(where: { $0.channel == port.channel }) {
            add("analog \(port.channel)", "added (\(port.kind.rawValue), \(port.start.rawValue)): channel opened", .live)
            portsAdded.append(port.channel)
        }
        for port in old where !new.contains(where: { $0.channel == port.channel }) {
            add("analog \(port.channel)", "removed: channel closed", .live)
            portsRemoved.append(port.channel)
        }
        for before in old {
            guard let after = new.first(where: { $0.channel == before.channel }), !before.sameSettings(as: after) else { continue }
            if before.kind != after.kind || before.backend != after.backend {
                add("analog \(before.channel)", "\(before.backend.rawValue) \(before.kind.rawValue) → \(after.backend.rawValue) \(after.kind.rawValue)", .needsRestart)
            } else {
                add("analog \(before.channel)", "settings changed (stored for the analog layer)", .live)
            }
        }
    }

    private mutating func compareNamed<T: Equatable>(_ label: String, _ old: [T], _ new: [T], name: KeyPath<T, String>) {
        for item in new where !old.contains(where: { $0[keyPath: name] == item[keyPath: name] }) { add("\(label) \(item[keyPath: name])", "added", .live) }
        for item in old where !new.contains(where: { $0[keyPath: name] == item[keyPath: name] }) { add("\(label) \(item[keyPath: name])", "removed", .live) }
        for item in old {
            if let after = new.first(where: { $0[keyPath: name] == item[keyPath: name] }), after != item { add("\(label) \(item[keyPath: name])", "changed", .live) }
        }
    }

    static func describe(_ echo: EchoSettings) -> String { echo.enabled ? "on, \(echo.tailMs) ms" : "off" }
}

extension AnalogPortConfig {
    func sameSettings(as other: AnalogPortConfig) -> Bool {
        kind == other.kind && backend == other.backend && start == other.start && callerID == other.callerID
            && ringCadenceMs == other.ringCadenceMs && rxGainDB == other.rxGainDB && txGainDB == other.txGainDB && echo == other.echo
    }
}

extension TrunklineConfig {
    /// The E1 spans the node runs: those declared, or the embedded default's two virtual spans.
    public var effectiveSpans: [Span] {
        guard spans.isEmpty else { return spans }
        return SimulatorTopology.embeddedDefault.spans.filter { $0.kind == .e1 }.map { span in
            Span(number: span.number, backend: .virtual, signalling: span.role == .network ? .priNet : .priCpe, framing: "ccs",
                 crc4: span.crc4, lineCode: "hdb3", timing: span.timingPriority, channels: [], dchannel: 16,
                 position: SourcePosition(line: 0, column: 0))
        }
    }
}

extension TrunklineConfig {
    /// A file that declares nothing: the embedded default, as trunkd runs it with no file.
    public static func nothingDeclared(file: String) -> TrunklineConfig { TrunklineConfig(file: file) }
}
