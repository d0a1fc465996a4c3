import TrunkRecording

/// The recorder's alarms as the monitor keeps them: `recording.storage_low` (non-urgent) and
/// `recording.storage_full` (urgent) last as long as the store reports the state;
/// `recording.overflow` (frames dropped because the disk fell behind) and
/// `recording.write_error` are incidents, raised when the recorder's counters move and
/// cleared after `incidentHoldSeconds` without another. A full spell shorter than one poll is
/// still raised (and cleared on the next pass): the recorder counts the episodes.
struct RecordingAlarmState: Sendable {
    static let incidentHoldSeconds = 60.0

    private var seenFullEpisodes = 0
    private var seenDropped = 0
    private var seenWriteErrors = 0
    private var overflowAt: Double?
    private var writeErrorAt: Double?

    /// The alarm kinds present now, with severity and message; `monotonic` in seconds.
    mutating func conditions(_ health: RecorderHealth, monotonic: Double) -> [(String, (AlarmRecord.Severity, String))] {
        var present: [(String, (AlarmRecord.Severity, String))] = []
        if let low = health.storageLow {
            present.append(("recording.storage_low", (.nonUrgent, low)))
        }
        if let full = health.storageFull {
            present.append(("recording.storage_full", (.urgent, full)))
        } else if health.storageFullEpisodes > seenFullEpisodes {
            present.append(("recording.storage_full", (.urgent, "the recording store was full for a moment: recordings were refused or cut short")))
        }
        seenFullEpisodes = health.storageFullEpisodes
        if health.droppedFrames > seenDropped { overflowAt = monotonic }
        seenDropped = health.droppedFrames
        if let at = overflowAt, monotonic - at < Self.incidentHoldSeconds {
            present.append(("recording.overflow", (.urgent, "recordings lost \(health.droppedFrames) frames since start: the disk fell behind"
                + (health.lastOverflow.map { " (\($0))" } ?? ""))))
        }
        if health.writeErrors > seenWriteErrors { writeErrorAt = monotonic }
        seenWriteErrors = health.writeErrors
        if let at = writeErrorAt, monotonic - at < Self.incidentHoldSeconds {
            present.append(("recording.write_error", (.urgent, health.lastWriteError ?? "a recording write failed")))
        }
        return present
    }
}
