import Testing
@testable import TrunkCTI

/// Events over real sockets: order and seq, filters, resumption with since_seq, the range that
/// is gone, and the client that stops reading.
@Suite("CTI events")
struct EventDeliveryTests {
    /// Reads events until one with `seq` arrives; returns all events read (responses are skipped).
    static func events(from client: TestClient, through seq: UInt64, timeout: Duration = .seconds(20)) async throws -> [JSONValue] {
        var events: [JSONValue] = []
        while true {
            guard let message = try await client.next(timeout: timeout, waitingFor: "event \(seq)") else { return events }
            guard message["method"] == "event" else { continue }
            events.append(message)
            if let got = message["params"]?["seq"]?.intValue, got >= Int64(seq) { return events }
        }
    }

    static func seqs(_ events: [JSONValue]) -> [Int64] { events.compactMap { $0["params"]?["seq"]?.intValue } }

    static func publish(_ hub: CTIEventHub, count: Int, channel: Int = 33) -> [UInt64] {
        (0..<count).map { i in
            hub.publish(CTIEvent(.channelDTMF, callID: "c1", channel: channel, span: 2, fields: [("digit", .string(String(i % 10))), ("duration_ms", 80)]))
        }
    }

    @Test("a verb's events carry its op_id, arrive in order with increasing seq, and match the schema")
    func callFlowEvents() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try await server.connect()
        try await client.login(TestServer.agentToken)
        #expect(try await client.call("events.subscribe")["result"]?["head_seq"] == 0)
        let claim = try #require(try await client.call("calls.claim", ["dnis": "955XX"])["result"])
        let callID = await server.backend.offer(channel: 35, ani: "13800138000", dnis: "95500")
        await server.backend.press("12#", on: callID)
        var skipped: [JSONValue] = []
        #expect(try await client.call("channel.answer", ["call_id": .string(callID)], skipped: &skipped)["result"] != nil)
        let play = try #require(try await client.call("channel.play", ["call_id": .string(callID), "files": ["welcome"], "op_id": "my-play"], skipped: &skipped)["result"])
        #expect(play["op_id"] == "my-play")
        let collect = try #require(try await client.call("channel.collect", ["call_id": .string(callID), "max_digits": 4], skipped: &skipped)["result"])
        let collectOp = try #require(collect["op_id"]?.stringValue)
        let record = try #require(try await client.call("channel.record.start", ["call_id": .string(callID), "beep": true], skipped: &skipped)["result"])
        #expect(record["recording_id"] != nil)
        #expect(try await client.call("channel.hangup", ["call_id": .string(callID)], skipped: &skipped)["result"] != nil)
        let latest = server.hub.latestSeq
        var events = skipped.filter { $0["method"] == "event" }
        if (Self.seqs(events).last ?? 0) < Int64(latest) { events += try await Self.events(from: client, through: latest) }
        let types = events.compactMap { $0["params"]?["type"]?.stringValue }
        #expect(types == [
            "channel.offered", "channel.answered", "playback.started", "playback.finished", "collect.done", "recording.started",
            "channel.hangup",
        ])
        #expect(Self.seqs(events) == Array(1...Int64(latest)))
        #expect(events[0]["params"]?["claimed_by"] != .null)
        let done = try #require(events.first { $0["params"]?["type"] == "collect.done" })
        #expect(done["params"]?["op_id"] == .string(collectOp))
        #expect(done["params"]?["digits"] == "12#")
        #expect(events.first { $0["params"]?["type"] == "playback.finished" }?["params"]?["op_id"] == "my-play")
        let monotonic = events.compactMap { $0["params"]?["mono_ns"]?.intValue }
        #expect(monotonic == monotonic.sorted())
        _ = claim
        SchemaCheck.expectValid(client.allReceivedLines, kind: "server")
        SchemaCheck.expectValid(client.sent.withLockedValue { $0 }, kind: "client")
        await client.close()
    }

    @Test("server-side filters deliver only the chosen types, channels and calls")
    func filters() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try await server.connect()
        try await client.login(TestServer.agentToken)
        #expect(try await client.call("events.subscribe", ["types": ["channel.hangup", "span.*"], "chans": [40]])["result"] != nil)
        let unknownType = try await client.call("events.subscribe", ["types": ["channel.teleported"]])
        #expect(unknownType.errorCode == -32602)
        let hub = server.hub
        hub.publish(CTIEvent(.channelDTMF, callID: "a", channel: 40, span: 2, fields: [("digit", "1"), ("duration_ms", 80)]))
        hub.publish(CTIEvent(.channelHangup, callID: "b", channel: 41, span: 2, fields: [("cause", 16), ("cause_txt", "Normal Clearing"), ("side", "remote")]))
        let wanted = hub.publish(CTIEvent(.channelHangup, callID: "a", channel: 40, span: 2, fields: [("cause", 16), ("cause_txt", "Normal Clearing"), ("side", "remote")]))
        let events = try await Self.events(from: client, through: wanted)
        #expect(Self.seqs(events) == [Int64(wanted)])
        await client.close()
    }

    @Test("a scoped session never sees events of other spans")
    func scopeFiltersEvents() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try await server.connect()
        try await client.login(TestServer.scopedToken)
        _ = try await client.call("events.subscribe")
        let hub = server.hub
        hub.publish(CTIEvent(.spanAlarm, span: 1, fields: [("alarms", ["red"])]))
        let own = hub.publish(CTIEvent(.spanAlarm, span: 2, fields: [("alarms", ["yellow"])]))
        let events = try await Self.events(from: client, through: own)
        #expect(Self.seqs(events) == [Int64(own)])
        await client.close()
    }

    @Test("node.* and span.* select the node's alarms and the spans' apart; a scoped session gets node alarms; both match the schema")
    func nodeAndSpanAlarmFilters() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let node = try await server.connect()
        try await node.login(TestServer.agentToken)
        #expect(try await node.call("events.subscribe", ["types": ["node.*"]])["result"] != nil)
        let spans = try await server.connect()
        try await spans.login(TestServer.agentToken)
        #expect(try await spans.call("events.subscribe", ["types": ["span.*"]])["result"] != nil)
        let scoped = try await server.connect()
        try await scoped.login(TestServer.scopedToken)
        #expect(try await scoped.call("events.subscribe", ["types": ["node.alarm", "node.cleared", "span.alarm"]])["result"] != nil)
        let hub = server.hub
        let storage: [(String, JSONValue)] = [
            ("kind", "recording.storage_full"), ("severity", "urgent"), ("message", "recording store /tmp/r is full: new recordings are refused"),
        ]
        let full = hub.publish(CTIEvent(.nodeAlarm, fields: storage))
        let red = hub.publish(CTIEvent(.spanAlarm, span: 1, fields: [("kind", "span.RED"), ("severity", "urgent"), ("message", "span 1: red"), ("alarms", ["red"])]))
        let own = hub.publish(CTIEvent(.spanAlarm, span: 2, fields: [("kind", "span.YELLOW"), ("severity", "urgent"), ("message", "span 2: yellow"), ("alarms", ["yellow"])]))
        let room = hub.publish(CTIEvent(.nodeCleared, fields: storage))
        let last = hub.publish(CTIEvent(.spanCleared, span: 1, fields: [("kind", "span.RED"), ("severity", "urgent"), ("message", "span 1: red"), ("alarms", ["red"])]))

        let nodeEvents = try await Self.events(from: node, through: room)
        #expect(Self.seqs(nodeEvents) == [Int64(full), Int64(room)])
        #expect(nodeEvents.map { $0["params"]?["type"] } == ["node.alarm", "node.cleared"])
        #expect(nodeEvents.allSatisfy { $0["params"]?["span"] == nil })
        let spanEvents = try await Self.events(from: spans, through: last)
        #expect(Self.seqs(spanEvents) == [Int64(red), Int64(own), Int64(last)])
        // The scoped token (span 2) sees its own span's alarm and the node's, not span 1's.
        let scopedEvents = try await Self.events(from: scoped, through: room)
        #expect(Self.seqs(scopedEvents) == [Int64(full), Int64(own), Int64(room)])
        for client in [node, spans, scoped] { SchemaCheck.expectValid(client.allReceivedLines, kind: "server") }
        // An alarm of the node that names a span does not validate: the schema keeps the two apart.
        let wrong = #"{"jsonrpc":"2.0","method":"event","params":{"seq":9,"time":"2026-12-01T00:00:00.000000Z","mono_ns":1,"type":"node.alarm","span":1,"kind":"storage.full","severity":"urgent","message":"x"}}"#
        #expect(try SchemaCheck.problems([wrong], kind: "server").count == 1)
        for client in [node, spans, scoped] { await client.close() }
    }

    @Test("reconnecting with since_seq replays exactly the missed events, then live ones")
    func resumeReplaysMissedEvents() async throws {
        let server = try await TestServer.start(ringCapacity: 100)
        defer { Task { await server.stop() } }
        let first = try await server.connect()
        try await first.login(TestServer.agentToken)
        _ = try await first.call("events.subscribe")
        let before = Self.publish(server.hub, count: 10)
        let seen = try await Self.events(from: first, through: before.last!)
        #expect(Self.seqs(seen) == Array(1...10))
        await first.close()

        let missed = Self.publish(server.hub, count: 30)
        let second = try await server.connect()
        try await second.login(TestServer.agentToken)
        let subscribed = try #require(try await second.call("events.subscribe", ["since_seq": 10])["result"])
        #expect(subscribed["gone"] == .null)
        #expect(subscribed["replay_from"] == 11)
        let replayed = try await Self.events(from: second, through: missed.last!)
        #expect(Self.seqs(replayed) == missed.map { Int64($0) })
        let live = Self.publish(server.hub, count: 5)
        let after = try await Self.events(from: second, through: live.last!)
        #expect(Self.seqs(after) == live.map { Int64($0) })
        SchemaCheck.expectValid(second.allReceivedLines, kind: "server")
        await second.close()
    }

    @Test("a replay longer than the client's queue is paced by its socket, not cut off")
    func longReplayIsPacedBySocket() async throws {
        let server = try await TestServer.start(ringCapacity: 20_000) {
            $0.clientQueueEvents = 100
            $0.clientSocketBufferBytes = 8 * 1024
            $0.socketSendBufferBytes = 8 * 1024
        }
        defer { Task { await server.stop() } }
        let published = Self.publish(server.hub, count: 5_000)
        let client = try await server.connect(receiveBuffer: 4096)
        try await client.login(TestServer.agentToken)
        let subscribed = try #require(try await client.call("events.subscribe", ["since_seq": 0])["result"])
        #expect(subscribed["replay_from"] == 1)
        // Live events arrive while it replays; they follow the backlog.
        let live = Self.publish(server.hub, count: 50)
        var seen: [Int64] = []
        while let message = try await client.next(timeout: .seconds(20), waitingFor: "event \(live.last!)") {
            #expect(message["method"] != "events.overflow", "a client that reads its replay must not be cut off: \(message)")
            if message["method"] == "event", let seq = message["params"]?["seq"]?.intValue {
                seen.append(seq)
                if seq == Int64(live.last!) { break }
            }
        }
        #expect(seen == (published + live).map { Int64($0) })
        await client.close()
    }

    @Test("resuming from events older than the ring says exactly which range is gone")
    func resumeReportsTheGoneRange() async throws {
        let server = try await TestServer.start(ringCapacity: 100)
        defer { Task { await server.stop() } }
        let published = Self.publish(server.hub, count: 250)
        let client = try await server.connect()
        try await client.login(TestServer.agentToken)
        let subscribed = try #require(try await client.call("events.subscribe", ["since_seq": 20])["result"])
        #expect(subscribed["gone"]?["from"] == 21)
        #expect(subscribed["gone"]?["to"] == 150)
        #expect(subscribed["replay_from"] == 151)
        let replayed = try await Self.events(from: client, through: published.last!)
        #expect(Self.seqs(replayed) == Array(151...250))
        let ahead = try await client.call("events.subscribe", ["since_seq": 999])
        #expect(ahead.errorCode == -32602)
        await client.close()
    }

    @Test("a client that stops reading is told what it lost and closed; another receives every event")
    func slowClientOverflows() async throws {
        let server = try await TestServer.start(ringCapacity: 65_536) {
            $0.clientQueueEvents = 1_000
            $0.clientSocketBufferBytes = 16 * 1024
            $0.socketSendBufferBytes = 8 * 1024
            $0.closeGraceMilliseconds = 30_000
        }
        defer { Task { await server.stop() } }
        let fast = try await server.connect()
        try await fast.login(TestServer.agentToken)
        _ = try await fast.call("events.subscribe")

        let slow = try await server.connect(receiveBuffer: 4096)
        try await slow.login(TestServer.agentToken)
        _ = try await slow.call("events.subscribe")
        // From here on the slow client takes nothing more from its socket.
        try await pauseReading(slow)

        // About 5,000 events/s: a pace the reading client keeps up with even in a debug build on
        // a busy machine, while the one that reads nothing overflows after about 1,200.
        var published: [UInt64] = []
        for _ in 0..<600 {
            published += Self.publish(server.hub, count: 10)
            try await Task.sleep(for: .milliseconds(2))
        }
        let everything = try await Self.events(from: fast, through: published.last!)
        #expect(Self.seqs(everything).count == published.count)
        #expect(Self.seqs(everything) == published.map { Int64($0) }, "the reading client must get every event, in order")

        slow.resumeReading()
        var slowEvents: [Int64] = []
        var overflow: JSONValue?
        while let message = try await slow.next(timeout: .seconds(20), waitingFor: "the overflow notice") {
            if message["method"] == "event", let seq = message["params"]?["seq"]?.intValue { slowEvents.append(seq) }
            if message["method"] == "events.overflow" { overflow = message }
        }
        let notice = try #require(overflow, "the slow client was closed without an overflow notice")
        let lostFrom = try #require(notice["params"]?["lost_from"]?.intValue)
        let lostTo = try #require(notice["params"]?["lost_to"]?.intValue)
        // Nothing silent: what it got is contiguous from the first event up to just before lost_from.
        #expect(slowEvents == Array(1..<lostFrom))
        #expect(lostTo >= lostFrom)
        #expect(lostTo <= Int64(published.last!))
        #expect(slowEvents.count < published.count)
        #expect(slow.isClosed)
        SchemaCheck.expectValid(Array(slow.allReceivedLines.suffix(5)), kind: "server")
        await fast.close()
    }

    @Test("a client that has stopped reading altogether is let go once the close grace passes without progress")
    func stuckClientIsLetGo() async throws {
        let server = try await TestServer.start(ringCapacity: 65_536) {
            $0.clientQueueEvents = 200
            $0.clientSocketBufferBytes = 16 * 1024
            $0.socketSendBufferBytes = 8 * 1024
            $0.closeGraceMilliseconds = 300
        }
        defer { Task { await server.stop() } }
        let admin = try await server.connect()
        try await admin.login(TestServer.adminToken)
        let stuck = try await server.connect(receiveBuffer: 4096)
        try await stuck.login(TestServer.agentToken, client: "stuck")
        _ = try await stuck.call("events.subscribe")
        try await pauseReading(stuck)
        for _ in 0..<100 {
            _ = Self.publish(server.hub, count: 20)
            try await Task.sleep(for: .milliseconds(2))
        }
        var listed = true
        let deadline = ContinuousClock.now + .seconds(10)
        while listed && ContinuousClock.now < deadline {
            let sessions = try await admin.call("sessions.list")["result"]?["sessions"]
            listed = sessions?.arrayValue?.contains { $0["client"] == "stuck" } ?? false
            if listed { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(!listed, "a client that reads nothing is closed after the grace, not kept")
        await admin.close()
        await stuck.close()
    }

    /// Stops the collector reading: with autoRead off, a read is only issued after the previous
    /// completes, so once paused the socket's receive buffer fills and TCP pushes back.
    private func pauseReading(_ client: TestClient) async throws {
        try await client.channel.setOption(.autoRead, value: false).get()
        try await client.pauseAfterCurrentRead()
    }
}
