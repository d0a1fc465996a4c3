import Foundation
import Testing
import TrunkCore
import TrunkRecording

/// trunkrec run as a person would, on recordings made by the real Recorder.
@Suite("trunkrec command line")
struct TrunkrecCommandLineTests {
    /// A data folder with three recordings (agents 1001, 1002, 1002) and a config naming an agent
    /// user, a QA user and an admin.
    final class Lab {
        let folder: String
        var root: String { folder + "/recordings" }
        var config: String { folder + "/trunkline.toml" }

        init() throws {
            folder = NSTemporaryDirectory() + "/trunkrec-cli-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var configuration = RecordingConfiguration(root: root)
            configuration.storageAlarmFreePercent = nil
            configuration.storageReserveBytes = 0
            let store = try RecordingStore(configuration: configuration)
            let recorder = Recorder(store: store)
            let start = try #require(ISO8601DateFormatter().date(from: "2026-11-30T09:00:00Z"))
            for (n, agent) in ["1001", "1002", "1002"].enumerated() {
                let tap = try recorder.start(RecordingRequest(recordingId: "cli-\(n)", callId: "call-\(n)", span: 2, channel: 33 + n,
                                                              caller: "1380013800\(n)", callee: "95500", agentId: agent,
                                                              skill: n == 2 ? "billing" : "sales", startedAt: start.addingTimeInterval(Double(n) * 60)))
                var trunk = [Int16](repeating: 0, count: 8000), near = [Int16](repeating: 0, count: 8000)
                for i in 0..<8000 { trunk[i] = RecordingTestSignal.trunk(i, seed: n); near[i] = RecordingTestSignal.agent(i, seed: n) }
                trunk.withUnsafeBufferPointer { t in near.withUnsafeBufferPointer { a in _ = tap.append(trunk: t, agent: a) } }
                try recorder.stop("cli-\(n)", RecordingEnd(endedAt: start.addingTimeInterval(Double(n) * 60 + 1), hangupCause: 16))
                recorder.waitUntilFinished("cli-\(n)")
            }
            recorder.shutdown()
            try """
                [recording]
                root = "\(root)"
                storage_alarm_free_percent = 0
                storage_reserve_bytes = 0

                [[user]]
                name = "li"
                role = "agent"
                agent_id = "1001"

                [[user]]
                name = "wang"
                role = "qa"
                groups = ["billing"]

                [[user]]
                name = "boss"
                role = "admin"
                """.write(toFile: config, atomically: true, encoding: .utf8)
        }

        deinit { try? FileManager.default.removeItem(atPath: folder) }

        func trunkrec(_ arguments: [String], as user: String? = nil) throws -> RunResult {
            try run("trunkrec", arguments + ["--data", folder, "--config", config] + (user.map { ["--as", $0] } ?? []))
        }
    }

    @Test("search finds by caller and time; an agent finds only their own; --json and --csv")
    func search() throws {
        let lab = try Lab()
        let byCaller = try lab.trunkrec(["search", "--caller", "13800138001", "--from", "2026-11-30", "--to", "2026-12-01"])
        #expect(byCaller.status == 0 && byCaller.stdout.contains("cli-1") && byCaller.stdout.contains("1 recording"), "\(byCaller.stdout)\(byCaller.stderr)")
        let outside = try lab.trunkrec(["search", "--caller", "13800138001", "--from", "2026-12-01"])
        #expect(outside.stdout.contains("0 recordings"))
        let json = try lab.trunkrec(["search", "--json"], as: "li")
        #expect(json.status == 0)
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.compactMap { $0["id"] as? String } == ["cli-0"], "agent li sees only agent 1001's call")
        let others = try lab.trunkrec(["search", "--agent", "1002"], as: "li")
        #expect(others.stdout.contains("0 recordings"))
        let qa = try lab.trunkrec(["search", "--csv"], as: "wang")
        #expect(qa.stdout.split(separator: "\n").count == 2 && qa.stdout.contains("cli-2,call-2,"))
    }

    @Test("an agent cannot play or export another agent's recording; play and export are audited with the reason")
    func accessAndAudit() throws {
        let lab = try Lab()
        let denied = try lab.trunkrec(["play", "cli-1", "--reason", "curious"], as: "li")
        #expect(denied.status == 1 && denied.stderr.contains("li (agent) may not play recording cli-1"), "\(denied.stderr)")
        let deniedExport = try lab.trunkrec(["export", "cli-2", "--to", lab.folder + "/out", "--reason", "x"], as: "li")
        #expect(deniedExport.status == 1 && deniedExport.stderr.contains("may not export recording cli-2"))
        let noReason = try lab.trunkrec(["play", "cli-0"], as: "li")
        #expect(noReason.status == 1 && noReason.stderr.contains("--reason"))

        let played = try lab.trunkrec(["play", "cli-0", "--side", "agent", "--reason", "complaint 4711"], as: "li")
        #expect(played.status == 0 && played.stdout.hasPrefix("RIFF"), "\(played.stderr)")
        let exported = try lab.trunkrec(["export", "cli-0", "--to", lab.folder + "/out", "--split-sides", "--with-metadata",
                                         "--reason", "dispute 88"], as: "li")
        #expect(exported.status == 0, "\(exported.stderr)")
        for name in ["cli-0-trunk.wav", "cli-0-agent.wav", "cli-0.json"] {
            #expect(FileManager.default.fileExists(atPath: lab.folder + "/out/" + name), "\(name) exported")
        }
        let flac = try lab.trunkrec(["export", "cli-0", "--to", lab.folder + "/flac", "--format", "flac", "--reason", "archive"], as: "li")
        #expect(flac.status == 0 && FileManager.default.fileExists(atPath: lab.folder + "/flac/cli-0.flac"), "\(flac.stderr)")
        let flacInfo = try run("/usr/bin/sox", ["--i", "-c", lab.folder + "/flac/cli-0.flac"], absolute: true)
        #expect(flacInfo.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2", "stereo kept in the FLAC file")
        let audit = try lab.trunkrec(["audit"])
        #expect(audit.status == 0)
        #expect(audit.stdout.contains("li") && audit.stdout.contains("played") && audit.stdout.contains("complaint 4711"), "\(audit.stdout)")
        #expect(audit.stdout.contains("exported") && audit.stdout.contains("dispute 88"))
        #expect(audit.stdout.contains("denied"), "refused attempts are audited too")
        let ownAudit = try lab.trunkrec(["audit"], as: "li")
        #expect(ownAudit.status == 1, "an agent reads only their own audit entries")
        let manifest = try String(contentsOfFile: lab.root + "/manifest.log", encoding: .utf8)
        #expect(manifest.contains("\"event\":\"played\"") && manifest.contains("complaint 4711"))
    }

    @Test("verify passes, then names an altered file with exit 2")
    func verify() throws {
        let lab = try Lab()
        let clean = try lab.trunkrec(["verify", "--all"])
        #expect(clean.status == 0 && clean.stdout.contains("OK: 3 recordings"), "\(clean.stdout + clean.stderr)")
        let path = lab.root + "/2026/11/30/cli-2.wav"
        var bytes = try #require(FileManager.default.contents(atPath: path))
        bytes[500] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        let dirty = try lab.trunkrec(["verify", "--all"])
        #expect(dirty.status == 2 && dirty.stdout.contains("recording cli-2") && dirty.stdout.contains("was altered"), "\(dirty.stdout)")
        let info = try lab.trunkrec(["info", "cli-2"])
        #expect(info.stdout.contains("left=trunk,right=agent") && info.stdout.contains("13800138002"))
    }
}
