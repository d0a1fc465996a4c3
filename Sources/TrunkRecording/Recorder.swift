#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import TrunkCore

/// Something wrong with recording that a person must hear about.
public struct RecordingAlarm: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Free space fell below the configured threshold.
        case storageLow = "storage_low"
        /// Free space fell below the reserve or a write failed with ENOSPC: new recordings refused.
        case storageFull = "storage_full"
        /// The writer fell behind and frames were dropped from a recording.
        case overflow
        /// A write failed for another reason (EIO …); the recording was finalized with what was written.
        case writeError = "write_error"
    }

    public var kind: Kind
    public var recordingId: String?
    public var message: String
    public var description: String { "\(kind.rawValue): \(message)" }
}

/// The recorder's condition as the alarm monitor polls it: the storage states while they last,
/// and counters of incidents that happen and pass (dropped frames, write errors), so a poll
/// that comes late still sees that one happened.
public struct RecorderHealth: Sendable, Equatable {
    /// Set while free space is below the alarm threshold.
    public var storageLow: String?
    /// Set while the store refuses new recordings.
    public var storageFull: String?
    /// Times the store became full since start (a full spell shorter than a poll still counts).
    public var storageFullEpisodes = 0
    /// Frames dropped since start, by every recording (finished ones included).
    public var droppedFrames = 0
    public var lastOverflow: String?
    /// Writes that failed for a reason other than a full disk since start.
    public var writeErrors = 0
    public var lastWriteError: String?

    public init() {}
}

/// What the call model knows when a recording starts.
public struct RecordingRequest: Sendable {
    public var recordingId: String
    public var callId: String
    public var span: Int?
    public var channel: Int?
    public var direction: String
    public var caller: String?
    public var callee: String?
    public var agentId: String?
    public var skill: String?
    public var tags: [String]
    public var startedAt: Date
    public var answeredAt: Date?
    public var retentionClass: RetentionClass?
    public var format: RecordingFormat?

    public init(recordingId: String, callId: String, span: Int? = nil, channel: Int? = nil, direction: String = "inbound",
                caller: String? = nil, callee: String? = nil, agentId: String? = nil, skill: String? = nil, tags: [String] = [],
                startedAt: Date = Date(), answeredAt: Date? = nil, retentionClass: RetentionClass? = nil, format: RecordingFormat? = nil) {
        self.recordingId = recordingId
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
        self.answeredAt = answeredAt
        self.retentionClass = retentionClass
        self.format = format
    }
}

/// What the call model knows when it ends.
public struct RecordingEnd: Sendable {
    public var endedAt: Date
    public var hangupCause: Int?
    public var answeredAt: Date?

    public init(endedAt: Date = Date(), hangupCause: Int? = nil, answeredAt: Date? = nil) {
        self.endedAt = endedAt
        self.hangupCause = hangupCause
        self.answeredAt = answeredAt
    }
}

/// The recording service: start, feed, pause/resume and stop recordings. Audio enters through
/// each recording's `RecordingTap` (lock-free, never blocks the media side); writer threads
/// drain the taps, encode, write, checkpoint every `checkpointSeconds` and finalize. Control
/// calls (start, pause, stop) come from the control plane and may take a lock.
public final class Recorder: Sendable {
    final class Session: @unchecked Sendable {
        // Touched by the writer thread owning this session only, except where noted.
        let tap: RecordingTap
        let writer: CrashSafeWAVWriter
        var record: RecordingRecord
        var lastCheckpoint: UInt64
        var reportedDropped = 0
        // Under the recorder's state lock:
        var end: RecordingEnd?
        var stopNote: String?
        var pauses: [(from: Int64, to: Int64?, atFrame: Int)] = []
        let shard: Int

        init(tap: RecordingTap, writer: CrashSafeWAVWriter, record: RecordingRecord, now: UInt64, shard: Int) {
            self.tap = tap
            self.writer = writer
            self.record = record
            lastCheckpoint = now
            self.shard = shard
        }
    }

    struct State {
        var sessions: [String: Session] = [:]
        var finished: Set<String> = []
        var storageFull = false
        var storageLow = false
        var health = RecorderHealth()
        /// Dropped frames of recordings already finished (active ones are counted from their taps).
        var droppedFinished = 0
        /// Monotonic nanoseconds until which a store a write found full stays full.
        var fullUntil: UInt64 = 0
        var alarms: [RecordingAlarm] = []
        var running = true
        var nextShard = 0
    }

    public let store: RecordingStore
    private let state = Mutex(State())
    private let onAlarm: @Sendable (RecordingAlarm) -> Void
    /// Writer threads still running; shutdown waits for none.
    private let runningWriters = Atomic<Int>(0)
    private let finishedCondition = NSCondition()

