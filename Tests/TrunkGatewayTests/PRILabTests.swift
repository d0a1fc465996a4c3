import Foundation
import Logging
import Testing
@testable import TrunkGateway
import TrunkHardware
import TrunkISDN
import TrunkTrace
import TrunkCore

/// PRI signalling over the simulator's E1 spans, ticked faster than real time.
@Suite("PRI on the line simulator")
struct PRILabTests {
    final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [(span: Int, indication: Q931Indication)] = []
        func add(_ span: Int, _ indication: Q931Indication) { lock.withLock { events.append((span, indication)) } }
        var all: [(span: Int, indication: Q931Indication)] { lock.withLock { events } }
    }

    func makeLab() throws -> (LineSimulator, PRILab, Recorder) {
        let simulator = try LineSimulator()
        let lab = try PRILab(simulator: simulator, logger: Logger(label: "test"))
        let recorder = Recorder()
        for driver in lab.drivers.values { driver.onIndication { recorder.add($0, $1) } }
        // The simplest upper layer on the call centre's span: ring back every offered call
        // (the call manager is not part of these tests of the signalling alone).
        let user = try lab.driver(span: 2)
        user.onIndication { _, indication in
            if case .incomingCall(let call) = indication { user.callControl(now: lab.now) { $0.alerting(call.id, now: lab.now) } }
        }
        return (simulator, lab, recorder)
    }

    @Test("both D-channels come up by themselves (SABME/UA)")
    func linksComeUp() throws {
        let (simulator, lab, _) = try makeLab()
        simulator.tick(count: 200)
        for span in [1, 2] {
            let report = try lab.driver(span: span).report()
            #expect(report.dataLinkUp, "span \(span)")
            #expect(report.q921State == "multipleFrameEstablished")
        }
        #expect(try lab.driver(span: 1).report().role == "network")
        #expect(try lab.driver(span: 2).report().role == "user")
    }

    @Test("a call from the carrier rings the call centre's span with the right numbers, and clears with cause 16")
    func callRingsAndClears() throws {
        let (simulator, lab, recorder) = try makeLab()
        simulator.tick(count: 200)
        let carrier = try lab.driver(span: 1)
        let call = try carrier.placeCall(called: "95500", calling: "13800138000", channel: 5, now: lab.now)
        simulator.tick(count: 300)

        let offered = recorder.all.compactMap { event -> Q931IncomingCall? in
            guard event.span == 2, case .incomingCall(let incoming) = event.indication else { return nil }
            return incoming
        }
        #expect(offered.count == 1)
        #expect(offered.first?.calledNumber?.digits == "95500")
        #expect(offered.first?.callingNumber?.digits == "13800138000")
        #expect(offered.first?.channel == 5)
        #expect(recorder.all.contains { $0.span == 1 && $0.indication == .alerting(call, inBandInformation: false) })
        #expect(try lab.driver(span: 2).report().channels.first { $0.channel == 5 }?.state == .alerting)

        carrier.callControl(now: lab.now) { $0.disconnect(call, cause: .normalCallClearing, now: lab.now) }
        simulator.tick(count: 300)
        let cleared = recorder.all.compactMap { event -> (Int, Q850Cause)? in
            guard case .cleared(_, let cause, _) = event.indication else { return nil }
            return (event.span, cause)
        }
        #expect(cleared.map(\.0).sorted() == [1, 2])
        #expect(cleared.allSatisfy { $0.1 == .normalCallClearing })
        #expect(try lab.driver(span: 2).report().channels.allSatisfy { $0.state == .idle })
    }

    @Test("a cable cut takes the link down and it comes back after restore")
    func linkSurvivesCut() throws {
        let (simulator, lab, _) = try makeLab()
        simulator.tick(count: 200)
        try simulator.cut(span: 2)
        // T203 (10 s) finds the silence, T200 × N200 polls go unanswered, re-establishment
        // (SABME × N200) fails: then the link is released (about 17 s).
        simulator.tick(count: 25_000)
        #expect(try !lab.driver(span: 2).report().dataLinkUp)
        #expect(try lab.driver(span: 2).report().inAlarm)
        try simulator.restore(span: 2)
        simulator.tick(count: 3000)
        #expect(try lab.driver(span: 2).report().dataLinkUp)
        #expect(try lab.driver(span: 1).report().dataLinkUp)
    }

    @Test("an answer given while the driver services the D-channel carries the acknowledgement: no RR for that SETUP, and the RR for ALERTING still comes")
    func answersCarryTheAcknowledgement() throws {
        let (simulator, lab, _) = try makeLab()
        let path = NSTemporaryDirectory() + "trunkline-ack-\(UUID().uuidString.prefix(8)).pcap"
        let writer = try LAPDTraceWriter(path: path, networkSide: false)
        let user = try lab.driver(span: 2)
        simulator.tick(count: 200)
        user.addTrace(writer)
        _ = try lab.driver(span: 1).placeCall(called: "95500", calling: "13800138000", channel: 7, now: lab.now)
        // Far less than T200 (1 s): an acknowledgement that only a T200 poll would bring is not seen.
        simulator.tick(count: 300)
        user.removeTrace(writer)

        // I frame: control octet 3 bit 1 clear, N(S) in octet 3, N(R) in octet 4; the Q.931
        // message type follows the 2-octet call reference. S frame RR: octet 3 = 0x01.
        let records = try LAPDTraceReader.read(path: path)
        func isInformation(_ frame: [UInt8]) -> Bool { frame.count > 8 && frame[2] & 0x01 == 0 }
        func isReceiveReady(_ frame: [UInt8]) -> Bool { frame.count == 4 && frame[2] == 0x01 }
        let setupIndex = try #require(records.firstIndex { $0.direction == .received && isInformation($0.frame) && $0.frame[8] == 0x05 })
        let setupNS = records[setupIndex].frame[2] >> 1
        let answerIndex = try #require(records[(setupIndex + 1)...].firstIndex { $0.direction == .sent })
        let answer = records[answerIndex].frame
        #expect(isInformation(answer) && answer[8] == 0x01, "the first frame sent after SETUP is ALERTING, not an RR: \(answer)")
        #expect(answer[3] >> 1 == (setupNS + 1) & 0x7F, "ALERTING acknowledges the SETUP (N(R))")
        let alertingNS = answer[2] >> 1
        #expect(records[(answerIndex + 1)...].contains {
            $0.direction == .received && isReceiveReady($0.frame) && $0.frame[3] >> 1 == (alertingNS + 1) & 0x7F
        }, "the carrier, which answers nothing, acknowledges ALERTING with an RR in the same pass")
        #expect(try lab.driver(span: 1).report().q921.retransmitted == 0)
        #expect(user.report().q921.retransmitted == 0)
    }

    @Test("a trace of a call is decoded by tshark: every message, the numbers and the cause")
    func tsharkDecodesTrace() throws {
        let (simulator, lab, _) = try makeLab()
        let path = NSTemporaryDirectory() + "trunkline-trace-\(UUID().uuidString.prefix(8)).pcap"
        let writer = try LAPDTraceWriter(path: path, networkSide: false)
        let user = try lab.driver(span: 2)
        user.addTrace(writer)
        simulator.tick(count: 200)
        let carrier = try lab.driver(span: 1)
        let call = try carrier.placeCall(called: "95500", calling: "13800138000", channel: 3, now: lab.now)
        simulator.tick(count: 300)
        carrier.callControl(now: lab.now) { $0.disconnect(call, cause: .userBusy, now: lab.now) }
        simulator.tick(count: 300)
        user.removeTrace(writer)

        let records = try LAPDTraceReader.read(path: path)
        #expect(records.count == writer.framesWritten)
        #expect(records.contains { $0.direction == .sent } && records.contains { $0.direction == .received })

        let tshark = Process()
        tshark.executableURL = URL(fileURLWithPath: "/usr/bin/tshark")
        tshark.arguments = ["-r", path, "-Y", "q931", "-T", "fields", "-E", "separator=|",
                            "-e", "q931.message_type", "-e", "q931.calling_party_number.digits",
                            "-e", "q931.called_party_number.digits", "-e", "q931.cause_value", "-e", "_ws.malformed"]
        let output = Pipe()
        tshark.standardOutput = output
        tshark.standardError = Pipe()
        try tshark.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        tshark.waitUntilExit()
        #expect(tshark.terminationStatus == 0)
        let rows = text.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        // SETUP 0x05 (received), ALERTING 0x01 (sent), DISCONNECT 0x45, RELEASE 0x4d, RELEASE COMPLETE 0x5a.
        let types = rows.map { $0[0] }
        #expect(types == ["0x05", "0x01", "0x45", "0x4d", "0x5a"], "tshark saw \(rows)")
        #expect(rows.first?[1] == "13800138000")
        #expect(rows.first?[2] == "95500")
        #expect(rows.first { $0[0] == "0x45" }?[3] == "17")
        #expect(rows.allSatisfy { $0.count < 5 || $0[4].isEmpty }, "tshark reports malformed packets")
    }

    @Test("RESTART of a channel and of the interface is acknowledged")
    func restart() throws {
        let (simulator, lab, recorder) = try makeLab()
        simulator.tick(count: 200)
        try lab.driver(span: 2).restart(channel: 7, now: lab.now)
        simulator.tick(count: 100)
        try lab.driver(span: 2).restart(channel: nil, now: lab.now)
        simulator.tick(count: 100)
        let completed = recorder.all.compactMap { event -> [UInt8]?? in
            guard event.span == 2, case .restartCompleted(let channels) = event.indication else { return nil }
            return channels
        }
        #expect(completed == [[7], nil])
        #expect(recorder.all.contains { $0.span == 1 && $0.indication == .restarted(channels: [7]) })
    }

    @Test("a blocked B-channel refuses incoming calls with cause 44 and is not hunted for outgoing ones")
    func maintenanceBlocking() throws {
        let (simulator, lab, recorder) = try makeLab()
        simulator.tick(count: 200)
        let user = try lab.driver(span: 2)
        try user.setBlocked(9, true)
        #expect(user.report().channels.first { $0.channel == 9 }?.state == .blocked)
        let carrier = try lab.driver(span: 1)
        let call = try carrier.placeCall(called: "95500", calling: "1", channel: 9, now: lab.now)
        simulator.tick(count: 300)
        #expect(!recorder.all.contains { $0.span == 2 && { if case .incomingCall = $0 { return true } else { return false } }($0.indication) })
        #expect(recorder.all.contains { $0.span == 1 && $0.indication == .cleared(call, cause: .requestedChannelNotAvailable, channel: 9) }
                || recorder.all.contains { event in
                    guard event.span == 1, case .cleared(let id, let cause, _) = event.indication else { return false }
                    return id == call && cause == .requestedChannelNotAvailable
                })
        #expect(user.report().counters.refusedOnBlockedChannel == 1)
        // The user side hunts from the bottom: channel 1 free, so blocking 1 moves it to 2.
        try user.setBlocked(1, true)
        let placed = try user.placeCallOnChannel(called: "114", calling: nil, channel: nil, now: lab.now)
        #expect(placed.channel == 2)
        #expect(throws: TrunkError.self) { try user.placeCall(called: "114", calling: nil, channel: 1, now: lab.now) }
        try user.setBlocked(9, false)
        #expect(user.report().channels.first { $0.channel == 9 }?.state == .idle)
    }

    @Test("garbage on the D-channel is counted and traced, and the link still comes up")
    func malformedFramesCountedAndTraced() throws {
        let simulator = try LineSimulator()
        let raw = try simulator.openChannel(Lab.span1DChannel)
        let driver = PRISpanDriver(span: 2, role: .user, dChannel: try simulator.openChannel(Lab.span2DChannel),
                                   bChannels: PRILab.e1BChannels)
        let path = NSTemporaryDirectory() + "trunkline-garbage-\(UUID().uuidString.prefix(8)).pcap"
        let writer = try LAPDTraceWriter(path: path, networkSide: false)
        driver.addTrace(writer)
        simulator.addTickObserver { tick in driver.service(now: PRILab.instant(tick: tick)) }
        driver.start(now: PRILab.instant(tick: 0))
        var state: UInt64 = 0x1234_5678
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        var sent = 0
        for _ in 0..<200 {
            // Two bytes at least: with the FCS that is the shortest frame an HDLC receiver keeps.
            let length = 2 + Int(next() % 39)
            var frame = (0..<length).map { _ in UInt8(truncatingIfNeeded: next()) }
            // Keep SAPI 0 / TEI 0 on half of them so they reach the frame decoder, not just the address check.
            if sent % 2 == 0 && length >= 2 { frame[0] = 0x02; frame[1] = 0x01 }
            if raw.write(frame + [0, 0]) == .transferred(frame.count + 2) { sent += 1 }
            simulator.tick(count: 3)
            _ = raw.drainEvents()
            while raw.readBytes() != nil {}
        }
        simulator.tick(count: 200)
        driver.removeTrace(writer)
        let report = driver.report()
        #expect(report.counters.framesReceived >= sent)
        #expect(report.q921.malformed + report.q921.unknownAddress + report.q921.protocolErrors > 0)
        let received = try LAPDTraceReader.read(path: path).filter { $0.direction == .received }
        #expect(received.count == report.counters.framesReceived)

        // A well-behaved peer afterwards still brings the link up.
        let peer = PRISpanDriver(span: 1, role: .network, dChannel: raw, bChannels: PRILab.e1BChannels)
        simulator.addTickObserver { tick in peer.service(now: PRILab.instant(tick: tick)) }
        peer.start(now: PRILab.instant(tick: simulator.tickCount))
        simulator.tick(count: 3000)
        #expect(driver.report().dataLinkUp && peer.report().dataLinkUp)
    }
}

/// Channel numbers of the embedded default lab.
enum Lab {
    static let span1DChannel = 16
    static let span2DChannel = 47
}

extension ChannelDevice {
    @discardableResult
    func write(_ bytes: [UInt8]) -> DeviceIO { bytes.withUnsafeBytes { write($0) } }

    func readBytes() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        guard case .transferred(let count) = buffer.withUnsafeMutableBytes({ read(into: $0) }) else { return nil }
        return Array(buffer[0..<count])
    }

    func drainEvents() -> [ChannelEvent] {
        var events: [ChannelEvent] = []
        while let event = nextEvent() { events.append(event) }
        return events
    }
}
