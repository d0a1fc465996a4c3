import Testing
import TrunkCore
@testable import TrunkHardware

@Suite("Simulated span alarms and line counters")
struct AlarmTests {
    @Test("both E1 spans come up clean with CRC-4 framing")
    func cleanStart() throws {
        let simulator = try LineSimulator()
        simulator.tick(count: 50)
        for span in [1, 2] {
            let status = try simulator.spanStatus(span)
            #expect(status.alarms.isEmpty)
            #expect(status.counters == SpanCounters())
        }
        #expect(simulator.syncSource == 2)
    }

    @Test("a cable cut gives RED/LOS near, YELLOW far, ALARM events; restore clears both with NOALARM")
    func cutAndRestore() throws {
        let simulator = try LineSimulator()
        let near = try simulator.openChannel(Lab.bChannel(span: 1, timeslot: 1))
        let far = try simulator.openChannel(Lab.bChannel(span: 2, timeslot: 1))
        simulator.tick(count: 10)
        _ = (near.drainEvents(), far.drainEvents())
        try simulator.cut(span: 1)
        simulator.tick(count: 3)
        #expect(try simulator.spanStatus(1).alarms == [.red, .los])
        #expect(try simulator.spanStatus(2).alarms == [.yellow])
        #expect(near.drainEvents().first == ChannelEvent(.alarm))
        #expect(far.drainEvents().first == ChannelEvent(.alarm))
        try simulator.restore(span: 1)
        simulator.tick(count: 3)
        #expect(try simulator.spanStatus(1).alarms.isEmpty)
        #expect(try simulator.spanStatus(2).alarms.isEmpty)
        #expect(near.drainEvents().contains(ChannelEvent(.noAlarm)))
        #expect(far.drainEvents().contains(ChannelEvent(.noAlarm)))
    }

    @Test("losing the user side's line moves the timing source to the internal clock")
    func syncSourceFallsBack() throws {
        let simulator = try LineSimulator()
        simulator.tick(count: 5)
        try simulator.cut(span: 2)
        simulator.tick(count: 5)
        #expect(simulator.syncSource == 0)
    }

    @Test("AIS shows BLUE")
    func ais() throws {
        let simulator = try LineSimulator()
        var impairments = Impairments()
        impairments.alarmIndicationSignal = true
        try simulator.setImpairments(impairments, span: 2)
        simulator.tick(count: 5)
        #expect(try simulator.spanStatus(2).alarms == [.blue])
        #expect(try simulator.spanStatus(1).alarms == [.yellow])
    }

    @Test("line bit errors are counted as BPV, CRC-4, E-bit and errored seconds")
    func lineErrors() throws {
        let simulator = try LineSimulator()
        simulator.tick(count: 10)
        var impairments = Impairments()
        impairments.bitErrorRate = 1e-5
        try simulator.setImpairments(impairments, span: 2)
        simulator.tick(count: 3000)
        let user = try simulator.spanStatus(2).counters
        let network = try simulator.spanStatus(1).counters
        #expect(user.bipolarViolations > 30)
        #expect(user.crc4Errors > 0 && user.crc4Errors <= user.bipolarViolations)
        #expect(user.erroredSeconds >= 2)
        // The far end learns of our CRC-4 errors through E bits.
        #expect(network.eBitErrors > 0)
        #expect(network.crc4Errors == 0)
        try simulator.resetCounters(span: 2)
        #expect(try simulator.spanStatus(2).counters == SpanCounters())
    }
}
