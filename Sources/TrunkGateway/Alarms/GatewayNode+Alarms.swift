import Foundation
import NIOCore
import TrunkCore
import TrunkHardware

/// The alarm history as trunkctl asks for it.
public struct AlarmsParams: Codable, Sendable, Equatable {
    public var activeOnly: Bool
    /// Wall-clock seconds since 1970; nil: everything kept.
    public var since: Double?
    public init(activeOnly: Bool, since: Double?) {
        self.activeOnly = activeOnly
        self.since = since
    }
}

public struct AlarmsReport: Codable, Sendable, Equatable {
    public var alarms: [AlarmRecord]
    public var activeCount: Int
    public var historyDays: Int
}

extension GatewayNode {
    /// Spans, D-channels and the timing source, for the alarm monitor.
    public func alarmSnapshot() -> AlarmSnapshot {
        var spans: [SpanStatus] = simulator?.spanStatuses() ?? []
        var syncSource = simulator?.syncSource ?? 0
        if let dahdi, let discovered = try? dahdi.discover() {
            spans += discovered.map(\.status)
            syncSource = discovered.first?.syncSource ?? syncSource
        }
        var dChannels: [Int: Bool] = [:]
        for (span, driver) in pri?.drivers ?? [:] { dChannels[span] = driver.isDataLinkUp }
        return AlarmSnapshot(spans: spans, dChannelUp: dChannels, syncSource: syncSource, recorder: (calls?.media?.recorder ?? lineTaps.first?.recorder)?.health)
    }

    func alarmMonitor() throws(TrunkError) -> AlarmMonitor {
        guard let alarms else { throw TrunkError(.unavailable, "this node keeps no alarm history") }
        return alarms
    }

    func handleAlarms(id: Int?, data: Data) throws -> ByteBuffer {
        let monitor = try alarmMonitor()
        let params = try decodeParams(AlarmsParams.self, from: data)
        let records = try monitor.store.records(activeOnly: params.activeOnly, since: params.since)
        return encode(id: id, AlarmsReport(alarms: records, activeCount: monitor.activeAlarms.count, historyDays: monitor.settings.historyDays))
    }
}
