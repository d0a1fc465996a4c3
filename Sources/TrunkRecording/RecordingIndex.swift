import Foundation
import GRDB
import TrunkCore

/// One recording as the index knows it. Times are milliseconds since the Unix epoch (UTC).
public struct RecordingRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "recording"

    public var id: String
    public var callId: String
    public var span: Int?
    public var channel: Int?
    /// "inbound", "outbound" or "tap" (a line tap with no call behind it).
    public var direction: String
    public var caller: String?
    public var callee: String?
    public var agentId: String?
    /// Skill or queue, set by CTI; department/QA users are scoped by it.
    public var skill: String?
    /// Ticket and business keys set by CTI, as "key=value" or plain words.
    public var tags: [String]
    public var startedAt: Int64
    public var answeredAt: Int64?
    public var endedAt: Int64?
    public var durationMs: Int64?
    /// Q.850 cause of the hangup.
    public var hangupCause: Int?
    public var format: String
    public var channelMap: String
    /// The file, relative to the recordings root (YYYY/MM/DD/<id>.wav).
    public var path: String
    public var size: Int64?
    public var sha256: String?
    public var retentionClass: String
    public var expiresAt: Int64?
    public var legalHold: Bool
    /// "recording", "finalized", "repaired" or "purged".
    public var state: String
    /// Frames the writer could not keep up with; never silently lost: also alarmed.
    public var droppedFrames: Int64
    /// Pause intervals as JSON: [{"from": ms, "to": ms, "atFrame": n}].
    public var pauses: String
    public var encrypted: Bool
    /// Anything unusual about the file, said for people ("cut short: disk full").
    public var note: String?

    public init(id: String, callId: String, span: Int? = nil, channel: Int? = nil, direction: String = "inbound",
                caller: String? = nil, callee: String? = nil, agentId: String? = nil, skill: String? = nil, tags: [String] = [],
                startedAt: Int64, format: RecordingFormat = .standard, path: String, retentionClass: String = "90d") {
        self.id = id
        self.callId = callId
        self.span = span
        self.channel = channel
        self.direction = direction
        self.caller = caller
        self.callee = callee
        self.agentId = agentId
        self.skill = skill
        self.tags = tags
        self.startedAt = startedAt
        self.format = format.name
        self.channelMap = format.channelMap
        self.path = path
        self.retentionClass = retentionClass
        self.legalHold = false
        self.state = "recording"
        self.droppedFrames = 0
        self.pauses = "[]"
        self.encrypted = false
    }
}

/// One row of the audit trail: who did what to which recordings, when and why.
public struct AuditRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "audit"
    public var id: Int64?
    public var at: Int64
    public var user: String
    public var action: String
    public var recordingIds: String
    public var reason: String?
    /// "ok" or "denied: …".
    public var outcome: String
}

/// What to look for; nil fields do not filter. `caller`/`callee` ending in `*` match a prefix.
public struct RecordingQuery: Sendable, Equatable {
    public var from: Date?
    public var to: Date?
    public var caller: String?
    public var callee: String?
    public var span: Int?
    public var channel: Int?
    public var agent: String?
    public var tag: String?
    public var direction: String?
    public var minDuration: Double?
    public var maxDuration: Double?
    public var cause: Int?
    public var id: String?
    public var limit: Int = 1000

    public init() {}
}

