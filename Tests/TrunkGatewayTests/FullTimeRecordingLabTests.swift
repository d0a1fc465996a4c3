import Foundation
import Logging
import Testing
@testable import TrunkGateway
import TrunkHardware
import TrunkRecording

/// Full-time recording on the lab, in process with the simulator ticked by hand: which calls
/// it covers, from when to when, and how the built-in flow's and CTI's requests meet it.
@Suite("Full-time recording on the lab")
struct FullTimeRecordingLabTests {
    struct Lab {
        let simulator: LineSimulator
        let calls: CallService
        let media: CallMediaEngine
        let recorder: Recorder
        let folder: String
    }

    static func lab(_ adjust: (inout RecordingConfiguration) -> Void = { _ in }) throws -> Lab {
        let folder = NSTemporaryDirectory() + "fulltime-\(UUID().uuidString)"
        var configuration = RecordingConfiguration(root: folder + "/recordings")
        configuration.storageAlarmFreePercent = nil
        configuration.storageReserveBytes = 0
        adjust(&configuration)
        let recorder = Recorder(store: try RecordingStore(configuration: configuration))
        let simulator = try LineSimulator()
        let pri = try PRILab(simulator: simulator, logger: Logger(label: "test"))
        let media = CallMediaEngine.lab(simulator: simulator, recorder: recorder)
        let calls = try CallService(pri: pri, store: nil, media: media, logger: Logger(label: "test"))
        simulator.tick(count: 200)
        return Lab(simulator: simulator, calls: calls, media: media, recorder: recorder, folder: folder)
    }

    static func finished(_ lab: Lab, _ id: String) throws -> RecordingRecord {
        #expect(lab.recorder.waitUntilFinished(id))
        return try #require(try lab.recorder.store.index.record(id))
    }

    static func frames(_ lab: Lab, _ record: RecordingRecord) throws -> Int {
        try RecordingAudio(wav: try lab.recorder.store.wavBytes(record)).frames
    }

