import Logging
import NIOConcurrencyHelpers
import TrunkCore
import TrunkHardware

/// The configuration a running node holds, and the one way to change it: compute the diff
/// against a new file, apply only the parts the node can change live, and report the rest as
/// needing a restart. A rejected file never gets here (it fails to parse), so the running
/// configuration stays as it was.
public final class LiveConfiguration: Sendable {
    struct State {
        var running: TrunklineConfig
        /// Analog ports in service: their channels held open (closing is dropping the device).
        var openPorts: [Int: any ChannelDevice] = [:]
        /// Declared analog ports the call service holds open itself (FXS stations).
        var heldByCalls: Set<Int> = []
    }

    private let state: NIOLockedValueBox<State>
    private let simulator: LineSimulator?
    private let dahdi: DAHDIBackend?
    private let pri: PRILab?
    private let alarms: AlarmMonitor?
    private let logger: Logger

    /// Brings the node to `running`: the spans' configured timers into their drivers, the
    /// declared analog ports opened.
    /// - Parameter heldByCalls: channels the call service already holds open (station ports):
    ///   in service, not opened a second time.
    public init(running: TrunklineConfig, simulator: LineSimulator?, dahdi: DAHDIBackend? = nil, pri: PRILab?,
                alarms: AlarmMonitor?, heldByCalls: Set<Int> = [], logger: Logger) throws(TrunkError) {
        self.simulator = simulator
        self.dahdi = dahdi
        self.pri = pri
        self.alarms = alarms
        self.logger = logger
        var initial = State(running: running)
        for span in running.effectiveSpans where span.pri != PRISettings() { pri?.drivers[span.number]?.retime(span.pri) }
        initial.heldByCalls = heldByCalls
        for port in running.analogPorts where !heldByCalls.contains(port.channel) {
            initial.openPorts[port.channel] = try Self.open(port, simulator: simulator, dahdi: dahdi)
        }
        state = NIOLockedValueBox(initial)
    }

    public var running: TrunklineConfig { state.withLockedValue { $0.running } }
    public var portsInService: [Int] { state.withLockedValue { $0.heldByCalls.union($0.openPorts.keys).sorted() } }

    private static func open(_ port: AnalogPortConfig, simulator: LineSimulator?, dahdi: DAHDIBackend?) throws(TrunkError) -> any ChannelDevice {
        switch port.backend {
        case .virtual:
            guard let simulator else { throw TrunkError(.unavailable, "analog \(port.channel): this node runs no simulator") }
            return try simulator.openChannel(port.channel)
        case .dahdi:
            guard let dahdi else { throw TrunkError(.unavailable, "analog \(port.channel): this node drives no DAHDI devices") }
            return try dahdi.openChannel(port.channel)
        case .alsa:
            throw TrunkError(.invalidArgument, "analog \(port.channel): an analog port cannot run on a sound card")
        }
    }

    /// What applying `new` would change, touching nothing.
    public func plan(_ new: TrunklineConfig) -> ConfigDiff {
        ConfigDiff.between(running, new)
    }

    /// Applies the live part of the diff and records the apply (log line and alarm history).
    /// Ports are opened before anything is changed, so a port that cannot be opened leaves
    /// the node exactly as it was.
    public func apply(_ new: TrunklineConfig, user: String, now: Double) throws(TrunkError) -> ConfigDiff {
        let old = running
        let diff = ConfigDiff.between(old, new)
        guard !diff.isEmpty else { return diff }
        var opened: [Int: any ChannelDevice] = [:]
        for channel in diff.portsAdded {
            let port = new.analogPorts.first { $0.channel == channel }!
            opened[channel] = try Self.open(port, simulator: simulator, dahdi: dahdi)
        }
        for number in diff.spansRetimed {
            if let span = new.effectiveSpans.first(where: { $0.number == number }) { pri?.drivers[number]?.retime(span.pri) }
        }
        state.withLockedValue { state in
            for (channel, device) in opened { state.openPorts[channel] = device }
            for channel in diff.portsRemoved { state.openPorts[channel] = nil }
            state.running = Self.merge(running: old, new: new)
        }
        var metadata: Logger.Metadata = ["user": "\(user)", "file": "\(new.file)", "changes": "\(diff.changes.count)"]
        metadata["diff"] = .array(diff.changes.map { .string($0.description) })
        logger.notice("configuration applied", metadata: metadata)
        let summary = "\(new.file): " + diff.changes.map(\.description).joined(separator: "; ")
        try alarms?.recordConfigApply(user: user, summary: summary, now: now)
        return diff
    }

    /// What the node runs after an apply: the new file where it was applied live, the old
    /// settings where a restart is needed (so the next diff still shows them pending).
    static func merge(running old: TrunklineConfig, new: TrunklineConfig) -> TrunklineConfig {
        var merged = new
        // Spans cannot be added, removed or re-framed live: the old set stays, with the new timers.
        merged.spans = mergeSpans(old.effectiveSpans, new.effectiveSpans)
        merged.analogPorts = new.analogPorts.map { port in
            guard let before = old.analogPorts.first(where: { $0.channel == port.channel }),
                  before.kind != port.kind || before.backend != port.backend else { return port }
            return before
        }
        merged.cti = old.cti
        merged.alarms = old.alarms
        merged.metrics = old.metrics
        merged.recording = old.recording
        merged.flow = old.flow
        merged.ports = old.ports
        return merged
    }

    private static func mergeSpans(_ old: [TrunklineConfig.Span], _ new: [TrunklineConfig.Span]) -> [TrunklineConfig.Span] {
        old.map { before in
            guard let after = new.first(where: { $0.number == before.number }) else { return before }
            var span = before
            for tunable in PRISettings.tunables where tunable.key != "k" { span.pri.timers[tunable.key] = after.pri.timers[tunable.key] }
            span.echo = after.echo
            return span
        }
    }
}
