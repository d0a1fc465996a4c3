import Testing
import TrunkCore
@testable import TrunkHardware

@Suite("Simulated analog lines (FXS port wired to FXO port)")
struct AnalogLineTests {
    struct Pair {
        let simulator: LineSimulator
        let fxs: any ChannelDevice
        let fxo: any ChannelDevice
        var fxsEvents = TimedEvents()
        var fxoEvents = TimedEvents()

        init(port: Int = 1) throws {
            simulator = try LineSimulator()
            fxs = try simulator.openChannel(Lab.fxsPort(port))
            fxo = try simulator.openChannel(Lab.fxoPort(port))
        }

        mutating func run(ms: Int) {
            for _ in 0..<ms {
                simulator.tick()
                let now = simulator.tickCount
                fxsEvents.collect(from: fxs, at: now)
                fxoEvents.collect(from: fxo, at: now)
                // Audio is read and dropped, as a media loop would, so buffers never overrun.
                while fxs.readBytes() != nil {}
                while fxo.readBytes() != nil {}
            }
        }
    }

    @Test("an FXS ring reaches the FXO as ring events with China's 1 s on / 4 s off cadence")
    func chinaRingCadence() throws {
        var pair = try Pair()
        try pair.fxs.hook(.ring)
        pair.run(ms: 16_000)
        let begins = pair.fxoEvents.ticks(of: .ringBegin)
        let ends = pair.fxoEvents.ticks(of: .ringOffHook)
        #expect(begins.count == 4)
        #expect(ends.count == 3)
        for (first, second) in zip(begins, begins.dropFirst()) { #expect(second - first == 5000) }
        // RINGBEGIN on the first tick of ringing voltage, RINGOFFHOOK on the 50th tick without
        // (DAHDI's ring trailer): the 1000 ms burst plus 49.
        for (begin, end) in zip(begins, ends) { #expect(end - begin == 1000 + AnalogTiming().ringTrailerMs - 1) }
        let ringerOn = pair.fxsEvents.ticks(of: .ringerOn)
        let ringerOff = pair.fxsEvents.ticks(of: .ringerOff)
        #expect(ringerOn.count == 4 && ringerOff.count == 3)
        for (on, off) in zip(ringerOn, ringerOff) { #expect(off - on == 1000) }
    }

    @Test("a distinctive cadence is followed burst by burst")
    func distinctiveCadence() throws {
        var pair = try Pair(port: 2)
        try pair.fxs.setRingCadence([400, 200, 400, 2000])
        try pair.fxs.hook(.ring)
        pair.run(ms: 6_000)
        let begins = pair.fxoEvents.ticks(of: .ringBegin)
        #expect(zip(begins, begins.dropFirst()).map { $0.1 - $0.0 } == [600, 2400, 600])
        try pair.fxs.hook(.ringOff)
        let before = pair.fxoEvents.ticks(of: .ringBegin).count
        pair.run(ms: 6_000)
        #expect(pair.fxoEvents.ticks(of: .ringBegin).count == before)
    }

    @Test("answer, polarity reversal, flash, hang-up and kewl disconnect propagate with DAHDI's timing")
    func hookAndPolarity() throws {
        var pair = try Pair(port: 3)
        try pair.fxs.hook(.ring)
        pair.run(ms: 300)
        try pair.fxo.hook(.offHook)
        pair.run(ms: 10)
        #expect(pair.fxsEvents.kinds == [.ringerOn, .ringOffHook])
        #expect(pair.fxo.parameters().hookState == .offHook)
        #expect(pair.fxs.parameters().hookState == .offHook)

        try pair.fxs.setPolarity(reversed: true)
        pair.run(ms: 5)
        #expect(pair.fxoEvents.kinds.last == .polarity)
        #expect(pair.fxo.parameters().polarityReversed)

        try pair.fxo.hook(.flash)
        pair.run(ms: 800)
        #expect(pair.fxsEvents.kinds.last == .winkFlash)
        #expect(pair.fxoEvents.kinds.last == .hookComplete)
        // A 750 ms break is a flash, not a hang-up.
        #expect(!pair.fxsEvents.kinds.contains(.onHook))

        // The far end hangs up by dropping battery (kewl start): the FXO sees ONHOOK at once.
        try pair.fxs.hook(.onHook)
        pair.run(ms: 5)
        #expect(pair.fxoEvents.kinds.last == .onHook)

        // Going on hook is reported only after the 1250 ms flash window has passed.
        try pair.fxo.hook(.onHook)
        let hungUpAt = pair.simulator.tickCount
        pair.run(ms: 1300)
        let onHookAt = try #require(pair.fxsEvents.ticks(of: .onHook).last)
        #expect(onHookAt - hungUpAt >= 1250 && onHookAt - hungUpAt <= 1252)
    }

    @Test("dial pulses from the FXO side become a PULSEDIGIT on the FXS side")
    func pulseDialling() throws {
        var pair = try Pair(port: 4)
        try pair.fxo.hook(.offHook)
        pair.run(ms: 100)
        for _ in 0..<3 {
            try pair.fxo.hook(.onHook)
            pair.run(ms: 60)
            try pair.fxo.hook(.offHook)
            pair.run(ms: 40)
        }
        pair.run(ms: 400)
        let digits = pair.fxsEvents.events.filter { $0.event.kind == .pulseDigit }.map(\.event.digit)
        #expect(digits == [UInt8(ascii: "3")])
        #expect(pair.fxsEvents.kinds.contains(.pulseStart))
        #expect(!pair.fxsEvents.kinds.contains(.onHook))
    }

    @Test("audio passes both ways; an echo path returns the port's own signal at the set loss")
    func audioAndEcho() throws {
        let pair = try Pair()
        for device in [pair.fxs, pair.fxo] {
            try device.setLinear(true)
            try device.setBlockSize(8)
            try device.setBufferPolicy(.immediate, buffers: 32)
        }
        func tone(_ frequency: Double, samples: Int) -> [UInt8] {
            var bytes: [UInt8] = []
            for n in 0..<samples {
                let value = Int16(8000 * sin(2 * Double.pi * frequency * Double(n) / 8000))
                bytes += [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)]
            }
            return bytes
        }
        func power(_ bytes: [UInt8]) -> Double {
            let samples = stride(from: 0, to: bytes.count - 1, by: 2).map { Double(Int16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8)) }
            return samples.reduce(0) { $0 + $1 * $1 } / Double(max(samples.count, 1))
        }
        func exchange(_ send: [UInt8], on sender: any ChannelDevice, readFrom receiver: any ChannelDevice) -> [UInt8] {
            var got: [UInt8] = []
            var pending = send[...]
            for _ in 0..<(send.count / 16 + 20) {
                if !pending.isEmpty {
                    let chunk = Array(pending.prefix(16))
                    sender.write(chunk)
                    pending = pending.dropFirst(chunk.count)
                }
                pair.simulator.tick()
                _ = receiver.drainEvents()
                _ = sender.drainEvents()
                while let bytes = receiver.readBytes() { got += bytes }
                while sender.readBytes() != nil {}
            }
            return got
        }
        let signal = tone(1000, samples: 4000)
        let heardAtFXO = exchange(signal, on: pair.fxs, readFrom: pair.fxo)
        #expect(abs(power(heardAtFXO) / power(signal) - 1) < 0.05)
        let heardAtFXS = exchange(signal, on: pair.fxo, readFrom: pair.fxs)
        #expect(abs(power(heardAtFXS) / power(signal) - 1) < 0.05)

        // With a G.168 echo path at 10 dB ERL on the FXO card, the FXO hears itself back.
        var impairments = Impairments()
        impairments.echoModel = 1
        impairments.echoReturnLossDB = 10
        impairments.echoDelayMs = 5
        try pair.simulator.setImpairments(impairments, span: 4)
        var echo: [UInt8] = []
        var random = TestRandom(state: 3)
        var noise: [UInt8] = []
        for _ in 0..<8000 {
            let value = Int16(truncatingIfNeeded: Int(random.next() % 16000) - 8000)
            noise += [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)]
        }
        _ = pair.fxo.drainEvents()
        var pending = noise[...]
        while !pending.isEmpty {
            pair.fxo.write(Array(pending.prefix(16)))
            pending = pending.dropFirst(16)
            pair.simulator.tick()
            while let bytes = pair.fxo.readBytes() { echo += bytes }
        }
        // White noise comes back attenuated by the configured 10 dB (A-law adds a little noise).
        let erl = 10 * log10(power(noise) / power(Array(echo.dropFirst(400))))
        #expect(abs(erl - 10) < 1.0, "measured ERL \(erl) dB")
    }
}

#if canImport(Glibc)
import Glibc
#endif
