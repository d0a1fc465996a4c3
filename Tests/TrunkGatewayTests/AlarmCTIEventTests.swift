import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
import TrunkCTI
@testable import TrunkGateway
import TrunkHardware

/// What a real alarm monitor's raises and clears become on the CTI socket: alarms of a span stay
/// `span.alarm`/`span.cleared` with their span, D-channel changes `dchan.*`, and alarms of no span
/// (storage, configuration applies, the clock back on the internal oscillator) `node.alarm`/`node.cleared`.
@Suite("Alarms as CTI events")
struct AlarmCTIEventTests {
    static func field(_ event: CTIEvent, _ name: String) -> JSONValue? {
        event.fields.first { $0.0 == name }?.1
    }

    @Test("a storage alarm is node.alarm with no span, cleared as node.cleared; a span's RED stays span.alarm with its span")
    func storageIsANodeAlarm() throws {
        var settings = AlarmSettings()
        settings.storagePercent = 90
        let monitor = try AlarmMonitor(store: AlarmMonitorTests.temporaryStore(), settings: settings, logger: Logger(label: "test"))
        let heard = NIOLockedValueBox<[CTIEvent]>([])
        monitor.onEvent { event in heard.withLockedValue { $0.append(CTIEvent.alarm(event)) } }

        let red = AlarmMonitorTests.span(2, alarms: [.red])
        try monitor.observe(AlarmSnapshot(spans: [red], dChannelUp: [:], syncSource: 0, storageUsedPercent: 95), now: 100, monotonic: 0)
        let raised = heard.withLockedValue { $0 }
        let storage = try #require(raised.first { Self.field($0, "kind") == "storage.full" })
        #expect(storage.type == .nodeAlarm && storage.span == nil && storage.channel == nil)
        #expect(Self.field(storage, "severity") == "urgent")
        #expect(Self.field(storage, "message")?.stringValue?.contains("95 % full") == true)
        #expect(Self.field(storage, "alarms") == nil, "alarms names span alarms; a node alarm has its kind")
        let spanRed = try #require(raised.first { Self.field($0, "kind") == "span.RED" })
        #expect(spanRed.type == .spanAlarm && spanRed.span == 2)
        #expect(Self.field(spanRed, "alarms") == ["red"], "the name span.status uses")

        heard.withLockedValue { $0.removeAll() }
        try monitor.observe(AlarmSnapshot(spans: [AlarmMonitorTests.span(2, alarms: [])], dChannelUp: [:], syncSource: 0, storageUsedPercent: 40),
                            now: 110, monotonic: 10)
        let cleared = heard.withLockedValue { $0 }
        #expect(cleared.first { Self.field($0, "kind") == "storage.full" }?.type == .nodeCleared)
        let redCleared = try #require(cleared.first { Self.field($0, "kind") == "span.RED" })
        #expect(redCleared.type == .spanCleared && redCleared.span == 2)
        #expect(cleared.allSatisfy { $0.type == .nodeCleared || $0.span != nil })
    }

    @Test("config applies and a clock back on the internal oscillator are node alarms; a clock taken from a span and a D-channel down are the span's")
    func otherKinds() throws {
        let monitor = try AlarmMonitor(store: AlarmMonitorTests.temporaryStore(), settings: AlarmSettings(), logger: Logger(label: "test"))
        let heard = NIOLockedValueBox<[CTIEvent]>([])
        monitor.onEvent { event in heard.withLockedValue { $0.append(CTIEvent.alarm(event)) } }

        try monitor.recordConfigApply(user: "maint", summary: "2 spans changed", now: 50)
        let apply = try #require(heard.withLockedValue { $0 }.last)
        #expect(apply.type == .nodeAlarm && apply.span == nil)
        #expect(Self.field(apply, "kind") == "config.apply" && Self.field(apply, "user") == "maint")

        let span = AlarmMonitorTests.span(1, alarms: [])
        try monitor.observe(AlarmSnapshot(spans: [span], dChannelUp: [1: true], syncSource: 0), now: 100, monotonic: 0)
        heard.withLockedValue { $0.removeAll() }
        // The clock moves to span 1, the D-channel drops (after the start-up grace).
        try monitor.observe(AlarmSnapshot(spans: [span], dChannelUp: [1: false], syncSource: 1), now: 110, monotonic: 10)
        var events = heard.withLockedValue { $0 }
        let toSpan = try #require(events.first { Self.field($0, "kind") == "clock.source" })
        #expect(toSpan.type == .spanAlarm && toSpan.span == 1 && Self.field(toSpan, "alarms") == ["clock.source"])
        let down = try #require(events.first { Self.field($0, "kind") == "dchannel.down" })
        #expect(down.type == .dchanDown && down.span == 1)

        heard.withLockedValue { $0.removeAll() }
        try monitor.observe(AlarmSnapshot(spans: [span], dChannelUp: [1: true], syncSource: 0), now: 120, monotonic: 20)
        events = heard.withLockedValue { $0 }
        let back = try #require(events.first { Self.field($0, "kind") == "clock.source" })
        #expect(back.type == .nodeAlarm && back.span == nil)
        let up = try #require(events.first { Self.field($0, "kind") == "dchannel.down" })
        #expect(up.type == .dchanUp && up.span == 1)
    }
}
