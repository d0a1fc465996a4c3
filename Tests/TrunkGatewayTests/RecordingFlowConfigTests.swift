import Testing
@testable import TrunkGateway
import TrunkRecording

/// The `[recording]` full-time keys and the `[flow]` table as trunkd reads them.
@Suite("Full-time recording and flow configuration")
struct RecordingFlowConfigTests {
    @Test("full-time spans, channels and trunk groups and the flow's timings read into the call manager's settings")
    func reads() throws {
        let config = try TrunklineConfig.parse(text: """
            [recording]
            mode = "full-time"
            full_time_spans = [2]
            full_time_channels = [63, 64]
            full_time_trunk_groups = ["pri", "analog"]
            tap = "pre-ec"

            [flow]
            max_digits = 6
            first_digit_timeout_ms = 8000
            record_ms = 600000
            play_back_digits = false
            """, file: "t.toml")
        let recording = try #require(config.recording)
        #expect(recording.fullTimeSpans == [2] && recording.fullTimeChannels == [63, 64] && recording.tap == .preEC)
        #expect(recording.fullTimeTrunkGroups == ["pri", "analog"])
        #expect(FullTimeRecordingPolicy(recording) == FullTimeRecordingPolicy(spans: [2], channels: [63, 64], trunkGroups: ["pri", "analog"]))
        let flow = try #require(try config.callManagerConfiguration().flow)
        #expect(flow.maxDigits == 6 && flow.firstDigitTimeoutMs == 8000 && flow.interDigitTimeoutMs == 3000)
        #expect(flow.recordMs == 600_000 && !flow.playBackDigits)
        // Without [flow], the flow's own defaults.
        #expect(try TrunklineConfig.parse(text: "[alarms]\n", file: "t.toml").callManagerConfiguration().flow == BuiltInFlow.Configuration())
    }

    @Test("bad full-time lists and flow timings are refused with file, line and column", arguments: [
        ("[recording]\nfull_time_channels = [0]\n", "2:23", "full_time_channels lists numbers 1…4096"),
        ("[recording]\nfull_time_trunk_groups = [1]\n", "2:27", "full_time_trunk_groups lists strings"),
        ("[flow]\nrecord_ms = -1\n", "2:13", "record_ms must be 0…3600000, not -1"),
        ("[recording]\nfull_time_trunk_groups = [\"pri\", \"vipp\"]\n", "2:34", "full_time_trunk_groups: there is no trunk group vipp (trunk groups: pri, analog)"),
        ("[[span]]\nspan = 1\nbackend = \"virtual\"\nsignalling = \"pri_net\"\n[[span]]\nspan = 2\nbackend = \"virtual\"\n[recording]\nfull_time_spans = [3]\n",
         "9:20", "full_time_spans: span 3 is not declared (spans: 1, 2)"),
        ("[flow]\nrecord = 5\n", "2:1", "unknown setting record in [flow]"),
    ])
    func refused(_ text: String, _ position: String, _ message: String) {
        do {
            _ = try TrunklineConfig.parse(text: text, file: "t.toml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.errors.contains { "\($0.position)" == position && $0.message.hasPrefix(message) }, "got \(error.errors.map(\.description))")
        }
    }

    @Test("config apply reports a [recording] or [flow] change as needing a restart and keeps it pending")
    func applyNeedsRestart() throws {
        let running = try TrunklineConfig.parse(text: "[flow]\nrecord_ms = 5000\n", file: "t.toml")
        let new = try TrunklineConfig.parse(text: "[flow]\nrecord_ms = 9000\n[recording]\nmode = \"on-demand\"\n", file: "t.toml")
        let merged = LiveConfiguration.merge(running: running, new: new)
        #expect(merged.flow?.recordMs == 5000 && merged.recording == nil)
    }
}
