import CDAHDI
import Foundation
import Testing
import TrunkCore
@testable import TrunkHardware

@Suite("DAHDI backend against a scripted kernel")
struct DAHDIBackendTests {
    func kernel() -> ScriptedKernel {
        let kernel = ScriptedKernel()
        for channel: Int32 in 1...31 { kernel.signalling[channel] = channel == 16 ? CDAHDI_SIG_HARDHDLC : CDAHDI_SIG_CLEAR }
        kernel.signalling[32] = CDAHDI_SIG_FXSKS
        kernel.signalling[33] = CDAHDI_SIG_FXOKS
        return kernel
    }

    @Test("opening a bearer channel: open, DAHDI_SPECIFY first, GET_PARAMS, SET_BLOCKSIZE 160")
    func openSequence() throws {
        let kernel = kernel()
        let device = try DAHDIBackend(system: kernel.system).openChannel(5)
        #expect(kernel.callNames() == ["open /dev/dahdi/channel", "DAHDI_SPECIFY", "DAHDI_GET_PARAMS", "DAHDI_SET_BLOCKSIZE"])
        #expect(kernel.calls[0].value == O_RDWR | O_NONBLOCK)
        #expect(kernel.calls[1].value == 5)
        #expect(kernel.calls[3].value == 160)
        device.close()
        #expect(kernel.callNames().last == "close")
    }

    @Test("opening a D-channel sets HDLC buffers instead of a block size")
    func openDChannel() throws {
        let kernel = kernel()
        let device = try DAHDIBackend(system: kernel.system).openChannel(16)
        #expect(kernel.callNames() == ["open /dev/dahdi/channel", "DAHDI_SPECIFY", "DAHDI_GET_PARAMS", "DAHDI_SET_BUFINFO"])
        withExtendedLifetime(device) {}
    }

    @Test("an event interrupting a read: ELAST, DAHDI_GETEVENT, then the data")
    func elastThenEvent() throws {
        let kernel = kernel()
        let device = try DAHDIBackend(system: kernel.system).openChannel(32)
        kernel.received[32] = [Array(repeating: 0xD5, count: 160)]
        kernel.events[32] = [ChannelEvent.Kind.ringOffHook.rawValue]
        var buffer = [UInt8](repeating: 0, count: 160)
        #expect(buffer.withUnsafeMutableBytes { device.read(into: $0) } == .eventPending)
        // A reader that retries without fetching the event gets nowhere.
        #expect(buffer.withUnsafeMutableBytes { device.read(into: $0) } == .eventPending)
        #expect(device.nextEvent() == ChannelEvent(.ringOffHook))
        #expect(device.nextEvent() == nil)
        #expect(buffer.withUnsafeMutableBytes { device.read(into: $0) } == .transferred(160))
        #expect(buffer.withUnsafeMutableBytes { device.read(into: $0) } == .wouldBlock)
    }

    @Test("a D-channel frame round trip: reads carry the 2 FCS bytes, writes leave room for them")
    func frameRoundTrip() throws {
        let kernel = kernel()
        let device = try DAHDIBackend(system: kernel.system).openChannel(16)
        let frame: [UInt8] = [0x02, 0x01, 0x7F]
        kernel.received[16] = [frame + [0xAB, 0xCD]]
        var buffer = [UInt8](repeating: 0, count: 1024)
        #expect(buffer.withUnsafeMutableBytes { device.read(into: $0) } == .transferred(5))
        #expect(Array(buffer[0..<3]) == frame)
        let reply: [UInt8] = [0x02, 0x01, 0x73, 0, 0]
        #expect(reply.withUnsafeBytes { device.write($0) } == .transferred(5))
        #expect(kernel.written[16] == [reply])
    }

    @Test("EINTR in the middle of a write is retried; EAGAIN is not an error")
    func interruptedWrite() throws {
        let kernel = kernel()
        let device = try DAHDIBackend(system: kernel.system).openChannel(1)
        kernel.failures["write"] = [EINTR, EINTR]
        let audio = [UInt8](repeating: 0x55, count: 160)
        #expect(audio.withUnsafeBytes { device.write($0) } == .transferred(160))
        #expect(kernel.callNames().filter { $0 == "write" }.count == 3)
        kernel.failures["write"] = [EAGAIN]
        #expect(audio.withUnsafeBytes { device.write($0) } == .wouldBlock)
        kernel.failures["read"] = [EINTR]
        var buffer = [UInt8](repeating: 0, count: 160)
        #expect(buffer.withUnsafeMutableBytes { device.read(into: $0) } == .wouldBlock)
        #expect(kernel.callNames().filter { $0 == "read" }.count == 2)
    }

    @Test("a channel that disappears: REMOVED event, then ENODEV on I/O and on ioctls")
    func removed() throws {
        let kernel = kernel()
        let device = try DAHDIBackend(system: kernel.system).openChannel(33)
        kernel.events[33] = [ChannelEvent.Kind.removed.rawValue]
        var buffer = [UInt8](repeating: 0, count: 160)
        #expect(buffer.withUnsafeMutableBytes { device.read(into: $0) } == .eventPending)
        #expect(device.nextEvent() == ChannelEvent(.removed))
        kernel.failures["read"] = [ENODEV]
        #expect(buffer.withUnsafeMutableBytes { device.read(into: $0) } == .removed)
        kernel.failures["DAHDI_GETEVENT"] = [ENODEV]
        #expect(device.nextEvent() == ChannelEvent(.removed))
        kernel.failures["DAHDI_HOOK"] = [ENODEV]
        #expect(throws: TrunkError.self) { try device.hook(.offHook) }
    }

