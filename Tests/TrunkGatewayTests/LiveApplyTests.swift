import Foundation
import Logging
import NIOCore
import Testing
@testable import TrunkGateway
import TrunkHardware
import TrunkISDN

/// `config apply` on the embedded default, through the control protocol as trunkctl sends it.
@Suite("Live configuration apply")
struct LiveApplyTests {
    struct Lab {
        var simulator: LineSimulator
        var pri: PRILab
        var live: LiveConfiguration
        var node: GatewayNode
        var alarms: AlarmMonitor
        var calls: CallService
    }

    static func makeLab() throws -> Lab {
        let simulator = try LineSimulator()
        let logger = Logger(label: "test")
        let pri = try PRILab(simulator: simulator, logger: logger)
        let alarms = try AlarmMonitor(store: AlarmStore(path: NSTemporaryDirectory() + "alarms-\(UUID().uuidString).sqlite"),
                                      settings: AlarmSettings(), logger: logger)
        let live = try LiveConfiguration(running: .nothingDeclared(file: "(embedded default)"), simulator: simulator, pri: pri, alarms: alarms, logger: logger)
        let calls = try CallService(pri: pri, store: nil, logger: logger)
        // An upper layer takes span 2's calls; the test answers them on the driver itself.
        calls.manager.claim(CallClaim(owner: "test", spans: [2]))
        let node = GatewayNode(simulator: simulator, clock: nil, pri: pri, calls: calls, alarms: alarms, configuration: live, logger: logger)
        return Lab(simulator: simulator, pri: pri, live: live, node: node, alarms: alarms, calls: calls)
    }

    static let technician = ControlPeer(uid: 1000, pid: 4242, user: "zhang")

    struct Refused: Error { var body: ControlErrorBody }

    /// Sends `config.apply` the way trunkctl does; a refusal throws `Refused` with trunkd's message.
    static func apply(_ node: GatewayNode, file: String, text: String, dryRun: Bool) async throws -> ConfigApplyResult {
        let request = ControlRequest(id: 7, method: .configApply, params: ConfigApplyParams(file: file, text: text, dryRun: dryRun))
        let reply = await node.handle(line: ByteBuffer(bytes: try JSONEncoder().encode(request)), peer: technician)
        let response = try JSONDecoder().decode(ControlResponse<ConfigApplyResult>.self, from: Data(reply.readableBytesView))
        if let result = response.result { return result }
        throw Refused(body: try #require(response.error))
    }

    static let newConfig = """
        # span 1's carrier asked for a longer T303; a phone goes on FXS port 63
        [[span]]
        span = 1
        backend = "virtual"
        signalling = "pri_net"
        t303 = 6000
        [[span]]
        span = 2
        backend = "virtual"
        signalling = "pri_cpe"
        timing = 1

        [[analog]]
        channel = 63
        port = "fxs"
        """

    @Test("with calls up on span 2, adding an analog port and changing a timer on span 1 keeps every call up, and the dry run said what happened")
    func applyKeepsCallsUp() async throws {
        let lab = try Self.makeLab()
        lab.simulator.tick(count: 200)
        let carrier = try lab.pri.driver(span: 1), user = try lab.pri.driver(span: 2)
        for channel: UInt8 in [3, 4, 5, 20] {
            try carrier.placeCall(called: "9550\(channel)", calling: "13800138000", channel: channel, now: lab.pri.now)
        }
        lab.simulator.tick(count: 300)
        for channel: UInt8 in [3, 4, 5, 20] {
            let call = try #require(user.call(onChannel: channel))
            let now = lab.pri.now
            user.callControl(now: now) { $0.connect(call, now: now) }
        }
        lab.simulator.tick(count: 300)
        let callsBefore = lab.calls.manager.live
        #expect(callsBefore.count == 4 && callsBefore.allSatisfy { $0.state == .up && $0.address.span == 2 })
        let linkDownsBefore = (carrier.report().counters.linkDowns, user.report().counters.linkDowns)

        let dryRun = try await Self.apply(lab.node, file: "/etc/trunkline/trunkline.toml", text: Self.newConfig, dryRun: true)
        #expect(dryRun.dryRun && !dryRun.applied && dryRun.user == "zhang")
        #expect(dryRun.diff.changes.map(\.description) == [
            "span 1: T303 4000 → 6000 ms (stack retimed, link and calls stay up)",
            "analog 63: added (fxs, kewlstart): channel opened",
        ])
        #expect(carrier.timerConfiguration.callControl.t303 == .seconds(4), "a dry run changes nothing")
        #expect(lab.live.portsInService.isEmpty)

