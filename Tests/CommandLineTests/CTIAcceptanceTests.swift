import Foundation
import Testing
import TrunkGateway

/// Issue 7's acceptance, against a real trunkd on the embedded default and through its CTI
/// socket only; the far ends are the lab carrier's subscribers, placed and listened to with
/// trunkctl (`sim call`, `sim listen`).
@Suite("CTI acceptance on a real trunkd", .serialized)
struct CTIAcceptanceTests {
    /// A tone counts as heard above −30 dBm0 (sent at −16) and as not heard below −40.
    static func hears(_ result: SimListenResult, _ channel: Int, _ hz: Int) -> Bool { (result.party(channel)?.level(hz) ?? -120) > -30 }
    static func deaf(_ result: SimListenResult, _ channel: Int, _ hz: Int) -> Bool { (result.party(channel)?.level(hz) ?? 0) < -40 }

    static func describe(_ result: SimListenResult) -> String {
        result.parties.map { party in "\(party.channel): " + party.tones.map { "\($0.hz) Hz \($0.dBm0)" }.joined(separator: ", ") }
            .joined(separator: "; ")
    }

    @Test("claim, answer, play, collect, record, bridge, listen/whisper/barge, attended and blind transfer, hang-up: in order, by the schema, heard where they should be")
    func wholeCallThroughTheSocket() throws {
        let lab = try CTILab()
        defer { lab.stop() }
        let agent = try lab.client(name: "acceptance-agent")
        defer { agent.close() }
        let claim = try agent.call("calls.claim", ["dnis": "955XX", "claim_id": "desk-1"])
        #expect(claim["claim_id"] as? String == "desk-1")
        let subscribed = try agent.call("events.subscribe", ["types": ["*"]])
        let firstSeq = (subscribed["head_seq"] as? Int ?? 0)

        // 1. The caller (carrier B-channel 1) keys 1234# one second after the answer.
        try lab.call("95500", from: "13800138000", channel: 1, dtmf: "1234#")
        let offered = try agent.event("channel.offered", where: { $0["ani"] as? String == "13800138000" })
        let caller = try #require(offered["call_id"] as? String)
        #expect(offered["dnis"] as? String == "95500")
        #expect((offered["claimed_by"] as? String)?.contains("desk-1") == true, "\(offered)")
        try agent.call("channel.answer", ["call_id": caller])
        let answered = try agent.event("channel.answered", where: { $0["call_id"] as? String == caller })

        // Play: three seconds of dial tone (450 Hz), heard on the carrier's side of the call.
        let play = try agent.call("channel.play", ["call_id": caller, "tones": ["dial", "dial", "dial"], "op_id": "play-1"])
        #expect(play["op_id"] as? String == "play-1")
        _ = try agent.event("playback.started", where: { $0["op_id"] as? String == "play-1" })
        let dial = try lab.listen([(1, nil)], hz: [450, 1_000])
        #expect(Self.hears(dial, 1, 450), "the caller hears the dial tone played to it: \(Self.describe(dial))")
        #expect(Self.deaf(dial, 1, 1_000), "\(Self.describe(dial))")
        _ = try agent.event("playback.finished", where: { $0["op_id"] as? String == "play-1" })

        // Collect: the digits keyed during the prompt count (type-ahead); # ends the collection.
        let collect = try agent.call("channel.collect", ["call_id": caller, "max_digits": 8, "term_digits": "#", "first_timeout_ms": 10_000])
        let collectOp = try #require(collect["op_id"] as? String)
        let collected = try agent.event("collect.done", where: { $0["op_id"] as? String == collectOp })
        #expect(collected["digits"] as? String == "1234")
        let digits = agent.events.filter { $0["type"] as? String == "channel.dtmf" && $0["call_id"] as? String == caller }
        #expect(digits.compactMap { $0["digit"] as? String }.joined() == "1234#")

        // Record, then stop.
        let record = try agent.call("channel.record.start", ["call_id": caller, "op_id": "rec-1"])
        let recordingID = try #require(record["recording_id"] as? String)
        _ = try agent.event("recording.started", where: { $0["op_id"] as? String == "rec-1" })
        usleep(800_000)
        try agent.call("channel.record.stop", ["call_id": caller])
        let finished = try agent.event("recording.finished", where: { $0["call_id"] as? String == caller })
        #expect(finished["recording_id"] as? String == recordingID)

        // 2. The agent (B-channel 2) is bridged to the caller: each hears the other, not itself.
        try lab.call("95501", from: "8001", channel: 2)
        let agentCall = try #require(try agent.event("channel.offered", where: { $0["ani"] as? String == "8001" })["call_id"] as? String)
        try agent.call("channel.answer", ["call_id": agentCall])
        _ = try agent.event("channel.answered", where: { $0["call_id"] as? String == agentCall })
        try agent.call("bridge.create", ["bridge_id": "b1", "calls": [caller, agentCall]])
        let created = try agent.event("bridge.created", where: { $0["bridge_id"] as? String == "b1" })
        #expect(Set(created["calls"] as? [String] ?? []) == [caller, agentCall])
        let bridged = try lab.listen([(1, 500), (2, 1_100)], hz: [500, 1_100])
        #expect(Self.hears(bridged, 1, 1_100) && Self.deaf(bridged, 1, 500), "caller: \(Self.describe(bridged))")
        #expect(Self.hears(bridged, 2, 500) && Self.deaf(bridged, 2, 1_100), "agent: \(Self.describe(bridged))")

        // 3. The supervisor (B-channel 3) listens, whispers to the agent, then barges in.
        try lab.call("95502", from: "8009", channel: 3)
        let supervisor = try #require(try agent.event("channel.offered", where: { $0["ani"] as? String == "8009" })["call_id"] as? String)
        try agent.call("channel.answer", ["call_id": supervisor])
        _ = try agent.event("channel.answered", where: { $0["call_id"] as? String == supervisor })
        let parties: [(channel: Int, sendHz: Int?)] = [(1, 500), (2, 1_100), (3, 1_700)]
        let tones = [500, 1_100, 1_700]

        try agent.call("channel.snoop", ["call_id": agentCall, "spy": "both", "whisper": "none", "supervisor_call_id": supervisor, "snoop_id": "listen-1"])
        _ = try agent.event("snoop.started", where: { $0["snoop_id"] as? String == "listen-1" })
        let listening = try lab.listen(parties, hz: tones)
        #expect(Self.hears(listening, 3, 500) && Self.hears(listening, 3, 1_100), "the supervisor hears both: \(Self.describe(listening))")
        #expect(Self.deaf(listening, 1, 1_700) && Self.deaf(listening, 2, 1_700), "nobody hears a listening supervisor: \(Self.describe(listening))")
        #expect(Self.hears(listening, 1, 1_100) && Self.hears(listening, 2, 500), "the call goes on: \(Self.describe(listening))")
        try agent.call("snoop.stop", ["snoop_id": "listen-1"])
        _ = try agent.event("snoop.stopped", where: { $0["snoop_id"] as? String == "listen-1" })

        try agent.call("channel.snoop", ["call_id": agentCall, "spy": "both", "whisper": "in", "supervisor_call_id": supervisor, "snoop_id": "whisper-1"])
        _ = try agent.event("snoop.started", where: { $0["snoop_id"] as? String == "whisper-1" })
        let whisper = try lab.listen(parties, hz: tones)
        #expect(Self.hears(whisper, 2, 1_700), "the agent hears the whisper: \(Self.describe(whisper))")
        #expect(Self.deaf(whisper, 1, 1_700), "the caller does not: \(Self.describe(whisper))")
        #expect(Self.hears(whisper, 3, 500) && Self.hears(whisper, 3, 1_100), "\(Self.describe(whisper))")
        try agent.call("snoop.stop", ["snoop_id": "whisper-1"])
        _ = try agent.event("snoop.stopped", where: { $0["snoop_id"] as? String == "whisper-1" })

        try agent.call("channel.snoop", ["call_id": agentCall, "spy": "both", "whisper": "both", "supervisor_call_id": supervisor, "snoop_id": "barge-1"])
        _ = try agent.event("snoop.started", where: { $0["snoop_id"] as? String == "barge-1" })
        let barge = try lab.listen(parties, hz: tones)
        #expect(Self.hears(barge, 1, 1_700) && Self.hears(barge, 2, 1_700), "both hear a barging supervisor: \(Self.describe(barge))")
        #expect(Self.hears(barge, 1, 1_100) && Self.hears(barge, 2, 500), "\(Self.describe(barge))")
        try agent.call("snoop.stop", ["snoop_id": "barge-1"])
        _ = try agent.event("snoop.stopped", where: { $0["snoop_id"] as? String == "barge-1" })
        let afterSnoop = try lab.listen(parties, hz: tones)
        #expect(Self.deaf(afterSnoop, 1, 1_700) && Self.deaf(afterSnoop, 2, 1_700), "a stopped snoop is gone: \(Self.describe(afterSnoop))")
        #expect(Self.deaf(afterSnoop, 3, 500) && Self.deaf(afterSnoop, 3, 1_100), "\(Self.describe(afterSnoop))")

        // 4. Attended transfer: the agent consults B-channel 4, then hands the caller over.
        try lab.call("95503", from: "8002", channel: 4)
        let consult = try #require(try agent.event("channel.offered", where: { $0["ani"] as? String == "8002" })["call_id"] as? String)
        try agent.call("channel.answer", ["call_id": consult])
        _ = try agent.event("channel.answered", where: { $0["call_id"] as? String == consult })
        let attended = try agent.call("channel.transfer", ["call_id": agentCall, "mode": "attended", "consult_call_id": consult, "op_id": "xfer-1"])
        #expect(attended["op_id"] as? String == "xfer-1")
        let transferred = try agent.event("channel.transferred", where: { $0["op_id"] as? String == "xfer-1" })
        #expect(transferred["call_id"] as? String == caller)
        _ = try agent.event("channel.hangup", where: { $0["call_id"] as? String == agentCall })
        let handedOver = try lab.listen([(1, 500), (4, 1_300)], hz: [500, 1_300])
        #expect(Self.hears(handedOver, 1, 1_300) && Self.hears(handedOver, 4, 500), "caller and consulted party: \(Self.describe(handedOver))")

        // 5. Blind transfer of the consulted party's call to a number: the gateway calls out,
        // the lab's called party answers after a ring, and the caller is bridged to it.
        let blind = try agent.call("channel.transfer", ["call_id": consult, "mode": "blind", "number": "13900000001", "op_id": "xfer-2"])
        #expect(blind["op_id"] as? String == "xfer-2")
        let blindDone = try agent.event("channel.transferred", timeout: 20, where: { $0["op_id"] as? String == "xfer-2" })
        let target = try #require(blindDone["to_call_id"] as? String)
        _ = try agent.event("channel.hangup", where: { $0["call_id"] as? String == consult })
        let targetAnswer = try agent.event("channel.answered", where: { $0["call_id"] as? String == target })
        let targetChannel = try #require(targetAnswer["channel"] as? Int) - 31  // span 2's channels 32–62 face span 1's 1–31
        let blindHeard = try lab.listen([(1, 500), (targetChannel, 1_900)], hz: [500, 1_900])
        #expect(Self.hears(blindHeard, 1, 1_900) && Self.hears(blindHeard, targetChannel, 500), "caller and transfer target: \(Self.describe(blindHeard))")

        for (step, result) in [("play", dial), ("bridge", bridged), ("listen", listening), ("whisper", whisper), ("barge", barge),
                               ("snoop stopped", afterSnoop), ("attended", handedOver), ("blind", blindHeard)] {
            print("far ends heard, \(step): \(Self.describe(result))")
        }

        // 6. Hang up everything through the socket.
        for call in [caller, target, supervisor] {
            try agent.call("channel.hangup", ["call_id": call, "cause": 16])
            let hangup = try agent.event("channel.hangup", where: { $0["call_id"] as? String == call })
            #expect(hangup["cause"] as? Int == 16)
        }

        // Every event in order: seq strictly increasing with no gap (this client sees everything).
        let events = agent.events
        let seqs = events.compactMap { $0["seq"] as? Int }
        #expect(seqs.count == events.count)
        #expect(seqs.first == firstSeq + 1, "the first event after subscribing is head_seq + 1")
        #expect(seqs == Array(seqs.indices.map { seqs[0] + $0 }), "seq must increase by one per event: \(agent.eventSummary)")
        let monotonic = events.compactMap { $0["mono_ns"] as? Int }
        #expect(monotonic == monotonic.sorted())
        // The story in order.
        func seq(_ type: String, _ key: String, _ value: String) -> Int {
            events.first { $0["type"] as? String == type && $0[key] as? String == value }?["seq"] as? Int ?? -1
        }
        let story = [
            seq("channel.offered", "call_id", caller), seq("channel.answered", "call_id", caller), seq("playback.started", "op_id", "play-1"),
            seq("playback.finished", "op_id", "play-1"), seq("collect.done", "op_id", collectOp), seq("recording.started", "op_id", "rec-1"),
            seq("recording.finished", "call_id", caller), seq("bridge.created", "bridge_id", "b1"), seq("snoop.started", "snoop_id", "listen-1"),
            seq("snoop.started", "snoop_id", "whisper-1"), seq("snoop.started", "snoop_id", "barge-1"), seq("channel.transferred", "op_id", "xfer-1"),
            seq("channel.transferred", "op_id", "xfer-2"), seq("channel.hangup", "call_id", caller),
        ]
        #expect(!story.contains(-1) && story == story.sorted(), "events out of order or missing: \(story)")
        #expect(answered["seq"] as? Int ?? 0 > offered["seq"] as? Int ?? 0)

        // Every message both ways is what docs/cti-schema.json says.
        CTISchema.expectValid(agent.receivedLines, kind: "server")
        CTISchema.expectValid(agent.sentLines, kind: "client")
    }

    @Test("sim listen refuses a channel with no call (an idle line is not measured as silence)")
    func listenNeedsACall() throws {
        let lab = try CTILab()
        defer { lab.stop() }
        let result = try run("trunkctl", ["--data", lab.data, "sim", "listen", "7:500", "--hz", "500"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("span 1 channel 7"), "\(result.stderr)")
        let malformed = try run("trunkctl", ["--data", lab.data, "sim", "listen", "seven"])
        #expect(malformed.status != 0 && malformed.stderr.contains("CHANNEL or CHANNEL:HZ"), "\(malformed.stderr)")
    }
}
