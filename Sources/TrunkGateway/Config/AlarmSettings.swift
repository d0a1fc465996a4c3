/// `[alarms]`: when slips become an alarm, when storage does, and how long history is kept.
public struct AlarmSettings: Sendable, Equatable, Codable {
    /// This many controlled slips within `slipBurstWindowSeconds` raise a slip-burst alarm.
    public var slipBurstCount = 5
    public var slipBurstWindowSeconds = 60
    /// Disk use of the data folder's file system that raises a storage alarm.
    public var storagePercent = 90
    /// Alarm records older than this are pruned; the service standard asks for three months.
    public var historyDays = 180

    public static let minimumHistoryDays = 90

    public init() {}
}

extension ConfigReader {
    mutating func alarmSettings(_ table: ConfigTable) -> AlarmSettings {
        checkKeys(table, allowed: ["slip_burst_count", "slip_burst_window_s", "storage_percent", "history_days"], label: "[alarms]")
        var settings = AlarmSettings()
        settings.slipBurstCount = integer(table, "slip_burst_count", in: 1...10_000, default: settings.slipBurstCount) ?? settings.slipBurstCount
        settings.slipBurstWindowSeconds = integer(table, "slip_burst_window_s", in: 1...86_400, default: settings.slipBurstWindowSeconds)
            ?? settings.slipBurstWindowSeconds
        settings.storagePercent = integer(table, "storage_percent", in: 50...99, default: settings.storagePercent) ?? settings.storagePercent
        if let entry = value(table, "history_days"), case .integer(let days) = entry.kind, days < AlarmSettings.minimumHistoryDays {
            fail(entry.position, "history_days must be at least \(AlarmSettings.minimumHistoryDays) (alarm history is kept three months), not \(days)")
        } else {
            settings.historyDays = integer(table, "history_days", in: AlarmSettings.minimumHistoryDays...3650, default: settings.historyDays)
                ?? settings.historyDays
        }
        return settings
    }
}