        let applied = try await Self.apply(lab.node, file: "/etc/trunkline/trunkline.toml", text: Self.newConfig, dryRun: false)
        #expect(applied.applied && applied.diff == dryRun.diff, "the dry run showed exactly what was applied")
        // Long enough for any disturbance to surface: T309 (6 s) would clear calls on a lost link.
        lab.simulator.tick(count: 20_000)

        #expect(carrier.timerConfiguration.callControl.t303 == .seconds(6))
        #expect(user.timerConfiguration.callControl.t303 == .seconds(4), "span 2's stack untouched")
        #expect(lab.live.portsInService == [63])
        #expect(try lab.simulator.channelParameters(span: 3).first { $0.channel == 63 }?.isOpen == true)
        let callsAfter = lab.calls.manager.live
        #expect(callsAfter.map(\.callID) == callsBefore.map(\.callID))
        #expect(callsAfter.allSatisfy { $0.state == .up })
        #expect(user.report().channels.filter { $0.state == .connected }.map(\.channel) == [3, 4, 5, 20])
        #expect((carrier.report().counters.linkDowns, user.report().counters.linkDowns) == linkDownsBefore)
        let record = try #require(try lab.alarms.store.records().last)
        #expect(record.kind == "config.apply" && record.user == "zhang" && record.message.contains("T303 4000 → 6000"))

        // Applying the same file again changes nothing.
        #expect(try await Self.apply(lab.node, file: "/etc/trunkline/trunkline.toml", text: Self.newConfig, dryRun: false).diff.isEmpty)
    }

    @Test("a rejected file leaves the running configuration in place and says why")
    func rejectedFileChangesNothing() async throws {
        let lab = try Self.makeLab()
        lab.simulator.tick(count: 200)
        _ = try await Self.apply(lab.node, file: "t.toml", text: Self.newConfig, dryRun: false)
        let broken = Self.newConfig.replacingOccurrences(of: "t303 = 6000", with: "t303 = 8000") + "\n[[analog]]\nchannel = 67\nport = \"fxs\"\n"
        do {
            _ = try await Self.apply(lab.node, file: "t.toml", text: broken, dryRun: false)
            Issue.record("a file with an FXS port on FXO hardware was applied")
        } catch let refused as Refused {
            #expect(refused.body.message == "t.toml:16:1: channel 67 is declared fxs, but on this file's virtual lab it is an FXO port")
        }
        #expect(try lab.pri.driver(span: 1).timerConfiguration.callControl.t303 == .seconds(6))
        #expect(lab.live.portsInService == [63])
        #expect(lab.live.running.effectiveSpans.first?.pri.timers["t303"] == 6000)
    }

    @Test("what the running node cannot change is reported as needing a restart, and stays pending")
    func needsRestart() async throws {
        let lab = try Self.makeLab()
        let text = Self.newConfig.replacingOccurrences(of: "timing = 1", with: "timing = 1\ncrc4 = false") + "\n[cti]\ntcp = \"127.0.0.1:7070\"\n"
        let first = try await Self.apply(lab.node, file: "t.toml", text: text, dryRun: false)
        #expect(first.diff.changes.filter { $0.action == ConfigDiff.Action.needsRestart }.map(\.description) == [
            "span 2: crc4 true → false (needs restart)",
            "cti: listeners or tokens changed (the CTI server reads them at start) (needs restart)",
        ])
        let second = try await Self.apply(lab.node, file: "t.toml", text: text, dryRun: true)
        #expect(second.diff.changes.map(\.action) == [ConfigDiff.Action.needsRestart, .needsRestart], "still pending, the live part done")
    }

    @Test("the peer credentials struct matches struct ucred")
    func peerCredentialsLayout() {
        #expect(MemoryLayout<ControlPeer.PeerCredentials>.size == 12)
        #expect(MemoryLayout<ControlPeer.PeerCredentials>.offset(of: \.uid) == 4)
        #expect(ControlPeer.userName(uid: 0) == "root")
    }
}
