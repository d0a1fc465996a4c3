import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
@testable import TrunkGateway
import TrunkHardware
import TrunkISDN
import TrunkCore

/// The uniform call model over the simulator's PRI spans: span 1 plays the carrier, span 2 is
/// the node's trunk. Everything runs faster than real time, tick by tick.
@Suite("Call model over PRI")
struct CallManagerTests {
    final class Notifications: @unchecked Sendable {
        private let lock = NSLock()
        private var all: [CallNotification] = []
        func add(_ n: CallNotification) { lock.withLock { all.append(n) } }
        var ended: [CallRecord] { lock.withLock { all.compactMap { if case .ended(let r) = $0 { r } else { nil } } } }
        var offered: [CallRecord] { lock.withLock { all.compactMap { if case .offered(let r) = $0 { r } else { nil } } } }
    }

    struct Lab {
        let simulator: LineSimulator
        let pri: PRILab
        let calls: CallService
        let notifications = Notifications()
        var manager: CallManager { calls.manager }
        var carrier: LabCarrier { calls.carriers[1]! }

        init(store: CDRStore? = nil, configuration: CallManager.Configuration = CallManager.Configuration(),
             groups: [TrunkGroup]? = nil) throws {
            simulator = try LineSimulator()
            pri = try PRILab(simulator: simulator, logger: Logger(label: "test"))
            calls = try CallService(pri: pri, store: store, configuration: configuration, groups: groups, logger: Logger(label: "test"))
            calls.manager.addObserver { [notifications] in notifications.add($0) }
            simulator.tick(count: 200)
        }

        func tick(_ ms: Int) { simulator.tick(count: ms) }
    }

    @Test("an inbound call nothing claims, with no built-in flow, is rejected with cause 21, never left ringing")
    func unclaimedIsRejected() throws {
        var configuration = CallManager.Configuration()
        configuration.flow = nil
        let lab = try Lab(configuration: configuration)
        try lab.carrier.place(called: "95500", calling: "13800138000", channel: 3)
        lab.tick(300)
        #expect(lab.manager.live.isEmpty)
        let ended = try #require(lab.notifications.ended.first)
        #expect(ended.cause == 21 && ended.failure == .rejected && ended.clearedBy == .local)
        #expect(ended.caller == "13800138000" && ended.callee == "95500" && ended.address == ChannelAddress(span: 2, channel: 3))
        #expect(lab.carrier.ended.first?.cause == 21)
        #expect(lab.carrier.ended.first?.clearedBy == "gateway")
    }

    @Test("a claimed call rings, is answered by its client, and the caller's hangup ends it with every step stamped in order")
    func claimedCallLifecycle() throws {
        let lab = try Lab()
        lab.manager.claim(CallClaim(owner: "ivr1", dnis: ["955XX"]))
        try lab.carrier.place(called: "95500", calling: "13800138000", dtmf: "", holdMs: 2_000)
        lab.tick(300)
        let offered = try #require(lab.manager.live.first)
        #expect(offered.handler == "cti:ivr1")
        #expect(offered.state == .alerting)
        #expect(offered.trunk == .pri && offered.direction == .inbound && offered.trunkGroup == "pri")
        #expect(lab.manager.channelStates().first { $0.address == offered.address }?.state == .alerting)
        try lab.manager.answer(offered.callID)
        lab.tick(300)
        #expect(lab.manager.call(offered.callID)?.state == .up)
        #expect(lab.carrier.calls.first?.answeredAtMs != nil)
        lab.tick(2_500)
        let ended = try #require(lab.notifications.ended.first)
        #expect(ended.callID == offered.callID)
        #expect(ended.clearedBy == .remote && ended.cause == 16 && ended.failure == nil)
        let kinds = ended.events.map(\.kind)
        #expect(kinds == [.seized, .numberComplete, .alerting, .answered, .hangup])
        #expect(ended.events.map(\.atMs) == ended.events.map(\.atMs).sorted())
        // Held about 2 s after the answer, on the lab's millisecond clock.
        let held = ended.time(of: .hangup)! - ended.time(of: .answered)!
        #expect(held > 1_900 && held < 2_300)
        #expect(lab.manager.channelStates().allSatisfy { $0.state == .idle })
    }

