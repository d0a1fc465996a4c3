import GRDB

/// One alarm as kept in the history: what, where, how serious, and when it was raised and
/// cleared. Times are wall-clock seconds since 1970 (UTC), the way technicians compare them
/// with the carrier's logs; an event that needs no clearing (a config apply, a clock source
/// change) is raised and cleared at once.
public struct AlarmRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public enum Severity: String, Codable, Sendable, DatabaseValueConvertible {
        /// Service affecting: a span or D-channel down.
        case urgent
        /// Worth a look: slips, clock source changes, configuration applied.
        case nonUrgent = "non-urgent"
    }

    public var id: Int64?
    /// "span.RED", "span.YELLOW", "dchannel.down", "clock.source", "slip.burst", "config.apply", …
    public var kind: String
    public var span: Int?
    public var severity: Severity
    public var message: String
    public var raisedAt: Double
    public var clearedAt: Double?
    /// The OS user behind it, where a person caused it (config apply).
    public var user: String?

    public static let databaseTableName = "alarm"

    public var isActive: Bool { clearedAt == nil }

    public init(kind: String, span: Int?, severity: Severity, message: String, raisedAt: Double, clearedAt: Double? = nil, user: String? = nil) {
        self.kind = kind
        self.span = span
        self.severity = severity
        self.message = message
        self.raisedAt = raisedAt
        self.clearedAt = clearedAt
        self.user = user
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// What the alarm monitor tells its listeners (log, CTI): a record raised or cleared.
public struct AlarmEvent: Codable, Sendable, Equatable {
    public enum Change: String, Codable, Sendable {
        case raised
        case cleared
    }

    public var change: Change
    public var record: AlarmRecord
}