    /// `onAlarm` is called from a writer thread (or the caller of `start`) for each new alarm.
    public init(store: RecordingStore, onAlarm: @escaping @Sendable (RecordingAlarm) -> Void = { _ in }) {
        self.store = store
        self.onAlarm = onAlarm
        let count = max(1, store.configuration.writerThreads)
        runningWriters.store(count, ordering: .relaxed)
        for shard in 0..<count {
            let thread = Thread { [self] in
                self.writerLoop(shard: shard, of: count)
                self.runningWriters.subtract(1, ordering: .releasing)
            }
            thread.name = "recording-writer-\(shard)"
            thread.start()
        }
    }

    static func monotonicNanos() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    private func raise(_ alarm: RecordingAlarm) {
        state.withLock { state in
            state.alarms.append(alarm)
            switch alarm.kind {
            case .overflow: state.health.lastOverflow = alarm.message
            case .writeError:
                state.health.writeErrors += 1
                state.health.lastWriteError = alarm.message
            case .storageLow, .storageFull: break
            }
        }
        onAlarm(alarm)
    }

    /// Storage states and incident counters, for the alarm monitor.
    public var health: RecorderHealth {
        state.withLock { state in
            var health = state.health
            health.droppedFrames = state.droppedFinished + state.sessions.values.reduce(0) { $0 + $1.tap.droppedFrames }
            return health
        }
    }

    /// Alarms raised so far (oldest first).
    public var alarms: [RecordingAlarm] { state.withLock { $0.alarms } }
    public var isStorageFull: Bool { state.withLock { $0.storageFull } }
    public var activeRecordings: [String] { state.withLock { Array($0.sessions.keys) } }

    /// Frames the media side handed over that no writer has taken yet, over every recording:
    /// the queue depth supervision watches before it turns into dropped frames.
    public var queuedFrames: Int { state.withLock { $0.sessions.values.reduce(0) { $0 + $1.tap.queuedFrames } } }

    /// Frames dropped so far by the recordings in progress (their rings were full).
    public var droppedFrames: Int { state.withLock { $0.sessions.values.reduce(0) { $0 + $1.tap.droppedFrames } } }