    @Test("the embedded default (mode full-time, no lists) records a flow call once, from the answer to the hangup, with its metadata")
    func flowCallRecordedWhole() throws {
        let lab = try Self.lab()
        defer { lab.recorder.shutdown(); try? FileManager.default.removeItem(atPath: lab.folder) }
        #expect(lab.media.fullTime?.coversEveryCall == true)
        try lab.calls.carriers[1]!.place(called: "95500", calling: "13800138000", dtmf: "1234", holdMs: 9_000)
        lab.simulator.tick(count: 12_000)
        let call = try #require(lab.calls.manager.recentlyEnded.first)
        // The flow's 5 s record step joined the full-time recording: one file for the call.
        #expect(call.recordings.count == 1)
        let record = try Self.finished(lab, try #require(call.recordings.first))
        #expect(record.callId == call.callID && record.span == 2 && record.channel == call.address.channel)
        #expect(record.direction == "inbound" && record.caller == "13800138000" && record.callee == "95500")
        #expect(record.hangupCause == 16 && record.answeredAt != nil && record.state == "finalized")
        let answered = try #require(call.time(of: .answered)), hungUp = try #require(call.time(of: .hangup))
        // Ticks are lab milliseconds: the file holds the call from the answer to the hangup.
        let seconds = Double(try Self.frames(lab, record)) / 8000
        #expect(abs(seconds - (hungUp - answered) / 1000) < 0.1, "\(seconds) s for a call up \((hungUp - answered) / 1000) s")
        // Prompt, digits, beep, the 5 s record step and the digits played back: all of it, in one file.
        #expect(seconds > 7)
    }

    @Test("an outbound call is recorded from the far end's answer, with direction outbound")
    func outboundFromAnswer() throws {
        let lab = try Self.lab()
        defer { lab.recorder.shutdown(); try? FileManager.default.removeItem(atPath: lab.folder) }
        let placed = try lab.calls.manager.originate(span: 2, number: "13900000001", callerID: "95500")
        // The lab's called party rings 1 s, then answers; nothing is recorded while it rings.
        lab.simulator.tick(count: 500)
        #expect(lab.media.recording(of: placed.callID) == nil)
        lab.simulator.tick(count: 3_000)
        #expect(lab.media.recording(of: placed.callID)?.fullTime == true)
        try lab.calls.manager.hangup(placed.callID)
        lab.simulator.tick(count: 500)
        let call = try #require(lab.calls.manager.recentlyEnded.first)
        let record = try Self.finished(lab, try #require(call.recordings.first))
        #expect(record.direction == "outbound" && record.caller == "95500" && record.callee == "13900000001")
        let answered = try #require(call.time(of: .answered)), hungUp = try #require(call.time(of: .hangup))
        #expect(answered > 900)
        #expect(abs(Double(try Self.frames(lab, record)) / 8000 - (hungUp - answered) / 1000) < 0.1)
    }

    @Test("a full store refuses the recording: the call goes on unrecorded and is counted")
    func fullStoreCountsUnrecordedCalls() throws {
        let lab = try Self.lab { $0.storageReserveBytes = Int64.max }
        defer { lab.recorder.shutdown(); try? FileManager.default.removeItem(atPath: lab.folder) }
        try lab.calls.carriers[1]!.place(called: "95500", calling: "13800138003", dtmf: "1234", holdMs: 3_000)
        lab.simulator.tick(count: 5_000)
        let call = try #require(lab.calls.manager.recentlyEnded.first)
        #expect(call.recordings.isEmpty && call.digits == "1234")
        #expect(lab.media.unrecordedCalls == 1)
        #expect(lab.recorder.health.storageFull != nil)
    }

    @Test("full_time_spans = [4] leaves span 2 to the flow's own 5 s recording; mode on-demand does the same")
    func notCovered() throws {
        for adjust: (inout RecordingConfiguration) -> Void in [{ $0.fullTimeSpans = [4] }, { $0.mode = .onDemand }] {
            let lab = try Self.lab(adjust)
            defer { lab.recorder.shutdown(); try? FileManager.default.removeItem(atPath: lab.folder) }
            try lab.calls.carriers[1]!.place(called: "95500", calling: "13800138001", dtmf: "1234")
            lab.simulator.tick(count: 14_000)
            let call = try #require(lab.calls.manager.recentlyEnded.first)
            #expect(call.recordings.count == 1)
            let record = try Self.finished(lab, try #require(call.recordings.first))
            #expect(abs(Double(try Self.frames(lab, record)) / 8000 - 5) < 0.1)
        }
    }

    @Test("a trunk group or a channel number puts a call under full-time recording; others are not")
    func groupsAndChannels() throws {
        let policy = FullTimeRecordingPolicy(spans: [], channels: [33], trunkGroups: ["vip"])
        let vip = TrunkGroup(name: "vip", members: [ChannelAddress(span: 2, channel: 5)])
        #expect(policy.covers(ChannelAddress(span: 2, channel: 5), channelNumber: 36, groups: [vip]))
        #expect(policy.covers(ChannelAddress(span: 2, channel: 2), channelNumber: 33, groups: [vip]))
        #expect(!policy.covers(ChannelAddress(span: 2, channel: 3), channelNumber: 34, groups: [vip]))
        #expect(FullTimeRecordingPolicy(spans: [2]).covers(ChannelAddress(span: 2, channel: 3), channelNumber: nil, groups: []))
        var configuration = RecordingConfiguration(root: "/x")
        configuration.mode = .onDemand
        #expect(FullTimeRecordingPolicy(configuration) == nil)
    }

    @Test("CTI on a full-time call: record start joins it (same id, requested id kept as a tag), stop ends only the request, pause keeps audio out of the file")
    func ctiJoinsFullTime() throws {
        let lab = try Self.lab()
        defer { lab.recorder.shutdown(); try? FileManager.default.removeItem(atPath: lab.folder) }
        // Claimed by a CTI client, the call is answered by hand as the client would.
        let manager = lab.calls.manager
        manager.claim(CallClaim(owner: "test", spans: [2]))
        try lab.calls.carriers[1]!.place(called: "95500", calling: "13800138002")
        lab.simulator.tick(count: 300)
        let offered = try #require(manager.live.first)
        try manager.answer(offered.callID)
        lab.simulator.tick(count: 1_000)
        let (fullID, isFullTime) = try #require(lab.media.recording(of: offered.callID))
        #expect(isFullTime)
        let joined = try lab.media.startRecording(callID: offered.callID, maxMs: 60_000, recordingID: "cti-own-id")
        #expect(joined == fullID)
        lab.simulator.tick(count: 1_000)
        try lab.media.pauseRecording(callID: offered.callID, paused: true)
        lab.simulator.tick(count: 2_000)
        try lab.media.pauseRecording(callID: offered.callID, paused: false)
        lab.media.stopRecording(callID: offered.callID)
        lab.simulator.tick(count: 1_000)
        // The request ended; the full-time recording goes on until the hangup.
        #expect(lab.media.recording(of: offered.callID)?.id == fullID)
        try manager.hangup(offered.callID)
        lab.simulator.tick(count: 500)
        let call = try #require(manager.recentlyEnded.first)
        #expect(call.recordings == [fullID])
        let record = try Self.finished(lab, fullID)
        #expect(record.tags.contains("requested_id=cti-own-id"))
        #expect(record.pauses.contains("\"to\":") && !record.pauses.contains("null"))
        // Up about 5 s, paused 2 s of it: about 3 s of audio.
        let seconds = Double(try Self.frames(lab, record)) / 8000
        #expect(seconds > 2.5 && seconds < 3.6, "\(seconds) s")
    }

    /// Power of the recording's two sides over `from..<to` seconds (mean square).
    static func power(_ samples: [Int16], from: Double, to: Double) -> Double {
        let slice = samples[min(samples.count, Int(from * 8000))..<min(samples.count, Int(to * 8000))]
        return slice.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, slice.count))
    }

    @Test("tap = pre-ec records the analog line's echo of the record beep on the trunk side; post-ec (the default) records it cancelled")
    func tapPoint() throws {
        var ratios: [RecordingConfiguration.TapPoint: Double] = [:]
        for point in [RecordingConfiguration.TapPoint.preEC, .postEC] {
            let folder = NSTemporaryDirectory() + "fulltime-ec-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            var configuration = RecordingConfiguration(root: folder)
            configuration.storageAlarmFreePercent = nil
            configuration.storageReserveBytes = 0
            configuration.tap = point
            let recorder = Recorder(store: try RecordingStore(configuration: configuration))
            defer { recorder.shutdown() }
            let simulator = try LineSimulator()
            let pri = try PRILab(simulator: simulator, logger: Logger(label: "test"))
            let media = CallMediaEngine.lab(simulator: simulator, recorder: recorder)
            let calls = try CallService(pri: pri, store: nil, media: media, analog: AnalogLabSetup(simulator: simulator), logger: Logger(label: "test"))
            // The gateway's FXO lines hear their own signal back through the line's hybrid, 6 dB down.
            var impairments = Impairments()
            impairments.echoModel = 1
            impairments.echoReturnLossDB = 6
            try simulator.setImpairments(impairments, span: 4)
            simulator.tick(count: 200)
            try calls.exchanges[3]!.place(called: "95500", calling: "13800138000", port: 1, dtmf: "1234", holdMs: 4_000)
            simulator.tick(count: 20_000)
            let call = try #require(calls.manager.recentlyEnded.first)
            #expect(call.trunk == .fxo && call.recordings.count == 1)
            let id = try #require(call.recordings.first)
            #expect(recorder.waitUntilFinished(id))
            let audio = try RecordingAudio(wav: try recorder.store.wavBytes(try #require(try recorder.store.index.record(id))))
            // The record beep after the caller's digits: the agent side plays it, the line echoes it,
            // and by then the canceller has heard the prompt. (The caller is silent by then.)
            let agentSide = audio.channels[1]
            let beep = try #require((8000..<agentSide.count).first { abs(Int(agentSide[$0])) > 1000 }, "the beep")
            let from = Double(beep) / 8000 + 0.05, to = Double(beep) / 8000 + 0.35
            let trunk = Self.power(audio.channels[0], from: from, to: to), agent = Self.power(agentSide, from: from, to: to)
            #expect(agent > 100_000, "the beep is on the agent side")
            ratios[point] = trunk / agent
        }
        let pre = try #require(ratios[.preEC]), post = try #require(ratios[.postEC])
        #expect(pre > 0.05, "pre-EC the trunk side holds the echo: \(pre)")
        #expect(post < pre / 10, "post-EC the echo is at least 10 dB lower: pre \(pre), post \(post)")
    }
}
