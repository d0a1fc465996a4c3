#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TrunkCore
@testable import TrunkRecording

@Suite("Crash safety")
struct CrashRepairTests {
    @Test("kill -9 during 20 recordings: repair yields valid WAVs holding all audio up to ≤ 5 s before the kill")
    func killAndRepair() throws {
        let temp = TemporaryRoot()
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: builtExecutable("trunkrec-crash-writer"))
        writer.arguments = [temp.root, "20"]
        try writer.run()
        let fedPath = temp.folder + "/fed"
        func fed() -> Int { (try? String(contentsOfFile: fedPath, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0 }
        let deadline = Date().addingTimeInterval(60)
        while fed() < 7 * 8000 && Date() < deadline && writer.isRunning { usleep(20_000) }
        kill(writer.processIdentifier, SIGKILL)
        writer.waitUntilExit()
        #expect(writer.terminationReason == .uncaughtSignal)
        let fedAtKill = fed()
        #expect(fedAtKill >= 7 * 8000, "the writer ran long enough")

        let store = try RecordingStore(configuration: temp.configuration())
        let report = try store.repairAll()
        #expect(report.repaired.count == 20 && report.problems.isEmpty && report.missing.isEmpty, "\(report.problems)")
        for n in 0..<20 {
            let record = try #require(try store.index.record("crash-\(n)"))
            #expect(record.state == "repaired")
            let path = store.absolutePath(record)
            #expect(!FileManager.default.fileExists(atPath: path + ".part"))
            let decoded = try #require(try soxDecode(path), "sox refused \(path)")
            #expect(decoded.left.count >= fedAtKill - 5 * 8000, "crash-\(n): \(decoded.left.count) frames recovered of \(fedAtKill)")
            #expect(decoded.left.count <= fedAtKill)
            let left = (0..<decoded.left.count).map { alawRoundTrip(RecordingTestSignal.trunk($0, seed: n)) }
            let right = (0..<decoded.right.count).map { alawRoundTrip(RecordingTestSignal.agent($0, seed: n)) }
            #expect(decoded.left == left && decoded.right == right, "crash-\(n): audio differs from what was fed")
        }
        #expect(try store.manifest.read().entries.filter { $0.event == .repaired }.count == 20)
        #expect(try store.verify(ids: nil).isEmpty)
    }

    @Test("a .part whose header never got past the empty one is repaired from its real length")
    func repairFromLength() throws {
        let temp = TemporaryRoot()
        let io = FileIO()
        let writer = try CrashSafeWAVWriter(directory: temp.root + "/2026/01/02", id: "r", format: .standard, io: io)
        var samples = [Int16](repeating: 0, count: 2 * 4001)
        for i in 0..<4001 { samples[2 * i] = RecordingTestSignal.trunk(i); samples[2 * i + 1] = RecordingTestSignal.agent(i) }
        try samples.withUnsafeBufferPointer { try writer.append(stereo: $0) }
        try writer.flush()
        writer.abandon()
        // Half a frame more, as if the crash came mid-write.
        let handle = try #require(FileHandle(forWritingAtPath: writer.partPath))
        handle.seekToEndOfFile()
        handle.write(Data([0x55]))
        try handle.close()
        let outcome = try PartRepair.repair(partPath: writer.partPath, fallback: .standard, io: io)
        #expect(outcome.headerClaimedBytes == 0 && outcome.dataBytes == 8002)
        let audio = try RecordingAudio(wav: try #require(try io.readFile(outcome.finalPath)))
        #expect(audio.frames == 4001 && audio.channels[0][4000] == alawRoundTrip(RecordingTestSignal.trunk(4000)))
    }
}
