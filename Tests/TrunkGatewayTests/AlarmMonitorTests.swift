import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
@testable import TrunkGateway
import TrunkHardware

@Suite("Alarm monitor")
struct AlarmMonitorTests {
    static func temporaryStore() throws -> AlarmStore {
        try AlarmStore(path: NSTemporaryDirectory() + "alarms-\(UUID().uuidString).sqlite")
    }

    /// Snapshot of a simulator with no PRI drivers: spans and the timing source.
    static func snapshot(_ lab: LineSimulator, dChannels: [Int: Bool] = [:]) -> AlarmSnapshot {
        AlarmSnapshot(spans: lab.spanStatuses(), dChannelUp: dChannels, syncSource: lab.syncSource)
    }

    @Test("a cable cut on the simulator raises RED and LOS here and YELLOW at the far end; the restore clears them at its time")
    func cutAndRestore() async throws {
        let lab = try LineSimulator(topology: .embeddedDefault)
        let store = try Self.temporaryStore()
        let monitor = try AlarmMonitor(store: store, settings: AlarmSettings(), logger: Logger(label: "test"))
        let events = monitor.events()
        let heard = NIOLockedValueBox<[AlarmEvent]>([])
        monitor.onEvent { event in heard.withLockedValue { $0.append(event) } }
        lab.tick(count: 50)
        try monitor.observe(Self.snapshot(lab), now: 1000, monotonic: 0)
        #expect(try store.records().filter { $0.kind != "clock.source" }.isEmpty)

        try lab.cut(span: 1)
        lab.tick(count: 50)
        try monitor.observe(Self.snapshot(lab), now: 1010, monotonic: 10)
        let raised = try store.records().filter { $0.kind.hasPrefix("span.") }
        #expect(Set(raised.map { "\($0.span!) \($0.kind)" }) == ["1 span.RED", "1 span.LOS", "2 span.YELLOW"])
        #expect(raised.allSatisfy { $0.raisedAt == 1010 && $0.clearedAt == nil && $0.severity == .urgent })

        try lab.restore(span: 1)
        lab.tick(count: 200)
        try monitor.observe(Self.snapshot(lab), now: 1042, monotonic: 42)
        let cleared = try store.records().filter { $0.kind.hasPrefix("span.") }
        #expect(cleared.count == 3 && cleared.allSatisfy { $0.raisedAt == 1010 && $0.clearedAt == 1042 })
        #expect(monitor.activeAlarms.isEmpty)

        let seen = heard.withLockedValue { $0 }.filter { $0.record.kind.hasPrefix("span.") }
        #expect(seen.filter { $0.change == .raised }.count == 3 && seen.filter { $0.change == .cleared }.count == 3)
        // The stream for the CTI layer carries the same events, buffered for a late reader.
        var iterator = events.makeAsyncIterator()
        let first = await iterator.next()
        #expect(first == heard.withLockedValue { $0.first })
    }

    @Test("an alarm active when trunkd stopped continues after a restart, and clears if gone")
    func restartContinuesActiveAlarms() throws {
        let path = NSTemporaryDirectory() + "alarms-\(UUID().uuidString).sqlite"
        let cut = AlarmSnapshot(spans: [Self.span(1, alarms: [.red])], dChannelUp: [:], syncSource: 0)
        let first = try AlarmMonitor(store: AlarmStore(path: path), settings: AlarmSettings(), logger: Logger(label: "test"))
        try first.observe(cut, now: 100, monotonic: 0)
        let second = try AlarmMonitor(store: AlarmStore(path: path), settings: AlarmSettings(), logger: Logger(label: "test"))
        try second.observe(cut, now: 200, monotonic: 0)
        #expect(try second.store.records().map(\.raisedAt) == [100], "still the same record, not a second one")
        try second.observe(AlarmSnapshot(spans: [Self.span(1, alarms: [])], dChannelUp: [:], syncSource: 0), now: 300, monotonic: 1)
        #expect(try second.store.records().map(\.clearedAt) == [300])
    }

    static func span(_ number: Int, alarms: SpanAlarms, slips: Int = 0) -> SpanStatus {
        var counters = SpanCounters()
        counters.slips = slips
        return SpanStatus(span: number, name: "S\(number)", description: "", type: .e1, role: .user, alarms: alarms, counters: counters,
                          timingPriority: 1, lineCode: "HDB3", framing: "CCS", baseChannel: 1, totalChannels: 31, backend: "virtual")
    }

