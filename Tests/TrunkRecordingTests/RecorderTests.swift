#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TrunkCore
@testable import TrunkRecording

@Suite("Recording store")
struct RecorderTests {
    @Test("a recording is stereo A-law, trunk on the left and agent on the right, sox reads it, index and manifest agree")
    func stereoMapping() throws {
        let temp = TemporaryRoot()
        let store = try RecordingStore(configuration: temp.configuration())
        let recorder = Recorder(store: store)
        let start = Date(timeIntervalSince1970: 1_780_000_000)
        let tap = try recorder.start(RecordingRequest(recordingId: "rec-1", callId: "call-1", span: 2, channel: 33, caller: "13800138000",
                                                      callee: "95500", agentId: "1001", tags: ["ticket=4711"], startedAt: start))
        feed(tap, seed: 1, seconds: 3)
        try recorder.stop("rec-1", RecordingEnd(endedAt: start.addingTimeInterval(3), hangupCause: 16))
        #expect(recorder.waitUntilFinished("rec-1"))
        recorder.shutdown()

        let record = try #require(try store.index.record("rec-1"))
        #expect(record.state == "finalized" && record.path == "2026/05/28/rec-1.wav")
        #expect(record.channelMap == "left=trunk,right=agent" && record.format == "alaw/stereo")
        #expect(record.hangupCause == 16 && record.durationMs == 3000 && record.tags == ["ticket=4711"])
        let path = store.absolutePath(record)
        #expect(!FileManager.default.fileExists(atPath: path + ".part"))
        let bytes = try #require(FileManager.default.contents(atPath: path))
        #expect(Int64(bytes.count) == record.size)
        #expect(bytes[20] == 6 && bytes[22] == 2)  // format tag 6 (A-law), 2 channels

        let decoded = try #require(try soxDecode(path), "sox refused \(path)")
        #expect(decoded.left.count == 24000)
        let leftExpected = (0..<24000).map { alawRoundTrip(RecordingTestSignal.trunk($0, seed: 1)) }
        let rightExpected = (0..<24000).map { alawRoundTrip(RecordingTestSignal.agent($0, seed: 1)) }
        #expect(decoded.left == leftExpected, "left channel must be the trunk side")
        #expect(decoded.right == rightExpected, "right channel must be the agent side")
        #expect(try store.verify(ids: nil).isEmpty)
        let reading = try store.manifest.read()
        #expect(reading.entries.map(\.event) == [.finalized] && reading.contentHash["rec-1"] == record.sha256)
    }

    @Test("pause writes nothing and is recorded with its position; PCM16 mono-mix is optional")
    func pauseAndMono() throws {
        let temp = TemporaryRoot()
        var configuration = temp.configuration()
        configuration.format = RecordingFormat(encoding: .pcm16, layout: .mono)
        let store = try RecordingStore(configuration: configuration)
        let recorder = Recorder(store: store)
        let tap = try recorder.start(RecordingRequest(recordingId: "p-1", callId: "c"))
        feed(tap, seed: 0, seconds: 1)
        while tap.queuedFrames > 0 { usleep(1000) }
        try recorder.pause("p-1")
        feed(tap, seed: 0, from: 8000, seconds: 1)
        try recorder.resume("p-1")
        feed(tap, seed: 0, from: 16000, seconds: 1)
        try recorder.stop("p-1")
        #expect(recorder.waitUntilFinished("p-1"))
        recorder.shutdown()
        let record = try #require(try store.index.record("p-1"))
        let audio = try RecordingAudio(wav: try store.wavBytes(record))
        #expect(audio.format.encoding == .pcm16 && audio.format.channels == 1)
        #expect(audio.frames == 16000, "the paused second is not in the file")
        #expect(record.pauses.contains("\"atFrame\":8000"))
        let mixed = Int16(clamping: Int32(RecordingTestSignal.trunk(16005)) + Int32(RecordingTestSignal.agent(16005)))
        #expect(audio.channels[0][8005] == mixed)
    }

