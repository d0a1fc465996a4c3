import Testing
@testable import TrunkCTI

/// The fan-out's subscriber index over real sockets: each subscriber gets exactly what its filter
/// selects, once, in seq order — whether it selects everything, channels, calls or both — and a
/// subscriber that replays from `since_seq` while others are live joins them without a gap or
/// a repeat.
@Suite("CTI fan-out index")
struct FanoutIndexTests {
    @Test("full, channel, call and channel+call subscribers each get exactly their events, once")
    func eachFilterGetsItsEventsOnce() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        var clients: [TestClient] = []
        let filters: [JSONValue] = [
            .object([]),
            .object([("chans", [40]), ("calls", ["x"])]),
            .object([("calls", ["y"]), ("types", ["channel.hangup"])]),
            .object([("chans", [41, 42])]),
        ]
        for filter in filters {
            let client = try await server.connect()
            try await client.login(TestServer.agentToken)
            #expect(try await client.call("events.subscribe", filter)["result"] != nil)
            clients.append(client)
        }
        let hub = server.hub
        func dtmf(_ call: String, _ channel: Int) -> UInt64 {
            hub.publish(CTIEvent(.channelDTMF, callID: call, channel: channel, span: 2, fields: [("digit", "1"), ("duration_ms", 80)]))
        }
        func hangup(_ call: String, _ channel: Int) -> UInt64 {
            hub.publish(CTIEvent(.channelHangup, callID: call, channel: channel, span: 2, fields: [("cause", 16), ("cause_txt", "Normal Clearing"), ("side", "remote")]))
        }
        let onBoth = dtmf("x", 40)  // selected by channel 40 and by call x: once
        let otherCallOn40 = dtmf("z", 40)
        let xElsewhere = dtmf("x", 43)
        let yDigit = dtmf("y", 41)
        let yHangup = hangup("y", 41)
        let on42 = dtmf("w", 42)
        let last = hangup("x", 40)
        let expected: [[UInt64]] = [
            [onBoth, otherCallOn40, xElsewhere, yDigit, yHangup, on42, last],
            [onBoth, otherCallOn40, xElsewhere, last],
            [yHangup],
            [yDigit, yHangup, on42],
        ]
        for (index, client) in clients.enumerated() {
            let through = expected[index].last!
            let events = try await EventDeliveryTests.events(from: client, through: through)
            #expect(EventDeliveryTests.seqs(events) == expected[index].map { Int64($0) }, "subscriber \(index) with \(filters[index].serialized)")
        }
        for client in clients { await client.close() }
    }

    @Test("subscribers replaying from since_seq while others are live get every event exactly once, in order")
    func replayJoinsLiveWithoutGapOrRepeat() async throws {
        let server = try await TestServer.start(ringCapacity: 4096)
        defer { Task { await server.stop() } }
        let hub = server.hub
        // Several live subscribers, so every event loop of the server has one.
        var live: [TestClient] = []
        for _ in 0..<4 {
            let client = try await server.connect()
            try await client.login(TestServer.agentToken)
            _ = try await client.call("events.subscribe")
            live.append(client)
        }
        _ = EventDeliveryTests.publish(hub, count: 100)
        // Replaying subscribers join while events keep coming.
        let publisher = Task {
            for _ in 0..<20 {
                _ = EventDeliveryTests.publish(hub, count: 20)
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
        var replaying: [TestClient] = []
        for _ in 0..<4 {
            let client = try await server.connect()
            try await client.login(TestServer.agentToken)
            let subscribed = try #require(try await client.call("events.subscribe", ["since_seq": 10])["result"])
            #expect(subscribed["replay_from"] == 11)
            replaying.append(client)
        }
        await publisher.value
        let last = hub.latestSeq
        #expect(last == 500)
        for client in live {
            let events = try await EventDeliveryTests.events(from: client, through: last)
            #expect(EventDeliveryTests.seqs(events) == Array(1...Int64(last)))
        }
        for client in replaying {
            var skipped: [JSONValue] = []
            _ = try await client.call("ping", skipped: &skipped)
            var events = skipped.filter { $0["method"] == "event" }
            if (EventDeliveryTests.seqs(events).last ?? 0) < Int64(last) {
                events += try await EventDeliveryTests.events(from: client, through: last)
            }
            #expect(EventDeliveryTests.seqs(events) == Array(11...Int64(last)))
        }
        for client in live + replaying { await client.close() }
    }
}
