import Foundation
import Testing
import TrunkGateway

/// The recording acceptance of issue #8 on a real trunkd: full-time recording of lab calls,
/// found with trunkrec, played by sox, sides checked against what the simulator sent; and a
/// kill -9 during 100 recordings.
///
/// Time: the lab's audio runs on the simulator's tick, which falls behind the wall clock on a
/// loaded machine. Everything about audio length is therefore compared in lab time: the
/// carrier's `placedAtMs`, the call records' event times and `status` ticks are all tick
/// milliseconds, as are the samples in a recording.
@Suite("Recording acceptance", .serialized)
struct RecordingAcceptanceTests {
    static func client(_ data: String) -> ControlClient { ControlClient(path: data + "/control.sock") }

    /// Places a lab call, retrying while the D-channel comes up or every B-channel is busy.
    static func place(_ client: ControlClient, _ params: SimCallParams, within seconds: Double = 120) throws -> LabCarrier.Call {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            do {
                return try client.call(.simCall, params, as: LabCarrier.Call.self)
            } catch {
                if Date() > deadline { throw error }
                usleep(200_000)
            }
        }
    }

    static func trunkrecRows(_ data: String, _ arguments: [String] = []) throws -> [[String: Any]] {
        let result = try run("trunkrec", ["search", "--data", data, "--json", "--limit", "1000"] + arguments)
        #expect(result.status == 0, "trunkrec search \(arguments): \(result.stderr)")
        return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    static func callRecords(_ data: String) throws -> [[String: Any]] {
        let result = try run("trunkctl", ["--data", data, "calls", "--from", "-1h", "--json"])
        return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    static func eventTime(_ call: [String: Any], _ kind: String) -> Double? {
        (call["events"] as? [[String: Any]])?.first { $0["kind"] as? String == kind }?["atMs"] as? Double
    }

    static func utc(_ milliseconds: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    // MARK: A

    @Test("100 lab calls on the embedded default: 100 full-time recordings, each found by caller, callee and time, played by sox, trunk left and agent right")
    func hundredCalls() throws {
        let data = temporaryDataFolder()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let trunkd = try Daemon("trunkd", ["--data", data, "--cti-port", "0"])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        let client = Self.client(data)
        // Each caller keys its own four digits one second after the answer and hangs up 4 s
        // after it; the gateway's flow plays its chime (950, 1400, 1800 Hz) from the answer.
        let plan = (0..<100).map { i in
            (caller: "1390000" + String(format: "%04d", i), callee: "96" + String(format: "%03d", i),
             dtmf: String(format: "%04d", (i * 7919) % 10_000))
        }
        for wave in stride(from: 0, to: plan.count, by: 25) {
            for call in plan[wave..<min(plan.count, wave + 25)] {
                _ = try Self.place(client, SimCallParams(span: 1, called: call.callee, calling: call.caller, channel: nil,
                                                         dtmf: call.dtmf, holdMs: 4_000))
            }
            let deadline = Date().addingTimeInterval(180)
            while try client.call(.calls, NoParams(), as: CallsReport.self).live.count > 0 && Date() < deadline { usleep(200_000) }
        }
        // Every recording is finalized once its call has ended.
        var rows: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(60)
        repeat {
            rows = try Self.trunkrecRows(data)
            if rows.count == 100 && rows.allSatisfy({ $0["state"] as? String == "finalized" }) { break }
            usleep(500_000)
        } while Date() < deadline
        #expect(rows.count == 100)
        #expect(rows.allSatisfy { $0["state"] as? String == "finalized" && $0["channelMap"] as? String == "left=trunk,right=agent" })
        let byID = Dictionary(rows.compactMap { row in (row["id"] as? String).map { ($0, row) } }, uniquingKeysWith: { a, _ in a })
        var calls = try Self.callRecords(data)
        while calls.count < 100 && Date() < deadline {
            usleep(500_000)
            calls = try Self.callRecords(data)
        }
        #expect(calls.count == 100)
        let callsByCaller = Dictionary(calls.compactMap { call in (call["caller"] as? String).map { ($0, call) } }, uniquingKeysWith: { a, _ in a })
        let scratch = data + "/decoded"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)

        for call in plan {
            let record = try #require(callsByCaller[call.caller], "call record of \(call.caller)")
            let recordings = record["recordings"] as? [String] ?? []
            // Full-time recording and the flow's record step make one file, not two.
            #expect(recordings.count == 1, "\(call.caller): \(recordings)")
            let id = try #require(recordings.first)
            let row = try #require(byID[id], "index row of \(id)")
            #expect(row["callId"] as? String == record["callID"] as? String)
            #expect(row["span"] as? Int == 2 && row["direction"] as? String == "inbound" && row["hangupCause"] as? Int == 16)
            #expect(row["caller"] as? String == call.caller && row["callee"] as? String == call.callee)
            #expect(row["answeredAt"] as? Int != nil && row["endedAt"] as? Int != nil)

            // Found by caller, by callee, and by a time range around its start.
            #expect(try Self.trunkrecRows(data, ["--caller", call.caller]).compactMap { $0["id"] as? String } == [id])
            #expect(try Self.trunkrecRows(data, ["--callee", call.callee]).compactMap { $0["id"] as? String } == [id])
            let started = Int64(try #require(row["startedAt"] as? Int))
            let window = try Self.trunkrecRows(data, ["--from", Self.utc(started / 1000 * 1000 - 1000), "--to", Self.utc(started / 1000 * 1000 + 2000)])
            #expect(window.contains { $0["id"] as? String == id }, "\(id) in the time range around \(Self.utc(started))")

            // Played by sox: from the answer to the hangup, in lab time.
            let path = data + "/recordings/" + (row["path"] as? String ?? "")
            let audio = try DecodedRecording.bySox(path, scratch: scratch)
            let answered = try #require(Self.eventTime(record, "answered")), hungUp = try #require(Self.eventTime(record, "hangup"))
            #expect(abs(audio.seconds - (hungUp - answered) / 1000) < 0.5, "\(id): \(audio.seconds) s of audio for a call up \((hungUp - answered) / 1000) s")

            // Left holds the caller's digits and nothing of the gateway's chime; right the chime
            // and none of the caller's digits: not swapped, not mixed.
            #expect(DecodedRecording.dtmf(audio.left) == call.dtmf, "\(id): left side digits")
            #expect(DecodedRecording.dtmf(audio.right) == "", "\(id): right side holds no caller digits")
            for (frequency, from, to) in [(950.0, 0.05, 0.30), (1400.0, 0.38, 0.62), (1800.0, 0.71, 0.95)] {
                let right = DecodedRecording.tonePower(audio.right, frequency: frequency, from: from, to: to)
                let left = DecodedRecording.tonePower(audio.left, frequency: frequency, from: from, to: to)
                #expect(right > 1_000_000 && left < right / 1000, "\(id): \(frequency) Hz chime: right \(right), left \(left)")
            }
        }
        let verify = try run("trunkrec", ["verify", "--all", "--data", data])
        #expect(verify.status == 0 && verify.stdout.contains("100 recordings"), "\(verify.stdout) \(verify.stderr)")
    }

    // MARK: B

    /// Four back-to-back E1 pairs (spans 1/2 … 7/8): 120 B-channels on the gateway's side,
    /// room for 100 calls at once. The flow's record step is ten minutes, so every call stays
    /// up until trunkd is killed.
    static let crashConfig = (1...4).map { pair in
        """
        [[span]]
        span = \(2 * pair - 1)
        backend = "virtual"
        signalling = "pri_net"
        [[span]]
        span = \(2 * pair)
        backend = "virtual"
        timing = \(pair)

        """
    }.joined() + """
        [flow]
        record_ms = 600000
        """

    @Test("kill -9 during 100 recordings: after restart each is a valid WAV holding its audio to within 5 s of the kill; index, manifest and call records consistent")
    func killDuringHundredRecordings() throws {
        let data = temporaryDataFolder()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let config = data + "/trunkline.toml"
        try Self.crashConfig.write(toFile: config, atomically: true, encoding: .utf8)
        let first = try Daemon("trunkd", ["--data", data, "--config", config])
        try waitUntilAnswering(["--data", data])
        let client = Self.client(data)
        // Each caller keys 100 digits of its own (20 s of DTMF from 1 s after the answer): the
        // left side of every file says, to the digit, how much of the call it holds.
        var random = SeededDigits(seed: 88)
        let plan = (0..<100).map { i in
            (caller: "1370000" + String(format: "%04d", i), span: 2 * (i % 4) + 1, dtmf: random.digits(100))
        }
        var placedAt: [String: Int64] = [:]
        var lastPlacedWall = Date()
        for call in plan {
            let placed = try Self.place(client, SimCallParams(span: call.span, called: "95500", calling: call.caller, channel: nil,
                                                              dtmf: call.dtmf, holdMs: nil))
            placedAt[call.caller] = placed.placedAtMs
            lastPlacedWall = Date()
        }
        // All 100 up and recording (their .part files open).
        let recordings = data + "/recordings"
        func partFiles() -> Int {
            (FileManager.default.enumerator(atPath: recordings)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".wav.part") }.count
        }
        var deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let live = try client.call(.calls, NoParams(), as: CallsReport.self).live
            if live.filter({ $0.state == .up }).count == 100 && partFiles() == 100 { break }
            usleep(250_000)
        }
        #expect(partFiles() == 100)
        // At least 10 s of lab time (and of wall time) after the last call was placed.
        let lastPlaced = placedAt.values.max() ?? 0
        deadline = Date().addingTimeInterval(300)
        var ticks: Int64 = 0
        while Date() < deadline {
            ticks = Int64(try client.call(.status, NoParams(), as: StatusReport.self).ticks)
            if ticks >= lastPlaced + 10_000 && Date().timeIntervalSince(lastPlacedWall) >= 10 { break }
            usleep(250_000)
        }
        ticks = Int64(try client.call(.status, NoParams(), as: StatusReport.self).ticks)
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        #expect(ticks >= lastPlaced + 10_000)

        // The restart repairs every .part before it takes calls (100 files synced: allow for a slow disk).
        let second = try Daemon("trunkd", ["--data", data, "--config", config])
        defer { second.stop() }
        try waitUntilAnswering(["--data", data], timeout: 120)
        #expect(partFiles() == 0)
        let rows = try Self.trunkrecRows(data)
        #expect(rows.count == 100 && rows.allSatisfy { $0["state"] as? String == "repaired" })
        let verify = try run("trunkrec", ["verify", "--all", "--data", data])
        #expect(verify.status == 0 && verify.stdout.contains("100 recordings"), "\(verify.stdout) \(verify.stderr)")
        // One `repaired` entry in the manifest per recording.
        let manifest = try String(contentsOfFile: recordings + "/manifest.log", encoding: .utf8).split(separator: "\n")
        let repairedIDs = Set(manifest.filter { $0.contains("\"event\":\"repaired\"") }.flatMap { line in
            rows.compactMap { $0["id"] as? String }.filter { line.contains($0) }
        })
        #expect(repairedIDs.count == 100)
        // The calls that were up are closed in the call records as interrupted by the restart.
        let calls = try Self.callRecords(data)
        #expect(calls.count == 100 && calls.allSatisfy { $0["failure"] as? String == "node_restart" })
        let callerOfCall = Dictionary(calls.compactMap { call in
            (call["callID"] as? String).flatMap { id in (call["caller"] as? String).map { (id, $0) } }
        }, uniquingKeysWith: { a, _ in a })

        let scratch = data + "/decoded"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        var lost: [Double] = []
        defer {
            lost.sort()
            if !lost.isEmpty {
                print("crash test: lab seconds between the end of each repaired recording and the kill: min \(lost[0]), median \(lost[lost.count / 2]), max \(lost[lost.count - 1]) (upper bounds: the answer came after the placing)")
            }
        }
        for row in rows {
            let id = row["id"] as? String ?? "?"
            let caller = try #require((row["callId"] as? String).flatMap { callerOfCall[$0] }, "\(id): its call")
            let call = try #require(plan.first { $0.caller == caller })
            let placed = try #require(placedAt[caller])
            let audio = try DecodedRecording.bySox(recordings + "/" + (row["path"] as? String ?? ""), scratch: scratch)
            // The call was answered after it was placed: it was up at most this long at the kill.
            let upAtKill = Double(ticks - placed) / 1000
            lost.append(upAtKill - audio.seconds)
            #expect(audio.seconds >= upAtKill - 5 && audio.seconds <= upAtKill + 1,
                    "\(id): \(audio.seconds) s of audio, the call was up at most \(upAtKill) s at the kill")
            #expect(abs(Double(row["durationMs"] as? Int ?? 0) / 1000 - audio.seconds) < 0.1)
            // The caller's digits, in order, as far as the file goes; no more than 5 s short.
            let digits = DecodedRecording.dtmf(audio.left)
            let expected = min(100, Int((upAtKill - 5 - 1 - 0.3) / 0.2))
            #expect(call.dtmf.hasPrefix(digits) && digits.count >= expected,
                    "\(id): \(digits.count) digits on the left (\(expected) keyed by 5 s before the kill)")
            let chime = DecodedRecording.tonePower(audio.right, frequency: 1400, from: 0.38, to: 0.62)
            #expect(chime > 1_000_000 && DecodedRecording.tonePower(audio.left, frequency: 1400, from: 0.38, to: 0.62) < chime / 1000)
        }
    }
}

/// Digits from a fixed seed (SplitMix64), so a failing run can be repeated exactly.
struct SeededDigits {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func digits(_ count: Int) -> String {
        String((0..<count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Character(String((z ^ (z >> 31)) % 10))
        })
    }
}