    @Test("a writer that cannot keep up drops frames, counts them, raises an alarm and says so on the recording")
    func overflowIsNeverSilent() throws {
        let temp = TemporaryRoot()
        var configuration = temp.configuration()
        configuration.queueSeconds = 0.1
        // The seam stalls writes, as a disk that cannot keep up would.
        var calls = FileCalls.live
        let live = FileCalls.live
        calls.pwrite = { fd, bytes, offset in usleep(200_000); return live.pwrite(fd, bytes, offset) }
        let store = try RecordingStore(configuration: configuration, io: FileIO(calls))
        let alarms = AlarmLog()
        let recorder = Recorder(store: store, onAlarm: { alarms.add($0) })
        let tap = try recorder.start(RecordingRequest(recordingId: "o-1", callId: "c"))
        let trunk = [Int16](repeating: 100, count: 160)
        var dropped = 0
        for _ in 0..<400 {
            trunk.withUnsafeBufferPointer { t in if !tap.append(trunk: t, agent: t) { dropped += 160 } }
        }
        try recorder.stop("o-1")
        #expect(recorder.waitUntilFinished("o-1"))
        recorder.shutdown()
        #expect(dropped > 0 && tap.droppedFrames == dropped)
        #expect(alarms.all.contains { $0.kind == .overflow && $0.recordingId == "o-1" })
        let record = try #require(try store.index.record("o-1"))
        #expect(record.droppedFrames == Int64(dropped))
        #expect(record.note?.contains("frames dropped") == true)
    }

