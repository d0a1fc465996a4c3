#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import TrunkCore

/// The recordings root: files in ROOT/YYYY/MM/DD/<id>.wav, the index ROOT/index.sqlite and the
/// manifest ROOT/manifest.log. trunkd writes through it; trunkrec reads, verifies, exports,
/// holds and purges through it, on the same files, with or without trunkd running.
public final class RecordingStore: Sendable {
    public let configuration: RecordingConfiguration
    public let io: FileIO
    public let index: RecordingIndex
    public let manifest: Manifest
    public let cipher: RecordingCipher?
    public var root: String { configuration.root }

    public init(configuration: RecordingConfiguration, io: FileIO = FileIO()) throws {
        self.configuration = configuration
        self.io = io
        try io.makeDirectories(configuration.root)
        index = try RecordingIndex(path: configuration.root + "/index.sqlite")
        manifest = Manifest(path: configuration.root + "/manifest.log", io: io)
        if let keyFile = configuration.keyFile {
            let rootPrefix = configuration.root.hasSuffix("/") ? configuration.root : configuration.root + "/"
            guard !keyFile.hasPrefix(rootPrefix) else {
                throw TrunkError(.invalidArgument, "encryption key file \(keyFile) lies inside the recordings root \(configuration.root); keep it outside, or anyone with the recordings has the key")
            }
            cipher = try RecordingCipher(keyFile: keyFile, io: io)
        } else {
            cipher = nil
        }
    }

    /// "YYYY/MM/DD" of a moment, in UTC (so a folder never depends on the server's time zone).
    public static func dayFolder(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d/%02d/%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
    }

    public func absolutePath(_ record: RecordingRecord) -> String { root + "/" + record.path }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    // MARK: Manifest and audit

    /// Appends to the manifest and moves the index's copy of the chain head.
    @discardableResult
    public func log(_ event: Manifest.Event, recordings: [String], sha256: String? = nil, user: String? = nil,
                    reason: String? = nil, detail: String? = nil) throws -> Manifest.Entry {
        let (entry, hash) = try manifest.append(event, recordings: recordings, sha256: sha256, user: user, reason: reason, detail: detail)
        try index.setManifestHead(seq: entry.seq, hash: hash)
        return entry
    }

    /// Writes an access to the audit table and, when it happened, to the manifest.
    public func audit(user: String, action: String, ids: [String], reason: String?, outcome: String = "ok") throws {
        try index.addAudit(AuditRecord(id: nil, at: Self.milliseconds(Date()), user: user, action: action,
                                       recordingIds: ids.joined(separator: ","), reason: reason, outcome: outcome))
        if outcome == "ok", let event = Manifest.Event(rawValue: action) {
            try log(event, recordings: ids, user: user, reason: reason)
        }
    }

    // MARK: Finishing files