    @Test("the most specific claim wins: channel over called number over span")
    func claimSpecificity() throws {
        let lab = try Lab()
        lab.manager.claim(CallClaim(owner: "spanwide", spans: [2]))
        lab.manager.claim(CallClaim(owner: "dnis", dnis: ["_9.", "12345"]))
        lab.manager.claim(CallClaim(owner: "channel", channels: [ChannelAddress(span: 2, channel: 9)]))
        try lab.carrier.place(called: "95500", calling: "1", channel: 9)
        try lab.carrier.place(called: "95500", calling: "2", channel: 10)
        try lab.carrier.place(called: "80000", calling: "3", channel: 11)
        lab.tick(300)
        let handlers = Dictionary(uniqueKeysWithValues: lab.manager.live.map { ($0.caller ?? "", $0.handler ?? "") })
        #expect(handlers == ["1": "cti:channel", "2": "cti:dnis", "3": "cti:spanwide"])
        #expect(CallClaim.matches(pattern: "_NXX", number: "955") && !CallClaim.matches(pattern: "_NXX", number: "155"))
        #expect(CallClaim.matches(pattern: "_95.", number: "95500") && !CallClaim.matches(pattern: "_95.", number: "95"))
    }

    @Test("configured routes apply after claims: a matching reject route refuses with its cause, others fall through")
    func routes() throws {
        var configuration = CallManager.Configuration()
        configuration.flow = nil
        configuration.routes = [CallManager.InboundRoute(dnis: "_400X.", action: .reject(.userBusy))]
        let lab = try Lab(configuration: configuration)
        lab.manager.claim(CallClaim(owner: "vip", dnis: ["4008"]))
        try lab.carrier.place(called: "40012345", calling: "1")
        try lab.carrier.place(called: "4008", calling: "2")
        try lab.carrier.place(called: "95500", calling: "3")
        lab.tick(300)
        let ended = Dictionary(uniqueKeysWithValues: lab.notifications.ended.map { ($0.caller ?? "", $0) })
        #expect(ended["1"]?.cause == 17 && ended["1"]?.failure == .rejected)
        #expect(ended["3"]?.cause == 21, "no route, no flow: rejected with 21")
        #expect(lab.manager.live.map(\.caller) == ["2"], "the claim wins over the route")
    }

    @Test("a claimed call nobody answers is cleared with cause 19 after the offer timeout")
    func offerTimeout() throws {
        var configuration = CallManager.Configuration()
        configuration.offerTimeoutMs = 3_000
        let lab = try Lab(configuration: configuration)
        lab.manager.claim(CallClaim(owner: "slow", spans: [2]))
        try lab.carrier.place(called: "95500", calling: "13800138000")
        lab.tick(2_000)
        #expect(lab.manager.live.count == 1)
        lab.tick(1_500)
        let ended = try #require(lab.notifications.ended.first)
        #expect(ended.cause == 19 && ended.failure == .timeout)
        #expect(lab.carrier.ended.first?.cause == 19)
    }