    @Test("tampering: one altered byte and one deleted manifest entry are named by verify")
    func tampering() throws {
        let temp = TemporaryRoot()
        let store = try RecordingStore(configuration: temp.configuration())
        let recorder = Recorder(store: store)
        for n in 0..<3 {
            let tap = try recorder.start(RecordingRequest(recordingId: "t-\(n)", callId: "c\(n)"))
            feed(tap, seed: n, seconds: 0.5)
            try recorder.stop("t-\(n)")
            #expect(recorder.waitUntilFinished("t-\(n)"))
        }
        recorder.shutdown()
        #expect(try store.verify(ids: nil).isEmpty)

        let path = store.absolutePath(try #require(try store.index.record("t-1")))
        var bytes = try #require(FileManager.default.contents(atPath: path))
        bytes[1000] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        let altered = try store.verify(ids: nil)
        #expect(altered.count == 1)
        #expect(altered.first?.recordingId == "t-1" && altered.first?.message.contains("was altered") == true)

        // Delete the middle manifest entry (t-1's finalized line).
        let manifestText = try String(contentsOfFile: store.manifest.path, encoding: .utf8)
        var lines = manifestText.split(separator: "\n")
        lines.remove(at: 1)
        try (lines.joined(separator: "\n") + "\n").write(toFile: store.manifest.path, atomically: true, encoding: .utf8)
        let broken = try store.verify(ids: nil).map(\.message)
        #expect(broken.contains { $0.contains("manifest entry 2 is missing (deleted)") }, "\(broken)")
        #expect(broken.contains { $0.contains("t-1") && $0.contains("no finalized entry in the manifest") }, "\(broken)")

        // Cutting the last entry off is caught by the head the index keeps.
        lines.removeLast()
        try (lines.joined(separator: "\n") + "\n").write(toFile: store.manifest.path, atomically: true, encoding: .utf8)
        #expect(try store.verify(ids: nil).map(\.message).contains { $0.contains("entries 2…3 were deleted") })
    }

    @Test("disk full at the syscall seam: alarm, new recordings refused, active ones finalized, nothing corrupt")
    func diskFull() throws {
        let temp = TemporaryRoot()
        // Audio writes fail; the index and manifest still fit, as they do in the reserve the
        // store keeps (storage_reserve_bytes) on a real disk.
        let full = DiskSwitch()
        var calls = FileCalls.live
        let live = FileCalls.live
        calls.open = { path, flags, mode in
            let fd = live.open(path, flags, mode)
            if path.hasSuffix(".part") && fd >= 0 { full.addAudioFile(fd) }
            return fd
        }
        calls.close = { fd in
            full.removeAudioFile(fd)
            return live.close(fd)
        }
        // Like a real full disk: rewriting blocks a file has (its header) works, growing it does not.
        calls.pwrite = { fd, bytes, offset in
            let grows = offset + Int64(bytes.count) > live.fileSize(fd)
            return full.isFull && full.isAudioFile(fd) && grows ? -Int(ENOSPC) : live.pwrite(fd, bytes, offset)
        }
        calls.statvfs = { path in full.isFull ? (available: 4096, total: 1 << 30) : live.statvfs(path) }
        var configuration = temp.configuration()
        configuration.storageReserveBytes = 1 << 20
        let store = try RecordingStore(configuration: configuration, io: FileIO(calls))
        let alarms = AlarmLog()
        let recorder = Recorder(store: store, onAlarm: { alarms.add($0) })
        var taps: [RecordingTap] = []
        for n in 0..<3 {
            taps.append(try recorder.start(RecordingRequest(recordingId: "f-\(n)", callId: "c\(n)")))
        }
        for (n, tap) in taps.enumerated() { feed(tap, seed: n, seconds: 2.5) }
        // Let the writers move the first seconds to the disk, then fill it.
        while taps.contains(where: { $0.queuedFrames > 0 }) { usleep(1000) }
        usleep(100_000)
        full.isFull = true
        // The writers stop draining once they finalize: these appends may be dropped, never block.
        let block = [Int16](repeating: 500, count: 160)
        for tap in taps {
            for _ in 0..<25 { block.withUnsafeBufferPointer { b in _ = tap.append(trunk: b, agent: b) } }
        }
        for n in 0..<3 { #expect(recorder.waitUntilFinished("f-\(n)", timeout: 20)) }

        #expect(alarms.all.contains { $0.kind == .storageFull })
        #expect(recorder.isStorageFull)
        #expect(throws: TrunkError.self) { _ = try recorder.start(RecordingRequest(recordingId: "f-new", callId: "c")) }
        recorder.shutdown()
        full.isFull = false
        for n in 0..<3 {
            let record = try #require(try store.index.record("f-\(n)"))
            #expect(record.state == "finalized", "\(record.id): \(record.state)")
            #expect(record.note?.contains("full") == true, "\(record.note ?? "no note")")
            let path = store.absolutePath(record)
            let decoded = try #require(try soxDecode(path), "sox refused \(path)")
            // Whatever reached the disk is intact and in whole frames.
            #expect(decoded.left.count >= 8000)
            let expected = (0..<decoded.left.count).map { alawRoundTrip(RecordingTestSignal.trunk($0, seed: n)) }
            #expect(decoded.left == expected)
        }
        #expect(try store.verify(ids: nil).isEmpty)
    }

    @Test("access: an agent sees only their recordings, QA by group or tag, admin all")
    func accessScopes() throws {
        let temp = TemporaryRoot()
        let store = try RecordingStore(configuration: temp.configuration())
        let base = Int64(1_780_000_000_000)
        let rows: [(String, String, String?, [String])] = [("a1", "1001", "billing", []), ("a2", "1002", "sales", ["vip"]), ("a3", "1002", "sales", [])]
        for (n, row) in rows.enumerated() {
            var record = RecordingRecord(id: row.0, callId: row.0, caller: "138", agentId: row.1, skill: row.2, tags: row.3,
                                         startedAt: base + Int64(n), path: "x/\(row.0).wav")
            record.state = "finalized"
            try store.index.insert(record)
        }
        let agent = RecordingUser(name: "li", role: .agent, agentId: "1001")
        let qa = RecordingUser(name: "wang", role: .qa, tags: ["vip"], groups: ["billing"])
        let admin = RecordingUser(name: "root", role: .admin)
        #expect(try store.index.search(RecordingQuery(), as: agent).map(\.id) == ["a1"])
        #expect(try store.index.search(RecordingQuery(), as: qa).map(\.id).sorted() == ["a1", "a2"])
        #expect(try store.index.search(RecordingQuery(), as: admin).count == 3)
        var byCaller = RecordingQuery()
        byCaller.caller = "138"
        byCaller.agent = "1002"
        #expect(try store.index.search(byCaller, as: agent).isEmpty, "asking for another agent's calls finds nothing")
        #expect(!agent.mayAccess(try #require(try store.index.record("a2"))))
    }

    @Test("retention: classes under 30 days are refused; purge skips holds and leaves tombstones")
    func retention() throws {
        #expect(throws: TrunkError.self) { _ = try RetentionClass("7d") }
        #expect(try RetentionClass("1y").days == 365 && RetentionClass("permanent").days == nil)
        let temp = TemporaryRoot()
        let store = try RecordingStore(configuration: temp.configuration())
        let recorder = Recorder(store: store)
        let old = Date().addingTimeInterval(-40 * 86400)
        for id in ["old-1", "old-2"] {
            let tap = try recorder.start(RecordingRequest(recordingId: id, callId: id, startedAt: old, retentionClass: try RetentionClass("30d")))
            feed(tap, seed: 0, seconds: 0.2)
            try recorder.stop(id, RecordingEnd(endedAt: old.addingTimeInterval(1)))
            #expect(recorder.waitUntilFinished(id))
        }
        recorder.shutdown()
        let admin = RecordingUser(name: "boss", role: .admin)
        try store.setHold("old-2", on: true, user: admin, reason: "court case 12")
        #expect(try store.purge(now: Date(), dryRun: true, user: admin).map(\.id) == ["old-1"])
        #expect(FileManager.default.fileExists(atPath: store.absolutePath(try #require(try store.index.record("old-1")))))
        #expect(try store.purge(now: Date(), dryRun: false, user: admin).map(\.id) == ["old-1"])
        let purged = try #require(try store.index.record("old-1"))
        #expect(purged.state == "purged" && !FileManager.default.fileExists(atPath: store.absolutePath(purged)))
        #expect(try store.manifest.read().entries.contains { $0.event == .purged && $0.recordings == ["old-1"] })
        #expect(try store.verify(ids: nil).isEmpty)
        #expect(throws: TrunkError.self) { _ = try store.purge(now: Date(), dryRun: false, user: RecordingUser(name: "li", role: .agent, agentId: "1")) }
    }

    @Test("encryption: AES-256-GCM chunks round-trip; an altered chunk is refused")
    func encryption() throws {
        let temp = TemporaryRoot()
        let keyPath = temp.folder + "/recording.key"
        try Data((0..<32).map { UInt8($0) }).write(to: URL(fileURLWithPath: keyPath))
        var configuration = temp.configuration()
        configuration.keyFile = keyPath
        let store = try RecordingStore(configuration: configuration)
        let recorder = Recorder(store: store)
        let tap = try recorder.start(RecordingRequest(recordingId: "e-1", callId: "c"))
        feed(tap, seed: 2, seconds: 10)
        try recorder.stop("e-1")
        #expect(recorder.waitUntilFinished("e-1"))
        recorder.shutdown()
        let record = try #require(try store.index.record("e-1"))
        #expect(record.encrypted && record.path.hasSuffix(".wav.gcm"))
        let audio = try RecordingAudio(wav: try store.wavBytes(record))
        #expect(audio.frames == 80000 && audio.channels[1][777] == alawRoundTrip(RecordingTestSignal.agent(777, seed: 2)))
        #expect(try store.verify(ids: nil).isEmpty)
        var bytes = try #require(FileManager.default.contents(atPath: store.absolutePath(record)))
        bytes[70000] ^= 0x80
        try bytes.write(to: URL(fileURLWithPath: store.absolutePath(record)))
        #expect(throws: TrunkError.self) { _ = try store.wavBytes(record) }
    }
}

final class AlarmLog: @unchecked Sendable {
    private let lock = NSLock()
    private var alarms: [RecordingAlarm] = []
    func add(_ alarm: RecordingAlarm) { lock.withLock { alarms.append(alarm) } }
    var all: [RecordingAlarm] { lock.withLock { alarms } }
}

final class DiskSwitch: @unchecked Sendable {
    private let lock = NSLock()
    private var full = false
    private var audioFiles = Set<Int32>()
    func addAudioFile(_ fd: Int32) { lock.withLock { _ = audioFiles.insert(fd) } }
    func removeAudioFile(_ fd: Int32) { lock.withLock { _ = audioFiles.remove(fd) } }
    func isAudioFile(_ fd: Int32) -> Bool { lock.withLock { audioFiles.contains(fd) } }
    var isFull: Bool {
        get { lock.withLock { full } }
        set { lock.withLock { full = newValue } }
    }
}
