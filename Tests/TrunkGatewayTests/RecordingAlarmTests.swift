#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
@testable import TrunkGateway
import TrunkRecording

/// The recorder's troubles in the alarm history: a real Recorder on a temporary folder whose
/// free space and write results are set at its syscall seam (`FileCalls`), watched by a real
/// AlarmMonitor on a temporary alarm database.
@Suite("Recorder alarms")
struct RecordingAlarmTests {
    /// What the seam reports: free bytes, whether audio writes fail with EIO, and a delay per write.
    final class Disk: Sendable {
        let free = NIOLockedValueBox<Int64>(10 << 30)
        let failWrites = NIOLockedValueBox(false)
        /// The errno audio writes fail with while `failWrites` is set.
        let failErrno = NIOLockedValueBox<Int32>(EIO)
        let slowWritesMicroseconds = NIOLockedValueBox<UInt32>(0)

        func calls() -> FileCalls {
            var calls = FileCalls.live
            let live = FileCalls.live
            calls.statvfs = { [self] path in
                guard live.statvfs(path) != nil else { return nil }
                return (available: free.withLockedValue { $0 }, total: 100 << 30)
            }
            calls.pwrite = { [self] fd, bytes, offset in
                let delay = slowWritesMicroseconds.withLockedValue { $0 }
                if delay > 0 { usleep(delay) }
                // Only audio goes at offsets past a header: the index and manifest do not use pwrite.
                return failWrites.withLockedValue { $0 } && offset > 0 ? -Int(failErrno.withLockedValue { $0 }) : live.pwrite(fd, bytes, offset)
            }
            return calls
        }
    }

    struct Lab {
        let recorder: Recorder
        let monitor: AlarmMonitor
        let store: AlarmStore
        let heard: NIOLockedValueBox<[AlarmEvent]>
        let disk: Disk
    }

    static func lab(queueSeconds: Double = 4) throws -> Lab {
        let root = NSTemporaryDirectory() + "recorder-alarms-\(UUID().uuidString)"
        var configuration = RecordingConfiguration(root: root)
        configuration.storageAlarmFreePercent = nil
        configuration.storageAlarmFreeBytes = 1 << 30
        configuration.storageReserveBytes = 64 << 20
        configuration.queueSeconds = queueSeconds
        configuration.writerThreads = 1
        let disk = Disk()
        let recorder = Recorder(store: try RecordingStore(configuration: configuration, io: FileIO(disk.calls())))
        let store = try AlarmStore(path: root + "-alarms.sqlite")
        let monitor = try AlarmMonitor(store: store, settings: AlarmSettings(), logger: Logger(label: "test"))
        let heard = NIOLockedValueBox<[AlarmEvent]>([])
        monitor.onEvent { event in heard.withLockedValue { $0.append(event) } }
        return Lab(recorder: recorder, monitor: monitor, store: store, heard: heard, disk: disk)
    }

