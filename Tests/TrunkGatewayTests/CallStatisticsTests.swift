import Foundation
import Testing
@testable import TrunkGateway

@Suite("Call statistics")
struct CallStatisticsTests {
    func call(_ at: Double, group: String = "pri", answerMs: Double? = nil, failure: CallFailure? = nil,
              direction: CallDirection = .inbound) -> CallRecord {
        var record = CallRecord(callID: CallIdentifier.make(), direction: direction, trunk: .pri,
                                address: ChannelAddress(span: 2, channel: 1), started: Date(timeIntervalSince1970: at))
        record.trunkGroup = group
        if let answerMs { record.events.append(CallEvent(.answered, atMs: answerMs)) }
        record.failure = failure
        record.events.append(CallEvent(.hangup, atMs: 60_000))
        return record
    }

    @Test("15-minute intervals per trunk group: offered, answered, abandoned, blocked, delays and ratio")
    func intervals() {
        let base = 1_764_489_600.0  // 2025-11-30T08:00:00Z, an interval boundary
        var calls = (0..<10).map { call(base + Double($0), answerMs: Double(100 * ($0 + 1))) }
        calls.append(call(base + 20, failure: .abandoned))
        calls.append(call(base + 30, failure: .noChannel))
        calls.append(call(base + 900, answerMs: 50))
        calls.append(call(base + 40, group: "sales", answerMs: 10))
        let stats = IntervalStatistics.compute(calls)
        #expect(stats.count == 3)
        let first = stats[0]
        #expect(first.trunkGroup == "pri" && first.intervalStart == Date(timeIntervalSince1970: base))
        #expect(first.offered == 12 && first.answered == 10 && first.abandoned == 1 && first.blocked == 1)
        #expect(first.answerDelayAverageMs == 550)
        #expect(first.answerDelayP50Ms == 500 && first.answerDelayP90Ms == 900 && first.answerDelayP99Ms == 1000)
        #expect(first.seizureToAnswerRatio == 10.0 / 11.0)
        #expect(stats[1].trunkGroup == "sales")
        #expect(stats[2].offered == 1 && stats[2].intervalStart == Date(timeIntervalSince1970: base + 900))
    }

    @Test("call ids are UUIDv7: unique, time-ordered")
    func identifiers() {
        let a = CallIdentifier.make(now: Date(timeIntervalSince1970: 1_000))
        let b = CallIdentifier.make(now: Date(timeIntervalSince1970: 2_000))
        #expect(a < b)
        #expect(a.count == 36 && a.split(separator: "-")[2].first == "7")
        #expect(Set((0..<1000).map { _ in CallIdentifier.make() }).count == 1000)
    }
}