    @Test("hook, law, polarity and cadence reach the kernel with their values; failures name the call")
    func controls() throws {
        let kernel = kernel()
        let device = try DAHDIBackend(system: kernel.system).openChannel(33)
        try device.hook(.ring)
        try device.setLaw(.mulaw)
        try device.setPolarity(reversed: true)
        try device.setRingCadence([1000, 4000])
        let controls = kernel.calls.suffix(4)
        #expect(controls.map(\.name) == ["DAHDI_HOOK", "DAHDI_SETLAW", "DAHDI_SETPOLARITY", "DAHDI_SETCADENCE"])
        #expect(controls.map(\.value) == [HookOperation.ring.rawValue, Int32(DAHDI_LAW_MULAW), 1, nil])
        kernel.failures["DAHDI_HOOK"] = [EBUSY]
        do {
            try device.hook(.offHook)
            Issue.record("a failed DAHDI_HOOK must throw")
        } catch {
            #expect(error.message.contains("channel 33: DAHDI_HOOK: device or resource busy"))
        }
    }

    @Test("errors name the device and the errno in words")
    func openErrors() throws {
        let kernel = kernel()
        kernel.failures["open"] = [EACCES]
        do {
            _ = try DAHDIBackend(system: kernel.system).openChannel(1)
            Issue.record("open must fail")
        } catch {
            #expect(error.message == "/dev/dahdi/channel: permission denied — is trunkd in group trunkline?")
        }
        #expect(throws: TrunkError.self) { _ = try DAHDIBackend(system: kernel.system).openChannel(99) }
        kernel.existingPaths = []
        do {
            _ = try DAHDIBackend(system: kernel.system).discover()
            Issue.record("discovery must fail without /dev/dahdi")
        } catch {
            #expect(error.message.hasPrefix("no DAHDI devices found"))
        }
        #expect(!DAHDIBackend(system: kernel.system).devicesPresent)
    }

    @Test("discovery reads spans like dahdi_scan, and alarm transitions show in SPANSTAT")
    func discoveryAndAlarms() throws {
        let kernel = kernel()
        kernel.spans[1] = .init(name: "TE2/0/1", type: "E1", alarms: [], totalChannels: 31)
        kernel.spans[2] = .init(name: "WCTDM/0", type: "", alarms: [], totalChannels: 2)
        let backend = DAHDIBackend(system: kernel.system)
        var spans = try backend.discover()
        #expect(spans.map(\.number) == [1, 2])
        #expect(spans[0].spanType == "E1" && spans[0].name == "TE2/0/1" && spans[0].baseChannel == 1)
        #expect(spans[0].channels.first { $0.chanPos == 16 }?.signalling == .hdlc)
        #expect(spans[1].baseChannel == 32 && spans[1].isAnalog)
        #expect(spans[1].channels.map { $0.signalling.portName } == ["FXO", "FXS"])

        kernel.spans[1]!.alarms = [.red, .los]
        kernel.spans[1]!.bpv = 17
        spans = try backend.discover()
        #expect(spans[0].alarms == [.red, .los])
        #expect(spans[0].counters.bipolarViolations == 17)
        #expect(backend.spanStatuses().first?.alarms == [.red, .los])
        kernel.spans[1]!.alarms = []
        #expect(try backend.discover()[0].alarms.isEmpty)
    }

    @Test("readiness with poll: POLLPRI means an event is waiting, POLLIN data")
    func readiness() throws {
        let kernel = kernel()
        let device = try #require(try DAHDIBackend(system: kernel.system).openChannel(33) as? DAHDIChannelDevice)
        #expect(device.waitReady(timeoutMs: 0) == .timeout)
        kernel.received[33] = [Array(repeating: 0, count: 160)]
        #expect(device.waitReady(timeoutMs: 0) == .readable)
        kernel.events[33] = [ChannelEvent.Kind.ringBegin.rawValue]
        #expect(device.waitReady(timeoutMs: 0) == .event)
        #expect(device.nextEvent() == ChannelEvent(.ringBegin))
        #expect(device.waitReady(timeoutMs: 0) == .readable)
        kernel.failures["poll"] = [EINTR]
        #expect(device.waitReady(timeoutMs: 0) == .readable)
    }

    @Test("timing from /dev/dahdi/timer: TIMERCONFIG in samples, POLLPRI per expiry, each acknowledged")
    func timer() throws {
        let kernel = kernel()
        let timer = try DAHDITimer(samples: 160, system: kernel.system)
        #expect(kernel.timerConfigured == 160)
        #expect(try timer.wait(timeoutMs: 0) == 0)
        kernel.timerExpiries = 3
        #expect(try timer.wait(timeoutMs: 20) == 3)
        #expect(kernel.callNames().filter { $0 == "DAHDI_TIMERACK" }.count == 3)
        #expect(kernel.timerExpiries == 0)
        #expect(throws: TrunkError.self) { _ = try DAHDITimer(samples: 5, system: kernel.system) }
    }

    @Test("the kernel echo canceller is switched off (0 taps) when Trunkline's own runs, on with a tail when configured")
    func kernelEchoCanceller() throws {
        let kernel = kernel()
        let device = try #require(try DAHDIBackend(system: kernel.system).openChannel(3) as? DAHDIChannelDevice)
        try device.setKernelEchoCanceller(taps: 0)
        try device.setKernelEchoCanceller(taps: 128)
        let calls = kernel.calls.filter { $0.name == "DAHDI_ECHOCANCEL_PARAMS" }
        #expect(calls.map(\.value) == [0, 128])
    }
}