    public func sha256(ofFile path: String) throws -> String {
        // Read in pieces without a capturing closure (the 6.3 compiler crashes promoting its box).
        var hasher = SHA256()
        let fd = try io.open(path, O_RDONLY)
        defer { io.close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let n = try io.pread(fd, buffer, at: offset, path: path)
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            offset += Int64(n)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// After the writer sealed `<id>.wav`: encrypts it if configured, hashes the stored bytes,
    /// records size, hash and expiry in the index and the event in the manifest.
    public func seal(_ record: inout RecordingRecord, event: Manifest.Event, detail: String? = nil) throws {
        var path = absolutePath(record)
        if let cipher, !record.encrypted {
            let encryptedPath = path + ".gcm"
            try cipher.encrypt(id: record.id, source: path, destination: encryptedPath, io: io)
            try io.unlink(path)
            try io.syncDirectory(String(path[..<path.lastIndex(of: "/")!]))
            record.path += ".gcm"
            record.encrypted = true
            path = encryptedPath
        }
        let fd = try io.open(path, O_RDONLY)
        record.size = try io.size(fd, path: path)
        io.close(fd)
        record.sha256 = try sha256(ofFile: path)
        let retention = (try? RetentionClass(record.retentionClass)) ?? configuration.retentionDefault
        record.expiresAt = retention.expiry(endedAtMs: record.endedAt ?? record.startedAt)
        record.state = event == .repaired ? "repaired" : "finalized"
        try index.update(record)
        try log(event, recordings: [record.id], sha256: record.sha256, detail: detail)
    }

    /// The WAV bytes of a recording, decrypted if need be.
    public func wavBytes(_ record: RecordingRecord) throws -> [UInt8] {
        let path = absolutePath(record)
        guard let bytes = try io.readFile(path) else { throw TrunkError(.notFound, "recording \(record.id): file \(path) is missing") }
        guard record.encrypted else { return bytes }
        guard let cipher else {
            throw TrunkError(.unavailable, "recording \(record.id) is encrypted and no key_file is configured in [recording]")
        }
        return try cipher.decrypt(id: record.id, bytes: bytes, path: path)
    }

    // MARK: Start-up repair

    public struct RepairReport: Sendable {
        public var repaired: [(id: String, seconds: Double)] = []
        public var missing: [String] = []
        public var problems: [String] = []
    }

    /// Finalizes every `.part` left by a crash (from its real length), and settles index rows
    /// a crash left in the "recording" state. Each repair is logged in the manifest.
    public func repairAll() throws -> RepairReport {
        var report = RepairReport()
        var partIds = Set<String>()
        let enumerator = FileManager.default.enumerator(atPath: root)
        var parts: [String] = []
        while let relative = enumerator?.nextObject() as? String {
            if relative.hasSuffix(".wav.part") { parts.append(relative) }
        }
        for relative in parts.sorted() {
            let id = String(relative.split(separator: "/").last!.dropLast(".wav.part".count))
            partIds.insert(id)
            var record = try index.record(id) ?? RecordingRecord(id: id, callId: "", startedAt: Self.milliseconds(Date()),
                                                                  path: String(relative.dropLast(5)),
                                                                  retentionClass: configuration.retentionDefault.name)
            let fallback = RecordingFormat(name: record.format) ?? configuration.format
            do {
                let outcome = try PartRepair.repair(partPath: root + "/" + relative, fallback: fallback, io: io)
                let seconds = Double(outcome.dataBytes / outcome.format.blockAlign) / Double(outcome.format.sampleRate)
                if try index.record(id) == nil { try index.insert(record) }
                record.path = String(relative.dropLast(5))
                if record.endedAt == nil {
                    record.endedAt = record.startedAt + Int64(seconds * 1000)
                    record.durationMs = record.endedAt! - record.startedAt
                }
                record.note = "repaired after a crash: \(String(format: "%.1f", seconds)) s of audio recovered from the .part file"
                try seal(&record, event: .repaired, detail: "header said \(outcome.headerClaimedBytes) data bytes; file held \(outcome.dataBytes)")
                report.repaired.append((id, seconds))
            } catch {
                report.problems.append("\(root)/\(relative): cannot repair: \(error)")
            }
        }
        // A crash between the rename and the index update leaves a finished file and a row still
        // "recording"; a crash before the file was created leaves a row with no file at all.
        for var record in try index.records(state: "recording") where !partIds.contains(record.id) {
            let path = absolutePath(record)
            if access(path, F_OK) == 0 {
                if record.endedAt == nil {
                    let fd = try io.open(path, O_RDONLY)
                    let size = try io.size(fd, path: path)
                    io.close(fd)
                    let format = (RecordingFormat(name: record.format) ?? configuration.format).wav
                    let seconds = Double(max(0, Int(size) - format.headerSize) / format.blockAlign) / 8000
                    record.endedAt = record.startedAt + Int64(seconds * 1000)
                    record.durationMs = record.endedAt! - record.startedAt
                }
                record.note = "finalized on start-up (the index update was interrupted)"
                try seal(&record, event: .repaired, detail: "file was complete; index brought up to date")
                report.repaired.append((record.id, Double(record.durationMs ?? 0) / 1000))
            } else {
                record.state = "missing"
                record.note = "no file was found after a crash"
                try index.update(record)
                report.missing.append(record.id)
            }
        }
        return report
    }

    // MARK: Verification

    public struct Problem: Sendable, CustomStringConvertible {
        public var recordingId: String?
        public var message: String
        public var description: String { message }
    }

    /// Checks the manifest chain and its head, then each recording's file against the hash in
    /// the index and in the manifest. Every problem names the recording, the file or the line.
    public func verify(ids: [String]?) throws -> [Problem] {
        var problems: [Problem] = []
        let reading = try manifest.read()
        problems += reading.problems.map { Problem(recordingId: nil, message: $0) }
        if let head = try index.manifestHead() {
            if let position = reading.entries.firstIndex(where: { $0.seq == head.seq }) {
                if reading.lineHashes[position] != head.hash {
                    problems.append(Problem(recordingId: nil, message: "\(manifest.path): entry \(head.seq) differs from the one the index recorded (altered)"))
                }
            } else {
                let last = reading.entries.last?.seq ?? 0
                problems.append(Problem(recordingId: nil, message: "\(manifest.path): ends at entry \(last) but the index recorded entry \(head.seq): entries \(last + 1)…\(head.seq) were deleted"))
            }
        } else if !reading.entries.isEmpty {
            problems.append(Problem(recordingId: nil, message: "\(index.path): the manifest head is missing from the index"))
        }
        let records: [RecordingRecord]
        if let ids {
            records = try ids.map { id in
                guard let record = try index.record(id) else { throw TrunkError(.notFound, "no recording \(id) in \(index.path)") }
                return record
            }
        } else {
            records = try index.allRecords()
        }
        for record in records {
            switch record.state {
            case "purged":
                if !reading.purged.contains(record.id) {
                    problems.append(Problem(recordingId: record.id, message: "recording \(record.id) is marked purged but the manifest has no purge entry for it"))
                }
                continue
            case "recording", "missing":
                continue
            default:
                break
            }
            let path = absolutePath(record)
            guard access(path, F_OK) == 0 else {
                problems.append(Problem(recordingId: record.id, message: "recording \(record.id): file \(path) is missing"))
                continue
            }
            let actual = try sha256(ofFile: path)
            if actual != record.sha256 {
                problems.append(Problem(recordingId: record.id, message: "recording \(record.id): \(path) was altered: SHA-256 is \(actual), the index recorded \(record.sha256 ?? "none")"))
            }
            if let stated = reading.contentHash[record.id] {
                if stated != record.sha256 {
                    problems.append(Problem(recordingId: record.id, message: "recording \(record.id): the index hash \(record.sha256 ?? "none") differs from the manifest's \(stated) (index altered)"))
                }
            } else {
                problems.append(Problem(recordingId: record.id, message: "recording \(record.id): no finalized entry in the manifest (entry deleted?)"))
            }
        }
        return problems
    }

    // MARK: Retention

    public func setHold(_ id: String, on: Bool, user: RecordingUser, reason: String?) throws {
        guard user.isAdmin else {
            try audit(user: user.name, action: on ? "held" : "released", ids: [id], reason: reason, outcome: "denied: admin role needed")
            throw TrunkError(.permissionDenied, "\(user.name) (\(user.role.rawValue)) may not change legal holds; an admin may")
        }
        guard var record = try index.record(id) else { throw TrunkError(.notFound, "no recording \(id)") }
        record.legalHold = on
        try index.update(record)
        try audit(user: user.name, action: on ? "held" : "released", ids: [id], reason: reason)
    }

    /// Recordings past their expiry and not on legal hold. Without `dryRun` their files are
    /// deleted and each leaves a tombstone: the index row stays (state "purged") and the
    /// manifest gets a purged entry naming the file's hash.
    public func purge(now: Date, dryRun: Bool, user: RecordingUser) throws -> [RecordingRecord] {
        guard user.isAdmin else { throw TrunkError(.permissionDenied, "\(user.name) (\(user.role.rawValue)) may not purge recordings; an admin may") }
        let nowMs = Self.milliseconds(now)
        let due = try index.pool.read { db in
            try RecordingRecord.fetchAll(db, sql: """
                SELECT * FROM recording WHERE expiresAt IS NOT NULL AND expiresAt <= ? AND legalHold = 0
                AND state IN ('finalized', 'repaired') ORDER BY expiresAt
                """, arguments: [nowMs])
        }
        guard !dryRun else { return due }
        for var record in due {
            let path = absolutePath(record)
            let removed = io.calls.unlink(path)
            if removed < 0 && removed != -ENOENT { throw RecordingIOError(operation: "unlink", path: path, errno: -removed) }
            record.state = "purged"
            record.note = "purged \(Manifest.timestamp(now)) by \(user.name) (retention \(record.retentionClass))"
            try index.update(record)
            try index.addAudit(AuditRecord(id: nil, at: nowMs, user: user.name, action: "purged", recordingIds: record.id, reason: "retention \(record.retentionClass) expired", outcome: "ok"))
            try log(.purged, recordings: [record.id], sha256: record.sha256, user: user.name, reason: "retention \(record.retentionClass) expired")
        }
        return due
    }

    // MARK: Storage

    public enum StorageLevel: Sendable, Equatable {
        case ok
        case low(free: Int64, total: Int64)
        case full(free: Int64, total: Int64)
    }

    /// Where free space stands against the configured alarm threshold and the reserve.
    public func storageLevel() -> StorageLevel {
        guard let space = io.freeSpace(root) else { return .ok }
        if space.available < configuration.storageReserveBytes { return .full(free: space.available, total: space.total) }
        if let bytes = configuration.storageAlarmFreeBytes, space.available < bytes { return .low(free: space.available, total: space.total) }
        if let percent = configuration.storageAlarmFreePercent, space.total > 0,
           Double(space.available) * 100 / Double(space.total) < percent {
            return .low(free: space.available, total: space.total)
        }
        return .ok
    }
}