    @Test("outbound calls hunt their trunk group in order, are answered by the far end, and all-busy is cause 34")
    func outboundHunting() throws {
        let span2 = PRILab.e1BChannels.map { ChannelAddress(span: 2, channel: Int($0)) }
        let lab = try Lab(groups: [
            TrunkGroup(name: "up", members: Array(span2.prefix(3)), hunt: .ascending),
            TrunkGroup(name: "down", members: Array(span2.suffix(3)), hunt: .descending),
            TrunkGroup(name: "rr", members: Array(span2[10..<13]), hunt: .roundRobin),
        ])
        let first = try lab.manager.originate(group: "up", number: "13900000001", callerID: "95500")
        let second = try lab.manager.originate(group: "up", number: "13900000002")
        #expect(first.address.channel == 1 && second.address.channel == 2)
        #expect(try lab.manager.originate(group: "down", number: "1").address.channel == 31)
        var rr: [Int] = []
        for _ in 0..<4 {
            let call = try lab.manager.originate(group: "rr", number: "2")
            rr.append(call.address.channel)
            lab.tick(200)
            try lab.manager.hangup(call.callID)
            lab.tick(200)
        }
        #expect(rr == [11, 12, 13, 11])
        _ = try lab.manager.originate(group: "up", number: "13900000003")
        #expect(throws: TrunkError.self) { try lab.manager.originate(group: "up", number: "13900000004") }
        let blocked = try #require(lab.notifications.ended.first { $0.failure == .noChannel })
        #expect(blocked.cause == 34 && blocked.trunkGroup == "up" && blocked.callee == "13900000004")
        // The lab's called parties ring for a second, then answer.
        lab.tick(1_500)
        let answered = try #require(lab.manager.call(first.callID))
        #expect(answered.state == .up)
        #expect(answered.events.map(\.kind).prefix(4) == [.seized, .numberComplete, .proceeding, .alerting] || answered.events.map(\.kind).contains(.answered))
        #expect(lab.carrier.calls.contains { $0.called == "13900000001" && $0.calling == "95500" && $0.answeredAtMs != nil })
        try lab.manager.hangup(first.callID, cause: .normalCallClearing)
        lab.tick(300)
        let ended = try #require(lab.notifications.ended.first { $0.callID == first.callID })
        #expect(ended.clearedBy == .local && ended.cause == 16 && ended.direction == .outbound)
        #expect(lab.carrier.ended.first { $0.called == "13900000001" }?.clearedBy == "gateway")
        #expect(throws: TrunkError.self) { try lab.manager.originate(group: "nope", number: "1") }
    }

    @Test("a cable cut puts the idle channels out of service, and they return after the restore")
    func outOfServiceOnAlarm() throws {
        let lab = try Lab()
        try lab.simulator.cut(span: 2)
        lab.tick(25_000)
        #expect(lab.manager.channelStates().filter { $0.address.span == 2 }.allSatisfy { $0.state == .outOfService })
        #expect(throws: TrunkError.self) { try lab.manager.originate(group: "pri", number: "1") }
        try lab.simulator.restore(span: 2)
        lab.tick(3_000)
        #expect(lab.manager.channelStates().filter { $0.address.span == 2 }.allSatisfy { $0.state == .idle })
    }

    @Test("call records are written at start and end; a killed node's open calls are closed once, on restart, with a reason")
    func recordsSurviveACrash() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cdr-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/calls.sqlite"
        do {
            let lab = try Lab(store: try CDRStore(path: path))
            lab.manager.claim(CallClaim(owner: "agent", spans: [2]))
            try lab.carrier.place(called: "95500", calling: "13800138000", holdMs: 500)
            try lab.carrier.place(called: "95501", calling: "13800138001")
            lab.tick(300)
            for call in lab.manager.live { try lab.manager.answer(call.callID) }
            lab.tick(1_000)
            lab.calls.flush()
            // The first call ended; the second is active when the node "dies" here.
            #expect(lab.manager.live.count == 1)
        }
        let reopened = try CDRStore(path: path)
        #expect(reopened.count == 2)
        #expect(try reopened.closeInterrupted() == 1)
        #expect(try reopened.closeInterrupted() == 0)
        let records = try reopened.calls(.init())
        #expect(records.count == 2)
        let completed = try #require(records.first { $0.callee == "95500" })
        #expect(completed.cause == 16 && completed.failure == nil && completed.time(of: .answered) != nil)
        let interrupted = try #require(records.first { $0.callee == "95501" })
        #expect(interrupted.failure == .nodeRestart && interrupted.clearedBy == .system && interrupted.isEnded)
        #expect(interrupted.time(of: .answered) != nil, "the answer was recorded before the crash")
        let csv = CallRecordCSV.render(records)
        #expect(csv.split(separator: "\r\n").count == 3)
        #expect(csv.contains("node_restart"))
    }
}
