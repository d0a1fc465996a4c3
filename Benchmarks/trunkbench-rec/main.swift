#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GRDB
import TrunkCore
import TrunkRecording

// trunkbench-rec: the recording store under load.
//   trunkbench-rec write [RECORDINGS=960] [SECONDS=60] [realtime|fast] [RUNS=1]
//       RECORDINGS stereo recordings fed 20 ms blocks (at real-time pace, or as fast as the
//       feeder can) through the Recorder; reports dropped frames (must be 0), the feeder's
//       lateness, finalize time, and the write time against a baseline of the same bytes written
//       by plain write() calls to as many files, measured in the same run.
//   trunkbench-rec search [ROWS=10000000] [QUERIES=1000] [DB_FOLDER]
//       builds (once; reused when DB_FOLDER holds it) an index of ROWS recordings, then times
//       searches by caller and time range (p50/p99) against primary-key lookups in the same run.

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func temporaryFolder(_ name: String) -> String {
    var template = Array((NSTemporaryDirectory() + "/\(name)-XXXXXX").utf8CString)
    return String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

/// Plain write() of the same volume, 16 KiB at a time, round robin over as many files: what
/// the disk and the kernel cost without the recorder.
func baselineWrite(recordings: Int, seconds: Int, folder: String) -> Double {
    let bytesPerFile = seconds * 8000 * 2
    let chunk = [UInt8](repeating: 0xD5, count: 16384)
    let start = now()
    var fds: [Int32] = []
    for n in 0..<recordings { fds.append(open(folder + "/base-\(n).raw", O_WRONLY | O_CREAT | O_TRUNC, 0o640)) }
    var written = 0
    while written < bytesPerFile {
        let piece = min(chunk.count, bytesPerFile - written)
        for fd in fds { _ = chunk.withUnsafeBytes { write(fd, $0.baseAddress, piece) } }
        written += piece
    }
    for fd in fds { fsync(fd); close(fd) }
    let elapsed = now() - start
    for n in 0..<recordings { unlink(folder + "/base-\(n).raw") }
    return elapsed
}

func writeBenchmark(recordings: Int, seconds: Int, realtime: Bool) throws -> (elapsed: Double, dropped: Int, lateMax: Double, finalize: Double, baseline: Double) {
    let folder = temporaryFolder("trunkbench-rec")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var configuration = RecordingConfiguration(root: folder + "/recordings")
    configuration.storageAlarmFreePercent = nil
    configuration.storageReserveBytes = 0
    let store = try RecordingStore(configuration: configuration)
    let recorder = Recorder(store: store)
    var taps: [RecordingTap] = []
    for n in 0..<recordings {
        taps.append(try recorder.start(RecordingRequest(recordingId: "b-\(n)", callId: "c-\(n)", span: 1 + n / 30, channel: n,
                                                       caller: "1380000\(String(format: "%04d", n))", callee: "95500")))
    }
    // Two seconds of signal, reused: the feeder's cost is the copy into the ring, as in the media loop.
    var trunk = [Int16](repeating: 0, count: 16000), agent = [Int16](repeating: 0, count: 16000)
    for i in 0..<16000 { trunk[i] = RecordingTestSignal.trunk(i); agent[i] = RecordingTestSignal.agent(i) }
    let blocks = seconds * 50
    let start = now()
    var lateMax = 0.0
    for block in 0..<blocks {
        let offset = (block % 100) * 160
        trunk.withUnsafeBufferPointer { t in
            agent.withUnsafeBufferPointer { a in
                let tb = UnsafeBufferPointer(rebasing: t[offset..<offset + 160]), ab = UnsafeBufferPointer(rebasing: a[offset..<offset + 160])
                for tap in taps { tap.append(trunk: tb, agent: ab) }
            }
        }
        if realtime {
            let due = start + Double(block + 1) * 0.02
            let wait = due - now()
            if wait > 0 { usleep(UInt32(wait * 1e6)) } else { lateMax = max(lateMax, -wait) }
        }
    }
    let fed = now()
    for n in 0..<recordings { try recorder.stop("b-\(n)") }
    for n in 0..<recordings { recorder.waitUntilFinished("b-\(n)", timeout: 600) }
    let end = now()
    recorder.shutdown()
    var dropped = 0
    for tap in taps { dropped += tap.droppedFrames }
    let records = try store.index.allRecords()
    let short = records.filter { ($0.size ?? 0) != Int64(58 + seconds * 16000) }
    if !short.isEmpty { print("  !! \(short.count) files have the wrong size (e.g. \(short[0].id): \(short[0].size ?? -1))") }
    let baseline = baselineWrite(recordings: recordings, seconds: seconds, folder: folder)
    return (end - start, dropped, lateMax, end - fed, baseline)
}

func searchBenchmark(rows: Int, queries: Int, folder: String) throws {
    let root = folder + "/recordings"
    let indexPath = root + "/index.sqlite"
    let callers = max(1, rows / 10)
    let year: Int64 = 365 * 86_400_000
    let origin: Int64 = 1_767_225_600_000  // 2026-01-01
    if !FileManager.default.fileExists(atPath: indexPath) {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let index = try RecordingIndex(path: indexPath)
        let start = now()
        // Bulk load: indexes dropped, rows inserted in big transactions, indexes rebuilt.
        let indexes = try index.pool.read { db in try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND name LIKE 'recording_%' AND sql IS NOT NULL") }
        try index.pool.write { db in
            for name in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'recording_%' AND sql IS NOT NULL") {
                try db.execute(sql: "DROP INDEX \(name)")
            }
        }
        var generator = SystemRandomNumberGenerator()
        let batch = 200_000
        var done = 0
        while done < rows {
            try index.pool.writeWithoutTransaction { db in
                try db.inTransaction {
                    let statement = try db.makeStatement(sql: """
                        INSERT INTO recording (id, callId, span, channel, direction, caller, callee, agentId, skill, tags, startedAt, endedAt,
                        durationMs, hangupCause, format, channelMap, path, size, sha256, retentionClass, expiresAt, legalHold, state,
                        droppedFrames, pauses, encrypted) VALUES (?, ?, ?, ?, 'inbound', ?, '95500', ?, 'billing', '[]', ?, ?, ?, 16,
                        'alaw/stereo', 'left=trunk,right=agent', ?, 960058, NULL, '1y', ?, 0, 'finalized', 0, '[]', 0)
                        """)
                    for n in done..<min(rows, done + batch) {
                        let started = origin + Int64.random(in: 0..<year, using: &generator)
                        let duration = Int64.random(in: 5_000..<600_000, using: &generator)
                        let caller = "138" + String(format: "%08d", Int.random(in: 0..<callers, using: &generator))
                        let id = "R\(n)"
                        try statement.execute(arguments: [id, "C\(n)", 1 + n % 32, n % 960, caller, "\(1000 + n % 500)", started,
                                                          started + duration, duration, "2026/01/01/\(id).wav", started + duration + year])
                    }
                    return .commit
                }
            }
            done = min(rows, done + batch)
            FileHandle.standardError.write(Data("\r  generated \(done)/\(rows) rows".utf8))
        }
        let inserted = now()
        try index.pool.write { db in for sql in indexes { try db.execute(sql: sql) } }
        try index.pool.write { db in try db.execute(sql: "ANALYZE") }
        FileHandle.standardError.write(Data("\n".utf8))
        print(String(format: "index generated: %d rows in %.1f s (insert %.1f s, indexes %.1f s) at %@", rows, now() - start,
                     inserted - start, now() - inserted, indexPath))
    } else {
        print("index reused: \(indexPath)")
    }
    let index = try RecordingIndex(path: indexPath)
    let admin = RecordingUser(name: "bench", role: .admin)
    var searchTimes: [Double] = [], lookupTimes: [Double] = []
    var found = 0
    for _ in 0..<queries {
        var query = RecordingQuery()
        query.caller = "138" + String(format: "%08d", Int.random(in: 0..<callers))
        let from = origin + Int64.random(in: 0..<(year - 30 * 86_400_000))
        query.from = Date(timeIntervalSince1970: Double(from) / 1000)
        query.to = Date(timeIntervalSince1970: Double(from + 90 * 86_400_000) / 1000)
        let t0 = now()
        found += try index.search(query, as: admin).count
        searchTimes.append(now() - t0)
        let id = "R\(Int.random(in: 0..<rows))"
        let t1 = now()
        _ = try index.record(id)
        lookupTimes.append(now() - t1)
    }
    print(String(format: "search by caller + 90-day range over %d rows, %d queries (%d hits): p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                 rows, queries, found, median(searchTimes) * 1000, percentile(searchTimes, 0.99) * 1000, searchTimes.max()! * 1000))
    print(String(format: "baseline primary-key lookup, same run: p50 %.3f ms, p99 %.3f ms; search/lookup p99 ratio %.1f",
                 median(lookupTimes) * 1000, percentile(lookupTimes, 0.99) * 1000, percentile(searchTimes, 0.99) / percentile(lookupTimes, 0.99)))
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "write":
    let recordings = arguments.count > 1 ? Int(arguments[1]) ?? 960 : 960
    let seconds = arguments.count > 2 ? Int(arguments[2]) ?? 60 : 60
    let realtime = arguments.count > 3 ? arguments[3] != "fast" : true
    let runs = arguments.count > 4 ? Int(arguments[4]) ?? 1 : 1
    print("\(recordings) stereo A-law recordings × \(seconds) s of audio, fed \(realtime ? "at real-time pace" : "as fast as possible"), \(runs) run(s)")
    var ratios: [Double] = []
    var totalDropped = 0
    for run in 1...runs {
        let result = try writeBenchmark(recordings: recordings, seconds: seconds, realtime: realtime)
        totalDropped += result.dropped
        let audio = Double(recordings * seconds)
        ratios.append(result.elapsed / result.baseline)
        print(String(format: "run %d: %.1f s wall for %.0f s of audio (%.1f× real time per recording), dropped frames %d, feeder max lateness %.1f ms, stop→all finalized %.2f s; baseline plain write() %.2f s; recorder/baseline %.2f",
                     run, result.elapsed, audio, audio / result.elapsed / Double(recordings), result.dropped, result.lateMax * 1000, result.finalize, result.baseline, result.elapsed / result.baseline))
    }
    print(String(format: "median recorder/baseline ratio %.2f; dropped frames in all runs: %d", median(ratios), totalDropped))
    exit(totalDropped == 0 ? 0 : 2)
case "search":
    let rows = arguments.count > 1 ? Int(arguments[1]) ?? 10_000_000 : 10_000_000
    let queries = arguments.count > 2 ? Int(arguments[2]) ?? 1000 : 1000
    let folder = arguments.count > 3 ? arguments[3] : temporaryFolder("trunkbench-rec-index")
    try searchBenchmark(rows: rows, queries: queries, folder: folder)
default:
    print("usage: trunkbench-rec write [RECORDINGS [SECONDS [realtime|fast [RUNS]]]] | search [ROWS [QUERIES [DB_FOLDER]]]")
    exit(1)
}