/// The SQLite index (GRDB, WAL): recordings, their tags, the audit trail and the manifest head.
/// trunkd and trunkrec open it at the same time; WAL lets readers run while one writes.
public final class RecordingIndex: Sendable {
    public let path: String
    public let pool: DatabasePool

    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        if !readOnly { try Self.migrator.migrate(pool) }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "recording") { t in
                t.primaryKey("id", .text)
                t.column("callId", .text).notNull()
                t.column("span", .integer)
                t.column("channel", .integer)
                t.column("direction", .text).notNull()
                t.column("caller", .text)
                t.column("callee", .text)
                t.column("agentId", .text)
                t.column("skill", .text)
                t.column("tags", .text).notNull()
                t.column("startedAt", .integer).notNull()
                t.column("answeredAt", .integer)
                t.column("endedAt", .integer)
                t.column("durationMs", .integer)
                t.column("hangupCause", .integer)
                t.column("format", .text).notNull()
                t.column("channelMap", .text).notNull()
                t.column("path", .text).notNull()
                t.column("size", .integer)
                t.column("sha256", .text)
                t.column("retentionClass", .text).notNull()
                t.column("expiresAt", .integer)
                t.column("legalHold", .boolean).notNull()
                t.column("state", .text).notNull()
                t.column("droppedFrames", .integer).notNull()
                t.column("pauses", .text).notNull()
                t.column("encrypted", .boolean).notNull()
                t.column("note", .text)
            }
            // The searches people run: a number over a time range, an agent's day, a call.
            try db.create(index: "recording_caller_time", on: "recording", columns: ["caller", "startedAt"])
            try db.create(index: "recording_callee_time", on: "recording", columns: ["callee", "startedAt"])
            try db.create(index: "recording_agent_time", on: "recording", columns: ["agentId", "startedAt"])
            try db.create(index: "recording_time", on: "recording", columns: ["startedAt"])
            try db.create(index: "recording_call", on: "recording", columns: ["callId"])
            try db.create(index: "recording_expiry", on: "recording", columns: ["expiresAt"])
            try db.create(table: "recording_tag") { t in
                t.column("tag", .text).notNull()
                t.column("recordingId", .text).notNull()
                t.primaryKey(["tag", "recordingId"])
            }
            try db.create(table: "audit") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .integer).notNull()
                t.column("user", .text).notNull()
                t.column("action", .text).notNull()
                t.column("recordingIds", .text).notNull()
                t.column("reason", .text)
                t.column("outcome", .text).notNull()
            }
            try db.create(index: "audit_user_time", on: "audit", columns: ["user", "at"])
            try db.create(index: "audit_time", on: "audit", columns: ["at"])
            try db.create(table: "manifest_head") { t in
                t.primaryKey("id", .integer)
                t.column("seq", .integer).notNull()
                t.column("hash", .text).notNull()
            }
        }
        return migrator
    }

    public func insert(_ record: RecordingRecord) throws {
        try pool.write { db in
            try record.insert(db)
            for tag in record.tags { try db.execute(sql: "INSERT OR IGNORE INTO recording_tag (tag, recordingId) VALUES (?, ?)", arguments: [tag, record.id]) }
        }
    }

    public func update(_ record: RecordingRecord) throws {
        try pool.write { db in
            try record.update(db)
            try db.execute(sql: "DELETE FROM recording_tag WHERE recordingId = ?", arguments: [record.id])
            for tag in record.tags { try db.execute(sql: "INSERT OR IGNORE INTO recording_tag (tag, recordingId) VALUES (?, ?)", arguments: [tag, record.id]) }
        }
    }

    public func record(_ id: String) throws -> RecordingRecord? {
        try pool.read { db in try RecordingRecord.fetchOne(db, key: id) }
    }

    public func records(state: String) throws -> [RecordingRecord] {
        try pool.read { db in try RecordingRecord.filter(Column("state") == state).fetchAll(db) }
    }

    public func allRecords() throws -> [RecordingRecord] {
        try pool.read { db in try RecordingRecord.order(Column("startedAt")).fetchAll(db) }
    }

    /// Recordings matching `query` that `user` may see, newest first.
    public func search(_ query: RecordingQuery, as user: RecordingUser) throws -> [RecordingRecord] {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        for (column, value) in [("caller", query.caller), ("callee", query.callee)] {
            guard let value else { continue }
            if value.hasSuffix("*") {
                // A prefix as a range, so the (number, time) index still serves it.
                let prefix = String(value.dropLast())
                clauses.append("\(column) >= ? AND \(column) < ?")
                arguments += [prefix, prefix + "\u{10FFFF}"]
            } else {
                clauses.append("\(column) = ?")
                arguments.append(value)
            }
        }
        if let id = query.id { clauses.append("id = ?"); arguments.append(id) }
        if let agent = query.agent { clauses.append("agentId = ?"); arguments.append(agent) }
        if let from = query.from { clauses.append("startedAt >= ?"); arguments.append(Int64(from.timeIntervalSince1970 * 1000)) }
        if let to = query.to { clauses.append("startedAt < ?"); arguments.append(Int64(to.timeIntervalSince1970 * 1000)) }
        if let span = query.span { clauses.append("span = ?"); arguments.append(span) }
        if let channel = query.channel { clauses.append("channel = ?"); arguments.append(channel) }
        if let direction = query.direction { clauses.append("direction = ?"); arguments.append(direction) }
        if let cause = query.cause { clauses.append("hangupCause = ?"); arguments.append(cause) }
        if let minimum = query.minDuration { clauses.append("durationMs >= ?"); arguments.append(Int64(minimum * 1000)) }
        if let maximum = query.maxDuration { clauses.append("durationMs <= ?"); arguments.append(Int64(maximum * 1000)) }
        if let tag = query.tag { clauses.append("id IN (SELECT recordingId FROM recording_tag WHERE tag = ?)"); arguments.append(tag) }
        let (scope, scopeArguments) = user.scopeClause()
        if let scope {
            clauses.append(scope)
            arguments += scopeArguments
        }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sql = "SELECT * FROM recording \(whereClause) ORDER BY startedAt DESC LIMIT \(max(1, query.limit))"
        return try pool.read { db in try RecordingRecord.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)) }
    }

    public func addAudit(_ entry: AuditRecord) throws {
        try pool.write { db in try entry.insert(db) }
    }

    public func audit(user: String?, from: Date?, to: Date?) throws -> [AuditRecord] {
        var request = AuditRecord.order(Column("at"), Column("id"))
        if let user { request = request.filter(Column("user") == user) }
        if let from { request = request.filter(Column("at") >= Int64(from.timeIntervalSince1970 * 1000)) }
        if let to { request = request.filter(Column("at") < Int64(to.timeIntervalSince1970 * 1000)) }
        return try pool.read { db in try request.fetchAll(db) }
    }

    public func setManifestHead(seq: Int, hash: String) throws {
        try pool.write { db in
            // Appends from two processes may land out of order here: keep the newest.
            try db.execute(sql: """
                INSERT INTO manifest_head (id, seq, hash) VALUES (1, ?, ?)
                ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash WHERE excluded.seq > manifest_head.seq
                """, arguments: [seq, hash])
        }
    }

    public func manifestHead() throws -> (seq: Int, hash: String)? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT seq, hash FROM manifest_head WHERE id = 1").map { ($0["seq"], $0["hash"]) }
        }
    }
}