    /// Starts a recording: index row first, then the `.part` file. Refused with `.unavailable`
    /// (and an alarm) when the store is full.
    public func start(_ request: RecordingRequest) throws -> RecordingTap {
        let configuration = store.configuration
        try checkStorage()
        if state.withLock({ $0.storageFull }) {
            throw TrunkError(.unavailable, "recording \(request.recordingId) refused: the recording store \(configuration.root) is full (below the \(configuration.storageReserveBytes)-byte reserve or out of space)")
        }
        let startedMs = RecordingStore.milliseconds(request.startedAt)
        let format = request.format ?? configuration.format
        let folder = RecordingStore.dayFolder(startedMs)
        var record = RecordingRecord(id: request.recordingId, callId: request.callId, span: request.span, channel: request.channel,
                                     direction: request.direction, caller: request.caller, callee: request.callee,
                                     agentId: request.agentId, skill: request.skill, tags: request.tags, startedAt: startedMs,
                                     format: format, path: folder + "/" + request.recordingId + ".wav",
                                     retentionClass: (request.retentionClass ?? configuration.retentionDefault).name)
        record.answeredAt = request.answeredAt.map(RecordingStore.milliseconds)
        guard request.recordingId.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }),
              !request.recordingId.isEmpty, !request.recordingId.hasPrefix(".") else {
            throw TrunkError(.invalidArgument, "recording id \"\(request.recordingId)\" must be letters, digits, '-', '_' or '.'")
        }
        try store.index.insert(record)
        let writer: CrashSafeWAVWriter
        do {
            writer = try CrashSafeWAVWriter(directory: configuration.root + "/" + folder, id: request.recordingId, format: format, io: store.io)
        } catch {
            record.state = "missing"
            record.note = "could not be started: \(error)"
            try? store.index.update(record)
            if error.isDiskFull { enterFull("creating \(record.path): \(error)", byWrite: true) }
            throw error.trunkError
        }
        let tap = RecordingTap(recordingId: request.recordingId, capacityFrames: max(800, Int(configuration.queueSeconds * 8000)))
        state.withLock { state in
            let shard = state.nextShard
            state.nextShard += 1
            state.sessions[request.recordingId] = Session(tap: tap, writer: writer, record: record, now: Self.monotonicNanos(),
                                                          shard: shard)
        }
        return tap
    }

    /// Pause (card numbers, passwords): nothing is written until resume; the interval is kept
    /// in the recording's metadata with the audio position it happened at.
    public func pause(_ id: String, at date: Date = Date()) throws {
        try state.withLock { state throws(TrunkError) in
            guard let session = state.sessions[id], session.end == nil else { throw TrunkError(.notFound, "no active recording \(id)") }
            guard !session.tap.isPaused else { return }
            session.tap.setPaused(true)
            session.pauses.append((RecordingStore.milliseconds(date), nil, session.tap.acceptedFrames))
        }
    }

    public func resume(_ id: String, at date: Date = Date()) throws {
        try state.withLock { state throws(TrunkError) in
            guard let session = state.sessions[id], session.end == nil else { throw TrunkError(.notFound, "no active recording \(id)") }
            guard session.tap.isPaused else { return }
            session.tap.setPaused(false)
            session.pauses[session.pauses.count - 1].to = RecordingStore.milliseconds(date)
        }
    }

    /// Asks the writer to write what is queued and finalize. Returns at once; `waitUntilFinished`
    /// waits for the file.
    public func stop(_ id: String, _ end: RecordingEnd = RecordingEnd()) throws {
        try state.withLock { state throws(TrunkError) in
            guard let session = state.sessions[id], session.end == nil else { throw TrunkError(.notFound, "no active recording \(id)") }
            if session.tap.isPaused {
                session.tap.setPaused(false)
                session.pauses[session.pauses.count - 1].to = RecordingStore.milliseconds(end.endedAt)
            }
            session.end = end
        }
    }

    /// Sets what CTI learns during the call (agent, skill, tags).
    public func annotate(_ id: String, agentId: String? = nil, skill: String? = nil, addTags: [String] = []) throws {
        try state.withLock { state throws(TrunkError) in
            guard let session = state.sessions[id] else { throw TrunkError(.notFound, "no active recording \(id)") }
            if let agentId { session.record.agentId = agentId }
            if let skill { session.record.skill = skill }
            session.record.tags += addTags.filter { !session.record.tags.contains($0) }
        }
    }

    /// Blocks until the recording's file is final (or `timeout` passes). True if finished.
    @discardableResult
    public func waitUntilFinished(_ id: String, timeout: TimeInterval = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        finishedCondition.lock()
        defer { finishedCondition.unlock() }
        while !state.withLock({ $0.finished.contains(id) }) {
            if !finishedCondition.wait(until: deadline) { return state.withLock { $0.finished.contains(id) } }
        }
        return true
    }

    /// Stops every recording, waits for the files and ends the writer threads.
    public func shutdown(timeout: TimeInterval = 60) {
        let ids = state.withLock { state in
            for session in state.sessions.values where session.end == nil { session.end = RecordingEnd() }
            return Array(state.sessions.keys)
        }
        for id in ids { waitUntilFinished(id, timeout: timeout) }
        state.withLock { $0.running = false }
        while runningWriters.load(ordering: .acquiring) > 0 { usleep(1000) }
    }

    // MARK: Storage

    /// Compares free space with the thresholds; raises or clears the alarms.
    public func checkStorage() throws {
        let level = store.storageLevel()
        if case .full = level {} else if state.withLock({ Self.monotonicNanos() < $0.fullUntil }) { return }
        switch level {
        case .full(let free, _):
            enterFull("\(free) bytes free in \(store.root), below the reserve of \(store.configuration.storageReserveBytes)")
        case .low(let free, let total):
            let message = "recording store \(store.root): \(free) of \(total) bytes free, below the alarm threshold"
            let raiseLow = state.withLock { state -> Bool in
                state.storageFull = false
                state.health.storageFull = nil
                state.health.storageLow = message
                defer { state.storageLow = true }
                return !state.storageLow
            }
            if raiseLow {
                raise(RecordingAlarm(kind: .storageLow, recordingId: nil, message: message))
            }
        case .ok:
            state.withLock { state in
                state.storageLow = false
                state.storageFull = false
                state.health.storageLow = nil
                state.health.storageFull = nil
            }
        }
    }

    /// After a write failed with ENOSPC or EDQUOT the store stays full this long even when
    /// statvfs shows room: a quota is invisible to statvfs, and retrying at once would accept
    /// and refuse recordings (and raise and clear the alarm) in turn.
    public static let writeFullHoldSeconds: UInt64 = 30

    /// The store is full: refuse new recordings and finalize the active ones with what they have.
    private func enterFull(_ why: String, byWrite: Bool = false) {
        let message = "recording store \(store.root) is full (\(why)): new recordings are refused, active ones finalized"
        let first = state.withLock { state -> Bool in
            if byWrite { state.fullUntil = Self.monotonicNanos() + Self.writeFullHoldSeconds * 1_000_000_000 }
            if !state.storageFull { state.health.storageFullEpisodes += 1 }
            state.health.storageFull = message
            for session in state.sessions.values where session.end == nil {
                session.end = RecordingEnd()
                session.stopNote = "stopped early: the recording store is full"
            }
            defer { state.storageFull = true }
            return !state.storageFull
        }
        if first {
            raise(RecordingAlarm(kind: .storageFull, recordingId: nil, message: message))
        }
    }

    // MARK: Writer threads

    private func writerLoop(shard: Int, of count: Int) {
        let checkpointNanos = UInt64(min(5, max(0.1, store.configuration.checkpointSeconds)) * 1e9)
        var lastStorageCheck: UInt64 = 0
        while true {
            let (mine, running) = state.withLock { state in
                (state.sessions.values.filter { $0.shard % count == shard }.map { ($0, $0.end, $0.stopNote) }, state.running)
            }
            if !running && mine.isEmpty { return }
            var busy = false
            let now = Self.monotonicNanos()
            for (session, end, note) in mine {
                do {
                    let frames = try session.tap.drain { try session.writer.append(stereo: $0) }
                    busy = busy || frames > 0
                    let dropped = session.tap.droppedFrames
                    if dropped > session.reportedDropped {
                        if session.reportedDropped == 0 {
                            raise(RecordingAlarm(kind: .overflow, recordingId: session.record.id,
                                                 message: "recording \(session.record.id): the writer fell behind; \(dropped) frames dropped so far"))
                        }
                        session.reportedDropped = dropped
                    }
                    if let end {
                        finish(session, end: end, note: note, error: nil)
                    } else if now &- session.lastCheckpoint >= checkpointNanos {
                        try session.writer.checkpoint()
                        session.lastCheckpoint = now
                    }
                } catch let error as RecordingIOError {
                    finish(session, end: end ?? RecordingEnd(), note: nil, error: error)
                } catch {
                    finish(session, end: end ?? RecordingEnd(), note: nil, error: RecordingIOError(operation: "write", path: session.writer.partPath, errno: EIO))
                }
            }
            if shard == 0 && now &- lastStorageCheck >= 1_000_000_000 {
                lastStorageCheck = now
                try? checkStorage()
            }
            if !busy { usleep(5000) }
        }
    }

    private func finish(_ session: Session, end: RecordingEnd, note: String?, error firstError: RecordingIOError?) {
        var record = state.withLock { _ in session.record }
        var notes: [String] = note.map { [$0] } ?? []
        var error = firstError
        if error == nil {
            do { try session.writer.finish() } catch let failure { error = failure }
        }
        if let failure = error {
            if failure.isDiskFull {
                enterFull("\(failure)", byWrite: true)
                notes.append("cut short: the disk filled up (\(failure))")
            } else {
                raise(RecordingAlarm(kind: .writeError, recordingId: record.id, message: "recording \(record.id): \(failure); finalized with the audio written before it"))
                notes.append("cut short by a write error: \(failure)")
            }
            if !session.writer.isClosed {
                do { try session.writer.finishAfterError() } catch {
                    // The .part stays; start-up repair finalizes it from its real length.
                    session.writer.abandon()
                    notes.append("left as .part for repair: \(error)")
                }
            }
        }
        let pauses = state.withLock { _ in session.pauses }
        record.endedAt = RecordingStore.milliseconds(end.endedAt)
        record.durationMs = record.endedAt! - record.startedAt
        record.hangupCause = end.hangupCause
        if let answered = end.answeredAt { record.answeredAt = RecordingStore.milliseconds(answered) }
        record.droppedFrames = Int64(session.tap.droppedFrames)
        if record.droppedFrames > 0 { notes.append("\(record.droppedFrames) frames dropped: the writer fell behind") }
        var pauseList: [String] = []
        for pause in pauses {
            let to: String = pause.to.map { String($0) } ?? "null"
            pauseList.append("{\"from\":\(pause.from),\"to\":\(to),\"atFrame\":\(pause.atFrame)}")
        }
        record.pauses = "[" + pauseList.joined(separator: ",") + "]"
        record.note = notes.isEmpty ? nil : notes.joined(separator: "; ")
        if session.writer.isClosed && access(session.writer.finalPath, F_OK) == 0 {
            do { try store.seal(&record, event: .finalized, detail: record.note) } catch {
                raise(RecordingAlarm(kind: .writeError, recordingId: record.id, message: "recording \(record.id): index or manifest update failed: \(error)"))
            }
        } else {
            try? store.index.update(record)
        }
        state.withLock { state in
            state.sessions[record.id] = nil
            state.finished.insert(record.id)
            state.droppedFinished += session.tap.droppedFrames
        }
        finishedCondition.lock()
        finishedCondition.broadcast()
        finishedCondition.unlock()
    }
}
