import Foundation
import GRDB
import TrunkCore

/// The alarm history in SQLite (`alarms.sqlite` in the data folder), through GRDB.
public final class AlarmStore: Sendable {
    private let database: DatabaseQueue
    public let path: String

    public init(path: String) throws(TrunkError) {
        self.path = path
        do {
            database = try DatabaseQueue(path: path)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1: alarm history") { db in
                try db.create(table: AlarmRecord.databaseTableName) { table in
                    table.autoIncrementedPrimaryKey("id")
                    table.column("kind", .text).notNull()
                    table.column("span", .integer)
                    table.column("severity", .text).notNull()
                    table.column("message", .text).notNull()
                    table.column("raisedAt", .double).notNull().indexed()
                    table.column("clearedAt", .double)
                    table.column("user", .text)
                }
            }
            try migrator.migrate(database)
        } catch {
            throw TrunkError(.deviceError, "alarm history \(path): \(error)")
        }
    }

    @discardableResult
    public func insert(_ record: AlarmRecord) throws(TrunkError) -> AlarmRecord {
        do {
            return try database.write { db in
                var record = record
                try record.insert(db)
                return record
            }
        } catch {
            throw TrunkError(.deviceError, "alarm history \(path): cannot store \(record.kind): \(error)")
        }
    }

    public func clear(id: Int64, at time: Double) throws(TrunkError) {
        do {
            try database.write { db in
                try db.execute(sql: "UPDATE alarm SET clearedAt = ? WHERE id = ? AND clearedAt IS NULL", arguments: [time, id])
            }
        } catch {
            throw TrunkError(.deviceError, "alarm history \(path): cannot clear alarm \(id): \(error)")
        }
    }

    /// Records raised at or after `since` (or still active), newest last.
    public func records(activeOnly: Bool = false, since: Double? = nil) throws(TrunkError) -> [AlarmRecord] {
        do {
            return try database.read { db in
                var request = AlarmRecord.order(Column("raisedAt"), Column("id"))
                if activeOnly { request = request.filter(Column("clearedAt") == nil) }
                if let since { request = request.filter(Column("raisedAt") >= since || Column("clearedAt") == nil) }
                return try request.fetchAll(db)
            }
        } catch {
            throw TrunkError(.deviceError, "alarm history \(path): cannot read: \(error)")
        }
    }

    /// Deletes cleared records raised before `cutoff`; active alarms are never pruned.
    @discardableResult
    public func prune(before cutoff: Double) throws(TrunkError) -> Int {
        do {
            return try database.write { db in
                try AlarmRecord.filter(Column("raisedAt") < cutoff && Column("clearedAt") != nil).deleteAll(db)
            }
        } catch {
            throw TrunkError(.deviceError, "alarm history \(path): cannot prune: \(error)")
        }
    }
}

extension DataFolder {
    /// The alarm history (SQLite).
    public var alarmDatabasePath: String { path + "/alarms.sqlite" }
}