    /// Waits (the recorder checks the disk once a second) until the recorder's health says so.
    static func waitFor(_ recorder: Recorder, _ condition: (RecorderHealth) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if condition(recorder.health) { return true }
            usleep(20_000)
        }
        return false
    }

    static func observe(_ lab: Lab, at seconds: Double) throws {
        try lab.monitor.observe(AlarmSnapshot(spans: [], dChannelUp: [:], syncSource: 0, recorder: lab.recorder.health),
                                now: 1_000 + seconds, monotonic: seconds)
    }

    static func record(_ lab: Lab, _ kind: String) throws -> AlarmRecord? {
        try lab.store.records().last { $0.kind == kind }
    }

    @Test("free space below the threshold raises storage_low (non-urgent), below the reserve storage_full (urgent, recordings refused); space freed clears both")
    func storageThresholds() throws {
        let lab = try Self.lab()
        defer { lab.recorder.shutdown() }
        try Self.observe(lab, at: 0)
        #expect(try lab.store.records().isEmpty)

        lab.disk.free.withLockedValue { $0 = 512 << 20 }
        #expect(Self.waitFor(lab.recorder) { $0.storageLow != nil })
        try Self.observe(lab, at: 10)
        let low = try #require(try Self.record(lab, "recording.storage_low"))
        #expect(low.severity == .nonUrgent && low.clearedAt == nil && low.raisedAt == 1_010 && low.message.contains("below the alarm threshold"))

        lab.disk.free.withLockedValue { $0 = 1 << 20 }
        #expect(Self.waitFor(lab.recorder) { $0.storageFull != nil })
        try Self.observe(lab, at: 20)
        let full = try #require(try Self.record(lab, "recording.storage_full"))
        #expect(full.severity == .urgent && full.clearedAt == nil && full.message.contains("new recordings are refused"))
        #expect(throws: (any Error).self) { try lab.recorder.start(RecordingRequest(recordingId: "refused", callId: "c1")) }

        lab.disk.free.withLockedValue { $0 = 10 << 30 }
        #expect(Self.waitFor(lab.recorder) { $0.storageFull == nil && $0.storageLow == nil })
        try Self.observe(lab, at: 30)
        #expect(try Self.record(lab, "recording.storage_full")?.clearedAt == 1_030)
        #expect(try Self.record(lab, "recording.storage_low")?.clearedAt == 1_030)
        #expect(lab.monitor.activeAlarms.isEmpty)
        _ = try lab.recorder.start(RecordingRequest(recordingId: "accepted", callId: "c2"))
        // Listeners (the CTI layer) heard each raise and each clear.
        let heard = lab.heard.withLockedValue { $0 }.map { "\($0.change.rawValue) \($0.record.kind)" }
        #expect(heard == ["raised recording.storage_low", "raised recording.storage_full",
                          "cleared recording.storage_full", "cleared recording.storage_low"])
    }

    @Test("a full spell shorter than one monitor pass still leaves a storage_full record, cleared on the next pass")
    func briefFullSpell() throws {
        let lab = try Self.lab()
        defer { lab.recorder.shutdown() }
        lab.disk.free.withLockedValue { $0 = 1 << 20 }
        #expect(Self.waitFor(lab.recorder) { $0.storageFull != nil })
        lab.disk.free.withLockedValue { $0 = 10 << 30 }
        #expect(Self.waitFor(lab.recorder) { $0.storageFull == nil })
        try Self.observe(lab, at: 5)
        try Self.observe(lab, at: 6)
        let full = try #require(try Self.record(lab, "recording.storage_full"))
        #expect(full.raisedAt == 1_005 && full.clearedAt == 1_006 && full.severity == .urgent)
    }

    @Test("a write error (EIO at the seam) raises write_error; a writer that falls behind raises overflow; each clears a minute after the last incident")
    func incidents() throws {
        let lab = try Self.lab(queueSeconds: 0.1)
        defer { lab.recorder.shutdown() }
        let block = [Int16](repeating: 1000, count: 8000)

        lab.disk.failWrites.withLockedValue { $0 = true }
        let failing = try lab.recorder.start(RecordingRequest(recordingId: "eio", callId: "c1"))
        block.withUnsafeBufferPointer { samples in _ = failing.append(trunk: UnsafeBufferPointer(rebasing: samples[0..<800]), agent: UnsafeBufferPointer(rebasing: samples[0..<800])) }
        try lab.recorder.stop("eio")
        #expect(lab.recorder.waitUntilFinished("eio"))
        #expect(lab.recorder.health.writeErrors == 1)
        lab.disk.failWrites.withLockedValue { $0 = false }
        try Self.observe(lab, at: 100)
        let writeError = try #require(try Self.record(lab, "recording.write_error"))
        #expect(writeError.severity == .urgent && writeError.clearedAt == nil && writeError.message.contains("eio"))

        // 800 frames of room (0.1 s); the writer sleeps 300 ms per write: the next blocks are dropped.
        lab.disk.slowWritesMicroseconds.withLockedValue { $0 = 300_000 }
        let slow = try lab.recorder.start(RecordingRequest(recordingId: "slow", callId: "c2"))
        // Once its 16 KiB buffer is full the writer sits in a 300 ms write; the ring overflows.
        block.withUnsafeBufferPointer { samples in
            for _ in 0..<400 where slow.droppedFrames == 0 {
                _ = slow.append(trunk: UnsafeBufferPointer(rebasing: samples[0..<400]), agent: UnsafeBufferPointer(rebasing: samples[0..<400]))
                usleep(1_000)
            }
        }
        #expect(Self.waitFor(lab.recorder) { $0.droppedFrames > 0 })
        try Self.observe(lab, at: 110)
        let overflow = try #require(try Self.record(lab, "recording.overflow"))
        #expect(overflow.severity == .urgent && overflow.clearedAt == nil && overflow.message.contains("frames"))
        lab.disk.slowWritesMicroseconds.withLockedValue { $0 = 0 }
        try lab.recorder.stop("slow")
        #expect(lab.recorder.waitUntilFinished("slow"))

        // Quiet for a minute: both clear.
        try Self.observe(lab, at: 150)
        #expect(try Self.record(lab, "recording.write_error")?.clearedAt == nil)
        try Self.observe(lab, at: 175)
        #expect(try Self.record(lab, "recording.write_error")?.clearedAt == 1_175)
        #expect(try Self.record(lab, "recording.overflow")?.clearedAt == 1_175)
    }

    @Test("a write that fails with EDQUOT (a quota statvfs cannot see) keeps the store full for a while instead of flapping")
    func quotaFullHolds() throws {
        let lab = try Self.lab()
        defer { lab.recorder.shutdown() }
        lab.disk.failErrno.withLockedValue { $0 = EDQUOT }
        lab.disk.failWrites.withLockedValue { $0 = true }
        let tap = try lab.recorder.start(RecordingRequest(recordingId: "quota", callId: "c1"))
        let block = [Int16](repeating: 1000, count: 800)
        block.withUnsafeBufferPointer { samples in _ = tap.append(trunk: samples, agent: samples) }
        try lab.recorder.stop("quota")
        #expect(lab.recorder.waitUntilFinished("quota"))
        lab.disk.failWrites.withLockedValue { $0 = false }
        #expect(lab.recorder.health.storageFull != nil && lab.recorder.health.storageFullEpisodes == 1)
        // statvfs shows plenty of room; the recorder checks it every second, and still refuses.
        usleep(2_500_000)
        #expect(lab.recorder.health.storageFull != nil)
        #expect(throws: (any Error).self) { try lab.recorder.start(RecordingRequest(recordingId: "refused", callId: "c2")) }
        try Self.observe(lab, at: 10)
        try Self.observe(lab, at: 11)
        #expect(try Self.record(lab, "recording.storage_full")?.clearedAt == nil)
        let finished = try #require(try lab.recorder.store.index.record("quota"))
        #expect(finished.state == "finalized" && finished.note?.contains("disk filled up") == true)
    }
}
