import Foundation
import Testing
import TrunkCore

/// Voice-activated recording of an ALSA line tap, end to end: trunkd reads a sound card through
/// the real libasound (the test-only software card of Tests/Fixtures/alsa_test_card.c, declared
/// in the daemon's ~/.asoundrc the way a technician declares a card), and every stretch of talk
/// becomes a recording in the store that trunkrec finds, sox plays and verify accepts.
@Suite("Line tap recordings (VOX) on a running trunkd", .serialized)
struct LineTapRecordingCommandLineTests {
    /// Speech-like: a 300 Hz carrier, amplitude-modulated at 4 Hz, at about −20 dBFS.
    static func talk(_ samples: Int) -> [Int16] {
        (0..<samples).map { n in
            let t = Double(n) / 8000
            return Int16(5200 * (0.6 + 0.4 * sin(2 * .pi * 4 * t)) * sin(2 * .pi * 300 * t))
        }
    }

    /// Line noise at about −70 dBFS, well under the stop level.
    static func hiss(_ samples: Int, seed: UInt64) -> [Int16] {
        var state = seed
        return (0..<samples).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int16(Int(state >> 60) - 8)
        }
    }

    @Test("each stretch of talk on the tapped line is one mono recording: found by trunkrec, decoded by sox, the line's audio exactly")
    func voxRecordingsReachTheStore() throws {
        let home = temporaryDataFolder()
        let data = temporaryDataFolder()
        defer {
            try? FileManager.default.removeItem(atPath: home)
            try? FileManager.default.removeItem(atPath: data)
        }
        let card = home + "/trunkline-test-card.so"
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/alsa_test_card.c").path
        let cc = try run("/usr/bin/cc", ["-shared", "-fPIC", "-DPIC", "-O2", "-o", card, source, "-lasound"], absolute: true)
        try #require(cc.status == 0, "the test card plugin did not build: \(cc.stderr)")

        // Two conversations on the line, 2.5 s of quiet between them (the hang time is 0.5 s).
        let first = (start: 4_000, length: 9_600), second = (start: 33_600, length: 6_400)
        var line = Self.hiss(60_000, seed: 7)
        line.replaceSubrange(first.start..<(first.start + first.length), with: Self.talk(first.length))
        line.replaceSubrange(second.start..<(second.start + second.length), with: Self.talk(second.length))
        let input = home + "/line.raw"
        try Data(line.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }).write(to: URL(fileURLWithPath: input))
        try """
            pcm_type.trunkline_test_card { lib "\(card)" }
            pcm.linetap { type trunkline_test_card infile "\(input)" }
            """.write(toFile: home + "/.asoundrc", atomically: true, encoding: .utf8)
        let config = data + "/trunkline.toml"
        try """
            [[port]]
            name = "desk7"
            backend = "alsa"
            device = "linetap"
            vox_hang_ms = 500

            [recording]
            root = "\(data)/recordings"
            storage_alarm_free_percent = 0
            storage_reserve_bytes = 0
            """.write(toFile: config, atomically: true, encoding: .utf8)

        let started = Date()
        let daemon = try Daemon("trunkd", ["--data", data, "--config", config], environment: ["HOME": home])
        try waitUntilAnswering(["--data", data])
        // The card plays the line in real time (7.5 s); both recordings are closed 0.5 s after their talk.
        let closed = try waitForStatus(["--data", data], timeout: 20) { status in
            let backends = status["backends"] as? [[String: Any]] ?? []
            return backends.contains { ($0["detail"] as? String)?.contains("idle, 2 recordings") == true }
        }
        let (_, log) = daemon.stop()
        try #require(closed, "trunkd did not report two closed recordings: \(log)")
        #expect(log.contains("voice-activated recording closed"))

        let search = try run("trunkrec", ["search", "--data", data, "--json", "--direction", "tap"])
        #expect(search.status == 0, "\(search.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [[String: Any]], "\(search.stdout)")
        try #require(rows.count == 2, "\(rows)")
        let byStart = rows.sorted { ($0["startedAt"] as? Int ?? 0) < ($1["startedAt"] as? Int ?? 0) }
        let tagged = try run("trunkrec", ["search", "--data", data, "--json", "--tag", "port=desk7"])
        #expect((try? JSONSerialization.jsonObject(with: Data(tagged.stdout.utf8)) as? [[String: Any]])?.count == 2, "\(tagged.stdout)")

        for (row, talk) in zip(byStart, [first, second]) {
            let id = row["id"] as? String ?? "?"
            #expect(row["direction"] as? String == "tap")
            #expect((row["tags"] as? [String])?.contains("vox") == true, "\(row)")
            #expect(row["format"] as? String == "alaw/mono", "\(row)")
            let path = data + "/recordings/" + (row["path"] as? String ?? "")
            let info = try run("/usr/bin/sox", ["--i", path], absolute: true)
            #expect(info.status == 0 && info.stdout.contains("Channels       : 1") && info.stdout.contains("A-law"), "\(id): \(info.stdout) \(info.stderr)")
            let raw = data + "/decoded.raw"
            let decoded = try run("/usr/bin/sox", [path, "-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-r", "8000", raw], absolute: true)
            #expect(decoded.status == 0, "\(decoded.stderr)")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: raw))
            let audio: [Int16] = bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Int16] in
                (0..<(raw.count / 2)).map { (n: Int) -> Int16 in Int16(littleEndian: raw.loadUnaligned(fromByteOffset: n * 2, as: Int16.self)) }
            }
            // Where in the line the recording starts: the talk's onset, less the 200 ms pre-roll
            // and within the attack time; found by matching the line's A-law samples.
            let companded: [Int16] = line.map { G711.alawToLinear(G711.linearToAlaw($0)) }
            let head = Array(audio.prefix(400))
            let offset = (talk.start - 2_400...talk.start).first { (start: Int) -> Bool in
                start + 400 <= companded.count && Array(companded[start..<(start + 400)]) == head
            }
            let start = try #require(offset, "\(id): the recording's first 50 ms are not on the line near the talk at \(talk.start)")
            #expect(talk.start - start >= 1_200 && talk.start - start <= 2_000, "\(id): \(talk.start - start) samples of pre-roll")
            // All of the talk and the hang time, exactly as the line carried it.
            let end = start + audio.count
            #expect(end >= talk.start + talk.length + 4_000 && end <= talk.start + talk.length + 4_000 + 800, "\(id): ends at \(end)")
            #expect(end <= companded.count && audio == Array(companded[start..<end]), "\(id): the audio is the line's")
        }
        // Wall times: both recordings start after trunkd did, 3.7 s apart as on the line (the
        // start is back-dated by the pre-roll and the period read when the gate opened).
        let starts = byStart.compactMap { $0["startedAt"] as? Int }
        #expect(starts.count == 2 && Double(starts[0]) / 1000 >= started.timeIntervalSince1970 - 1, "\(starts)")
        if starts.count == 2 { #expect(abs(Double(starts[1] - starts[0]) / 1000 - 3.7) < 0.5, "\(starts)") }
        let verify = try run("trunkrec", ["verify", "--all", "--data", data])
        #expect(verify.status == 0 && verify.stdout.contains("2 recordings"), "\(verify.stdout) \(verify.stderr)")
    }
}
