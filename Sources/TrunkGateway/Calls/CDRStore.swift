import Foundation
import GRDB
import TrunkCore

/// Call detail records in SQLite (WAL): one row per call, written when the call begins and
/// again when it ends, so a killed trunkd leaves rows marked active that the next start closes
/// with a reason. Rows are keyed by call id: a record is never duplicated.
public final class CDRStore: Sendable {
    public let path: String
    private let pool: DatabasePool

    /// Opens (creating if needed) the store at `path`.
    public init(path: String, readOnly: Bool = false) throws(TrunkError) {
        self.path = path
        do {
            var configuration = Configuration()
            configuration.readonly = readOnly
            configuration.busyMode = .timeout(5)
            if readOnly && !FileManager.default.fileExists(atPath: path) {
                throw TrunkError(.notFound, "no call records at \(path) (trunkd has not run with this data folder)")
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            if !readOnly { try Self.migrator.migrate(pool) }
        } catch let error as TrunkError {
            throw error
        } catch {
            throw TrunkError(.deviceError, "call record store \(path): \(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE call (
                    call_id TEXT PRIMARY KEY NOT NULL,
                    active INTEGER NOT NULL,
                    direction TEXT NOT NULL,
                    trunk TEXT NOT NULL,
                    span INTEGER NOT NULL,
                    channel INTEGER NOT NULL,
                    caller TEXT,
                    caller_presentation TEXT,
                    callee TEXT,
                    redirecting TEXT,
                    trunk_group TEXT,
                    handler TEXT,
                    started_at REAL NOT NULL,
                    ended_at REAL,
                    answer_ms REAL,
                    hangup_ms REAL,
                    cleared_by TEXT,
                    cause INTEGER,
                    cause_location INTEGER,
                    failure TEXT,
                    digits TEXT NOT NULL DEFAULT '',
                    recordings TEXT NOT NULL DEFAULT '[]',
                    events TEXT NOT NULL DEFAULT '[]'
                );
                CREATE INDEX call_started ON call(started_at);
                CREATE INDEX call_active ON call(active) WHERE active = 1;
                CREATE TABLE node (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    alive_at REAL NOT NULL
                );
                """)
        }
        return migrator
    }

    // MARK: writing

    /// Inserts or replaces the row of `record` (active until its hangup is stamped).
    public func save(_ record: CallRecord) throws(TrunkError) {
        try write { db in try Self.upsert(record, db) }
    }

    public func save(_ records: [CallRecord]) throws(TrunkError) {
        try write { db in for record in records { try Self.upsert(record, db) } }
    }

    private static func upsert(_ record: CallRecord, _ db: Database) throws {
        let encoder = JSONEncoder()
        let events = String(decoding: try encoder.encode(record.events), as: UTF8.self)
        let recordings = String(decoding: try encoder.encode(record.recordings), as: UTF8.self)
        let started = record.started.timeIntervalSince1970
        let hangup = record.time(of: .hangup)
        try db.execute(sql: """
            INSERT OR REPLACE INTO call (call_id, active, direction, trunk, span, channel, caller, caller_presentation,
                callee, redirecting, trunk_group, handler, started_at, ended_at, answer_ms, hangup_ms, cleared_by, cause,
                cause_location, failure, digits, recordings, events)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [
                record.callID, hangup == nil ? 1 : 0, record.direction.rawValue, record.trunk.rawValue,
                record.address.span, record.address.channel, record.caller, record.callerPresentation, record.callee,
                record.redirecting, record.trunkGroup, record.handler, started, hangup.map { started + $0 / 1000 },
                record.time(of: .answered), hangup, record.clearedBy?.rawValue, record.cause, record.causeLocation,
                record.failure?.rawValue, record.digits, recordings, events,
            ])
    }

    /// Notes that the node is alive now: the end time given to calls a crash leaves open.
    public func heartbeat(_ now: Date = Date()) throws(TrunkError) {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO node (id, alive_at) VALUES (1, ?)", arguments: [now.timeIntervalSince1970])
        }
    }