    @Test("slip bursts, D-channel down after start-up grace, clock source changes and config applies become records")
    func otherAlarms() throws {
        var settings = AlarmSettings()
        settings.slipBurstCount = 3
        settings.slipBurstWindowSeconds = 10
        let monitor = try AlarmMonitor(store: Self.temporaryStore(), settings: settings, logger: Logger(label: "test"))
        func pass(slips: Int, dUp: Bool, sync: Int, at t: Double) throws {
            try monitor.observe(AlarmSnapshot(spans: [Self.span(2, alarms: [], slips: slips)], dChannelUp: [2: dUp], syncSource: sync),
                                now: 5000 + t, monotonic: t)
        }
        try pass(slips: 0, dUp: false, sync: 2, at: 0)
        try pass(slips: 2, dUp: false, sync: 2, at: 1)
        #expect(monitor.activeAlarms.isEmpty, "two slips are under the burst count; a D-channel still starting is in its grace")
        try pass(slips: 3, dUp: false, sync: 0, at: 6)
        let kinds = Set(monitor.activeAlarms.map(\.kind))
        #expect(kinds == ["slip.burst", "dchannel.down"])
        #expect(monitor.activeAlarms.first { $0.kind == "slip.burst" }?.severity == .nonUrgent)
        #expect(monitor.activeAlarms.first { $0.kind == "dchannel.down" }?.severity == .urgent)
        try pass(slips: 3, dUp: true, sync: 0, at: 17)
        #expect(monitor.activeAlarms.isEmpty, "the slips left the window and the D-channel came up")
        let clock = try monitor.store.records().filter { $0.kind == "clock.source" }
        #expect(clock.map(\.message) == ["timing source changed from span 2 to the internal clock"] && clock[0].raisedAt == clock[0].clearedAt)

        let apply = try monitor.recordConfigApply(user: "zhang", summary: "span 1: t303 4000 → 6000", now: 6000)
        #expect(apply.user == "zhang" && apply.severity == .nonUrgent && apply.clearedAt == 6000)
    }

    @Test("the data folder's disk over the storage threshold raises an urgent alarm, cleared when it falls back; statvfs measures it")
    func storage() throws {
        var settings = AlarmSettings()
        settings.storagePercent = 80
        let monitor = try AlarmMonitor(store: Self.temporaryStore(), settings: settings, logger: Logger(label: "test"))
        try monitor.observe(AlarmSnapshot(spans: [], dChannelUp: [:], syncSource: 0, storageUsedPercent: 79.4), now: 1, monotonic: 1)
        #expect(monitor.activeAlarms.isEmpty)
        try monitor.observe(AlarmSnapshot(spans: [], dChannelUp: [:], syncSource: 0, storageUsedPercent: 91.6), now: 2, monotonic: 2)
        #expect(monitor.activeAlarms.map(\.message) == ["data folder's file system 92 % full (threshold 80 %)"])
        #expect(monitor.activeAlarms.first?.severity == .urgent)
        try monitor.observe(AlarmSnapshot(spans: [], dChannelUp: [:], syncSource: 0, storageUsedPercent: 60), now: 3, monotonic: 3)
        #expect(monitor.activeAlarms.isEmpty)
        #expect(try monitor.store.records().first?.clearedAt == 3)
        let measured = try #require(AlarmService.usedPercent(path: NSTemporaryDirectory()))
        #expect(measured > 0 && measured <= 100)
    }

    @Test("pruning removes cleared records older than the history, never active ones")
    func pruning() throws {
        let store = try Self.temporaryStore()
        var settings = AlarmSettings()
        settings.historyDays = 90
        let monitor = try AlarmMonitor(store: store, settings: settings, logger: Logger(label: "test"))
        let day = 86_400.0
        try store.insert(AlarmRecord(kind: "span.RED", span: 1, severity: .urgent, message: "old", raisedAt: 0, clearedAt: 10))
        try store.insert(AlarmRecord(kind: "span.RED", span: 2, severity: .urgent, message: "old, still active", raisedAt: 0))
        try store.insert(AlarmRecord(kind: "span.RED", span: 3, severity: .urgent, message: "recent", raisedAt: 20 * day, clearedAt: 21 * day))
        #expect(try monitor.prune(now: 100 * day) == 1)
        #expect(try store.records().map(\.message) == ["old, still active", "recent"])
    }
}
