import Foundation
import Logging
import NIOConcurrencyHelpers
import TrunkCore
import TrunkHardware
import TrunkRecording

/// What the monitor looks at on each pass: span alarms and counters, D-channel states and the
/// timing source, as the node reports them.
public struct AlarmSnapshot: Sendable {
    public var spans: [SpanStatus]
    /// PRI spans: whether the D-channel's data link is up.
    public var dChannelUp: [Int: Bool]
    /// Span timing the system, 0 for the internal clock.
    public var syncSource: Int
    /// Disk use of the data folder's file system in percent, where measured.
    public var storageUsedPercent: Double?
    /// The recorder's storage states and incident counters, on a node that records.
    public var recorder: RecorderHealth?

    public init(spans: [SpanStatus], dChannelUp: [Int: Bool], syncSource: Int, storageUsedPercent: Double? = nil,
                recorder: RecorderHealth? = nil) {
        self.spans = spans
        self.dChannelUp = dChannelUp
        self.syncSource = syncSource
        self.storageUsedPercent = storageUsedPercent
        self.recorder = recorder
    }
}

/// Turns what the node reports into alarm records: span alarms (RED, YELLOW, BLUE, LOS, …),
/// D-channel down/up, timing source changes, slip bursts and configuration applies. Each
/// raise and clear is stored, logged, and handed to listeners (the CTI layer).
public final class AlarmMonitor: Sendable {
    public let store: AlarmStore
    public let settings: AlarmSettings
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    /// A D-channel that has never come up is reported only after this long, so a normal
    /// start (SABME/UA takes a few ms) raises nothing.
    public static let dChannelStartGraceSeconds = 5.0

    struct Key: Hashable {
        var kind: String
        var span: Int?
    }

    struct State {
        var active: [Key: AlarmRecord] = [:]
        var firstPass = true
        var startedAt: Double?
        var syncSource: Int?
        var dChannelSeenUp = Set<Int>()
        var slips: [Int: Int] = [:]
        var slipTimes: [Int: [Double]] = [:]
        var listeners: [@Sendable (AlarmEvent) -> Void] = []
        var streams: [UUID: AsyncStream<AlarmEvent>.Continuation] = [:]
        var recording = RecordingAlarmState()
    }

    /// Span alarm bits that become records, with their severity.
    static let spanAlarms: [(SpanAlarms, String, AlarmRecord.Severity, String)] = [
        (.red, "RED", .urgent, "red alarm: loss of signal or framing here"),
        (.yellow, "YELLOW", .urgent, "yellow alarm: the far end reports it lost our signal (RAI)"),
        (.blue, "BLUE", .urgent, "blue alarm: AIS (all ones) received"),
        (.los, "LOS", .urgent, "loss of signal"),
        (.lfa, "LFA", .urgent, "loss of frame alignment"),
        (.lmfa, "LMFA", .nonUrgent, "loss of CRC-4 multiframe alignment"),
        (.loopback, "LOOPBACK", .nonUrgent, "span in loopback"),
    ]

    /// Loads the alarms still active from the last run, so a restart continues them.
    public init(store: AlarmStore, settings: AlarmSettings, logger: Logger) throws(TrunkError) {
        self.store = store
        self.settings = settings
        self.logger = logger
        let active = try store.records(activeOnly: true)
        state.withLockedValue { state in
            for record in active { state.active[Key(kind: record.kind, span: record.span)] = record }
        }
    }

    // MARK: listeners