    /// Closes every row still active from an earlier run (trunkd was killed or the machine
    /// stopped): ended at the last heartbeat, cleared by the system, failure `node_restart`.
    @discardableResult
    public func closeInterrupted(now: Date = Date()) throws(TrunkError) -> Int {
        var closed = 0
        try write { db in
            let aliveAt = try Double.fetchOne(db, sql: "SELECT alive_at FROM node WHERE id = 1") ?? now.timeIntervalSince1970
            let rows = try Row.fetchAll(db, sql: "SELECT call_id, started_at, events FROM call WHERE active = 1")
            for row in rows {
                let started: Double = row["started_at"]
                let end = max(started, min(aliveAt, now.timeIntervalSince1970))
                var events = (try? JSONDecoder().decode([CallEvent].self, from: Data((row["events"] as String).utf8))) ?? []
                let hangupMs = (end - started) * 1000
                events.append(CallEvent(.hangup, atMs: hangupMs, detail: "closed at restart"))
                try db.execute(sql: """
                    UPDATE call SET active = 0, ended_at = ?, hangup_ms = ?, cleared_by = 'system',
                        failure = 'node_restart', cause = COALESCE(cause, 41), events = ?
                    WHERE call_id = ?
                    """, arguments: [end, hangupMs, String(decoding: try JSONEncoder().encode(events), as: UTF8.self), row["call_id"] as String])
                closed += 1
            }
        }
        return closed
    }

    private func write(_ body: @escaping (Database) throws -> Void) throws(TrunkError) {
        do {
            try pool.write(body)
        } catch {
            throw TrunkError(.deviceError, "call record store \(path): \(error)")
        }
    }

    // MARK: reading

    public struct Query: Sendable, Codable, Equatable {
        public var from: Date?
        public var to: Date?
        public var limit: Int?
        public init(from: Date? = nil, to: Date? = nil, limit: Int? = nil) {
            self.from = from
            self.to = to
            self.limit = limit
        }
    }

    /// Calls that began in [from, to), oldest first.
    public func calls(_ query: Query) throws(TrunkError) -> [CallRecord] {
        do {
            return try pool.read { db in
                var sql = "SELECT * FROM call WHERE started_at >= ? AND started_at < ? ORDER BY started_at, call_id"
                if let limit = query.limit { sql += " LIMIT \(max(0, limit))" }
                let rows = try Row.fetchAll(db, sql: sql, arguments: [
                    query.from?.timeIntervalSince1970 ?? 0, query.to?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude,
                ])
                return try rows.map(Self.record(from:))
            }
        } catch {
            throw TrunkError(.deviceError, "call record store \(path): \(error)")
        }
    }

    public var count: Int {
        (try? pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM call") ?? 0 }) ?? 0
    }

    static func record(from row: Row) throws -> CallRecord {
        let decoder = JSONDecoder()
        let started = Date(timeIntervalSince1970: row["started_at"])
        var record = CallRecord(callID: row["call_id"], direction: CallDirection(rawValue: row["direction"]) ?? .inbound,
                                trunk: TrunkKind(rawValue: row["trunk"]) ?? .pri,
                                address: ChannelAddress(span: row["span"], channel: row["channel"]), started: started)
        record.caller = row["caller"]
        record.callerPresentation = row["caller_presentation"]
        record.callee = row["callee"]
        record.redirecting = row["redirecting"]
        record.trunkGroup = row["trunk_group"]
        record.handler = row["handler"]
        record.clearedBy = (row["cleared_by"] as String?).flatMap(ClearingSide.init(rawValue:))
        record.cause = row["cause"]
        record.causeLocation = row["cause_location"]
        record.failure = (row["failure"] as String?).flatMap(CallFailure.init(rawValue:))
        record.digits = row["digits"]
        record.recordings = try decoder.decode([String].self, from: Data((row["recordings"] as String).utf8))
        record.events = try decoder.decode([CallEvent].self, from: Data((row["events"] as String).utf8))
        let active: Int = row["active"]
        record.state = active == 1 ? .up : .idle
        return record
    }
}
