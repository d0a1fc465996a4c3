import CDAHDI
import Foundation
import Testing
import TrunkCore
@testable import TrunkHardware

@Suite("Simulated E1 span loopback")
struct LoopbackTests {
    /// Writes `stream` on `device` while ticking, and returns what the same device reads back.
    func echo(_ stream: [UInt8], on device: any ChannelDevice, simulator: LineSimulator, ticks: Int) -> [UInt8] {
        _ = device.drainEvents()
        while device.readBytes() != nil {}
        var pending = stream[...]
        var received: [UInt8] = []
        for _ in 0..<ticks {
            if !pending.isEmpty, case .transferred(let count) = device.write(Array(pending)) { pending = pending.dropFirst(count) }
            simulator.tick()
            _ = device.drainEvents()
            while let bytes = device.readBytes() { received += bytes }
        }
        return received
    }

    func openBearer(_ simulator: LineSimulator, span: Int, timeslot: Int) throws -> any ChannelDevice {
        let device = try simulator.openChannel(Lab.bChannel(span: span, timeslot: timeslot))
        try device.setBlockSize(8)
        try device.setBufferPolicy(.immediate, buffers: 32)
        return device
    }

    @Test("network loopback at span 2: span 1 hears its own audio bit-exact; span 2 shows LOOPBACK; off restores the line")
    func networkLoopback() throws {
        let simulator = try LineSimulator()
        let carrier = try openBearer(simulator, span: 1, timeslot: 3)
        simulator.tick(count: 20)
        try simulator.setLoopback(.network, span: 2)
        simulator.tick(count: 20)
        #expect(try simulator.spanStatus(2).alarms == [.loopback])
        #expect(try simulator.spanStatus(1).alarms.isEmpty, "span 1 receives a framed signal: its own")
        let stream = (0..<200).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }
        let back = echo(stream, on: carrier, simulator: simulator, ticks: 60)
        let start = back.firstIndex(of: stream[0]) ?? 0
        #expect(Array(back[start...].prefix(stream.count)) == stream)

        try simulator.setLoopback(.off, span: 2)
        simulator.tick(count: 20)
        #expect(try simulator.spanStatus(2).alarms.isEmpty)
        let far = try openBearer(simulator, span: 2, timeslot: 3)
        _ = far.drainEvents()
        while far.readBytes() != nil {}
        #expect(!echo(stream, on: carrier, simulator: simulator, ticks: 60).contains(stream[5]), "no longer looped")
    }

    @Test("local loopback at span 2: span 2 hears itself; span 1 still receives span 2's signal")
    func localLoopback() throws {
        let simulator = try LineSimulator()
        let callCentre = try openBearer(simulator, span: 2, timeslot: 9)
        try simulator.setLoopback(.local, span: 2)
        simulator.tick(count: 20)
        #expect(try simulator.spanStatus(2).alarms == [.loopback])
        #expect(try simulator.spanStatus(1).alarms.isEmpty)
        let stream = (0..<160).map { UInt8(truncatingIfNeeded: $0 * 13 + 3) }
        let back = echo(stream, on: callCentre, simulator: simulator, ticks: 50)
        let start = back.firstIndex(of: stream[0]) ?? 0
        #expect(Array(back[start...].prefix(stream.count)) == stream)
        #expect(throws: TrunkError.self) { try simulator.setLoopback(.local, span: 3) }
    }
}

@Suite("DAHDI span loopback")
struct DAHDILoopbackTests {
    @Test("loopback is DAHDI_MAINT on the control device with DAHDI's command codes; a driver without it is named as such")
    func maintenanceCommands() throws {
        let kernel = ScriptedKernel()
        let backend = DAHDIBackend(system: kernel.system)
        try backend.setLoopback(.network, span: 1)
        try backend.setLoopback(.local, span: 2)
        try backend.setLoopback(.off, span: 2)
        let maint = kernel.calls.filter { $0.name == "DAHDI_MAINT" }
        #expect(maint.map(\.value) == [Int32(DAHDI_MAINT_NETWORKLINELOOP), Int32(DAHDI_MAINT_LOCALLOOP), Int32(DAHDI_MAINT_NONE)])
        kernel.failures["DAHDI_MAINT"] = [EINVAL]
        #expect(throws: TrunkError(.unavailable, "span 3: its DAHDI driver does not support local loopback (DAHDI_MAINT: invalid argument)")) {
            try backend.setLoopback(.local, span: 3)
        }
    }
}