    /// Each alarm raise and clear, for as long as the caller listens; the newest 1000 are
    /// buffered, so a slow consumer loses old events rather than holding up the monitor.
    public func events() -> AsyncStream<AlarmEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: AlarmEvent.self, bufferingPolicy: .bufferingNewest(1000))
        let id = UUID()
        state.withLockedValue { $0.streams[id] = continuation }
        continuation.onTermination = { [weak self] _ in self?.state.withLockedValue { _ = $0.streams.removeValue(forKey: id) } }
        return stream
    }

    /// Calls `handler` for each raise and clear (outside the monitor's lock).
    public func onEvent(_ handler: @escaping @Sendable (AlarmEvent) -> Void) {
        state.withLockedValue { $0.listeners.append(handler) }
    }

    public var activeAlarms: [AlarmRecord] {
        state.withLockedValue { Array($0.active.values) }.sorted { ($0.raisedAt, $0.id ?? 0) < ($1.raisedAt, $1.id ?? 0) }
    }

    // MARK: observing

    /// One pass: compares the snapshot with what is active and raises or clears records.
    /// `now` is wall-clock seconds (stored), `monotonic` seconds measure the slip window.
    public func observe(_ snapshot: AlarmSnapshot, now: Double, monotonic: Double) throws(TrunkError) {
        var present: [Key: (AlarmRecord.Severity, String)] = [:]
        var instant: [AlarmRecord] = []
        state.withLockedValue { state in
            if state.startedAt == nil { state.startedAt = monotonic }
            for span in snapshot.spans {
                for (bit, name, severity, text) in Self.spanAlarms where span.alarms.contains(bit) {
                    present[Key(kind: "span.\(name)", span: span.span)] = (severity, "span \(span.span): \(text)")
                }
                // Slips: DAHDI does not count them; Trunkline does where it sees them.
                let previous = state.slips[span.span] ?? span.counters.slips
                var times = state.slipTimes[span.span] ?? []
                if span.counters.slips > previous { times += Array(repeating: monotonic, count: span.counters.slips - previous) }
                times.removeAll { monotonic - $0 > Double(settings.slipBurstWindowSeconds) }
                state.slips[span.span] = span.counters.slips
                state.slipTimes[span.span] = times
                if times.count >= settings.slipBurstCount {
                    present[Key(kind: "slip.burst", span: span.span)] = (.nonUrgent,
                        "span \(span.span): \(times.count) controlled slips within \(settings.slipBurstWindowSeconds) s: the clocks disagree")
                }
            }
            for (span, up) in snapshot.dChannelUp {
                if up { state.dChannelSeenUp.insert(span); continue }
                let inGrace = !state.dChannelSeenUp.contains(span) && monotonic - state.startedAt! < Self.dChannelStartGraceSeconds
                if !inGrace { present[Key(kind: "dchannel.down", span: span)] = (.urgent, "span \(span): D-channel down") }
            }
            // Storage: recordings and the alarm history itself are at risk on a full disk.
            if let used = snapshot.storageUsedPercent, used >= Double(settings.storagePercent) {
                present[Key(kind: "storage.full", span: nil)] = (.urgent,
                    "data folder's file system \(Int(used.rounded())) % full (threshold \(settings.storagePercent) %)")
            }
            if let health = snapshot.recorder {
                for (kind, condition) in state.recording.conditions(health, monotonic: monotonic) {
                    present[Key(kind: kind, span: nil)] = condition
                }
            }
            if let previous = state.syncSource, previous != snapshot.syncSource {
                let name = { (span: Int) in span == 0 ? "the internal clock" : "span \(span)" }
                instant.append(AlarmRecord(kind: "clock.source", span: snapshot.syncSource == 0 ? nil : snapshot.syncSource, severity: .nonUrgent,
                                           message: "timing source changed from \(name(previous)) to \(name(snapshot.syncSource))",
                                           raisedAt: now, clearedAt: now))
            }
            state.syncSource = snapshot.syncSource
        }
        var events: [AlarmEvent] = []
        let active = state.withLockedValue { $0.active }
        for (key, record) in active where present[key] == nil {
            guard let id = record.id else { continue }
            try store.clear(id: id, at: now)
            var cleared = record
            cleared.clearedAt = now
            state.withLockedValue { _ = $0.active.removeValue(forKey: key) }
            events.append(AlarmEvent(change: .cleared, record: cleared))
        }
        for (key, (severity, message)) in present where active[key] == nil {
            let record = try store.insert(AlarmRecord(kind: key.kind, span: key.span, severity: severity, message: message, raisedAt: now))
            state.withLockedValue { $0.active[key] = record }
            events.append(AlarmEvent(change: .raised, record: record))
        }
        for record in instant {
            events.append(AlarmEvent(change: .raised, record: try store.insert(record)))
        }
        publish(events.sorted { ($0.change == .cleared ? 0 : 1, $0.record.kind) < ($1.change == .cleared ? 0 : 1, $1.record.kind) })
    }

    /// A configuration apply, by whom and what changed: an event in the history.
    @discardableResult
    public func recordConfigApply(user: String, summary: String, now: Double) throws(TrunkError) -> AlarmRecord {
        let record = try store.insert(AlarmRecord(kind: "config.apply", span: nil, severity: .nonUrgent, message: summary,
                                                  raisedAt: now, clearedAt: now, user: user))
        publish([AlarmEvent(change: .raised, record: record)])
        return record
    }

    /// Deletes cleared records older than the configured history.
    @discardableResult
    public func prune(now: Double) throws(TrunkError) -> Int {
        let removed = try store.prune(before: now - Double(settings.historyDays) * 86_400)
        if removed > 0 { logger.info("alarm history pruned", metadata: ["records": "\(removed)", "days": "\(settings.historyDays)"]) }
        return removed
    }

    private func publish(_ events: [AlarmEvent]) {
        guard !events.isEmpty else { return }
        let (listeners, streams) = state.withLockedValue { ($0.listeners, Array($0.streams.values)) }
        for event in events {
            let record = event.record
            var metadata: Logger.Metadata = ["alarm": "\(record.kind)", "severity": "\(record.severity.rawValue)"]
            if let span = record.span { metadata["span"] = "\(span)" }
            if let user = record.user { metadata["user"] = "\(user)" }
            let text = event.change == .raised ? "alarm raised: \(record.message)" : "alarm cleared: \(record.message)"
            if record.severity == .urgent && event.change == .raised {
                logger.error("\(text)", metadata: metadata)
            } else {
                logger.notice("\(text)", metadata: metadata)
            }
            for listener in listeners { listener(event) }
            for stream in streams { stream.yield(event) }
        }
    }
}
