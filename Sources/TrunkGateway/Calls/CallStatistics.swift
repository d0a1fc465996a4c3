import Foundation

/// Traffic figures per interval (15 minutes by default) and trunk group, computed from call
/// records: what call centres report (offered, answered, abandoned, blocked, answer delay).
public struct IntervalStatistics: Codable, Sendable, Equatable {
    public var intervalStart: Date
    public var trunkGroup: String
    public var direction: CallDirection
    /// Calls that arrived (inbound) or were attempted (outbound), blocked ones included.
    public var offered: Int
    public var answered: Int
    /// Inbound calls the caller gave up before they were answered.
    public var abandoned: Int
    /// Attempts that found no free channel (cause 34) or were refused for overload.
    public var blocked: Int
    /// Seizure to answer, milliseconds.
    public var answerDelayAverageMs: Double?
    public var answerDelayP50Ms: Double?
    public var answerDelayP90Ms: Double?
    public var answerDelayP99Ms: Double?
    /// Answered over seizures (attempts that got a channel).
    public var seizureToAnswerRatio: Double?

    public static func compute(_ calls: [CallRecord], intervalSeconds: Int = 900) -> [IntervalStatistics] {
        struct Key: Hashable { var start: Int; var group: String; var direction: CallDirection }
        let interval = max(60, intervalSeconds)
        let groups = Dictionary(grouping: calls) { call in
            Key(start: Int(call.started.timeIntervalSince1970) / interval * interval, group: call.trunkGroup ?? "-", direction: call.direction)
        }
        return groups.map { key, calls in
            let blocked = calls.filter { $0.failure == .noChannel }.count
            let delays = calls.compactMap { $0.time(of: .answered) }.sorted()
            let seized = calls.count - blocked
            return IntervalStatistics(
                intervalStart: Date(timeIntervalSince1970: TimeInterval(key.start)), trunkGroup: key.group, direction: key.direction,
                offered: calls.count, answered: delays.count, abandoned: calls.filter { $0.failure == .abandoned }.count,
                blocked: blocked, answerDelayAverageMs: delays.isEmpty ? nil : delays.reduce(0, +) / Double(delays.count),
                answerDelayP50Ms: percentile(delays, 0.50), answerDelayP90Ms: percentile(delays, 0.90),
                answerDelayP99Ms: percentile(delays, 0.99),
                seizureToAnswerRatio: seized > 0 ? Double(delays.count) / Double(seized) : nil)
        }.sorted { ($0.intervalStart, $0.trunkGroup, $0.direction.rawValue) < ($1.intervalStart, $1.trunkGroup, $1.direction.rawValue) }
    }

    /// Nearest-rank percentile of sorted values.
    public static func percentile(_ sorted: [Double], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }
}
