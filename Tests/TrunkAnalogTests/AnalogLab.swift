#if canImport(Glibc)
import Glibc
#endif
import G168Harness
import TrunkAnalog
import TrunkCore
import TrunkHardware
import TrunkMedia

/// Channel numbers of the embedded default lab's analog pairs.
enum LabPorts {
    static func fxs(_ port: Int) -> Int { 62 + port }
    static func fxo(_ port: Int) -> Int { 66 + port }
}

/// An FXS port driver and an FXO port driver on one simulated pair. Each millisecond the test
/// loop does what the media loop will: poll both drivers, take 8 samples each wants to send and
/// write them to its device, tick the simulator, read what each device received and hand it to
/// its driver. Audio is 16-bit linear at the devices (A-law on the simulated wire).
final class AnalogLab {
    let simulator: LineSimulator
    let fxsDevice: any ChannelDevice
    let fxoDevice: any ChannelDevice
    let fxs: AnalogPortDriver<FXSPort>
    let fxo: AnalogPortDriver<FXOPort>
    var fxsIndications: [(indication: AnalogIndication, at: AnalogInstant)] = []
    var fxoIndications: [(indication: AnalogIndication, at: AnalogInstant)] = []
    /// Extra audio each side talks (mixed over whatever its driver sends), sample by sample.
    var fxsTalk: [Int16] = []
    var fxoTalk: [Int16] = []
    private var fxsTalkIndex = 0
    private var fxoTalkIndex = 0
    /// What each side's driver was given as received audio.
    var heardAtFXS: [Int16] = []
    var heardAtFXO: [Int16] = []
    var recording = false
    /// White noise added to what the FXO receives, RMS in linear units (line noise).
    var fxoNoiseRMS: Float = 0
    private var random = TestRandom(seed: 99)

    var now: AnalogInstant { AnalogInstant(milliseconds: Int64(simulator.tickCount)) }

    init(port: Int = 1, fxsConfiguration: FXSConfiguration = FXSConfiguration(), fxoConfiguration: FXOConfiguration = FXOConfiguration(),
         fxsDetectors: [any AudioDetector] = [], fxoDetectors: [any AudioDetector] = [],
         tones: ToneZone? = nil, callerIDLevelDBm0: Float = -13.5, dtmfLevelDBm0: Int32 = -9,
         callProgress: CallProgressAnalysisConfiguration? = nil) throws {
        simulator = try LineSimulator()
        fxsDevice = try simulator.openChannel(LabPorts.fxs(port))
        fxoDevice = try simulator.openChannel(LabPorts.fxo(port))
        for device in [fxsDevice, fxoDevice] {
            try device.setLinear(true)
            try device.setBlockSize(8)
            try device.setBufferPolicy(.immediate, buffers: 32)
        }
        fxs = AnalogPortDriver(machine: FXSPort(configuration: fxsConfiguration), device: fxsDevice, detectors: fxsDetectors,
                               tones: tones, callerIDLevelDBm0: callerIDLevelDBm0, dtmfLevelDBm0: dtmfLevelDBm0)
        fxo = AnalogPortDriver(machine: FXOPort(configuration: fxoConfiguration), device: fxoDevice, detectors: fxoDetectors,
                               tones: tones, callProgress: callProgress)
    }

    func run(ms: Int, until stop: ((AnalogLab) -> Bool)? = nil) {
        var block = [Int16](repeating: 0, count: 8)
        for _ in 0..<ms {
            fxs.poll(now: now)
            fxo.poll(now: now)
            send(from: fxs, to: fxsDevice, talk: fxsTalk, index: &fxsTalkIndex, block: &block)
            send(from: fxo, to: fxoDevice, talk: fxoTalk, index: &fxoTalkIndex, block: &block)
            simulator.tick()
            fxs.poll(now: now)
            fxo.poll(now: now)
            receive(into: fxs, from: fxsDevice, noiseRMS: 0, heard: &heardAtFXS)
            receive(into: fxo, from: fxoDevice, noiseRMS: fxoNoiseRMS, heard: &heardAtFXO)
            while let item = fxs.nextIndication() { fxsIndications.append(item) }
            while let item = fxo.nextIndication() { fxoIndications.append(item) }
            if let stop, stop(self) { return }
        }
    }

    private func send<M>(from driver: AnalogPortDriver<M>, to device: any ChannelDevice, talk: [Int16], index: inout Int, block: inout [Int16]) {
        _ = block.withUnsafeMutableBufferPointer { driver.transmit(into: $0, now: now) }
        for lane in 0..<8 where index < talk.count {
            block[lane] = Int16(clamping: Int(block[lane]) + Int(talk[index]))
            index += 1
        }
        _ = block.withUnsafeBytes { device.write($0) }
    }

    private func receive<M>(into driver: AnalogPortDriver<M>, from device: any ChannelDevice, noiseRMS: Float, heard: inout [Int16]) {
        var samples = [Int16](repeating: 0, count: 8)
        while true {
            let result = samples.withUnsafeMutableBytes { device.read(into: $0) }
            guard case .transferred(let bytes) = result, bytes == 16 else { return }
            if noiseRMS > 0 {
                for lane in 0..<8 { samples[lane] = Int16(clamping: Int((Float(samples[lane]) + noiseRMS * Float(random.gaussian())).rounded())) }
            }
            if recording { heard += samples }
            samples.withUnsafeBufferPointer { driver.process(received: $0, now: now) }
        }
    }

    func fxsRequest(_ body: (inout FXSPort, AnalogInstant, inout [AnalogAction]) -> Void) { fxs.request(now: now, body) }
    func fxoRequest(_ body: (inout FXOPort, AnalogInstant, inout [AnalogAction]) -> Void) { fxo.request(now: now, body) }

    func fxoSaw(_ match: (AnalogIndication) -> Bool) -> AnalogInstant? { fxoIndications.first { match($0.indication) }?.at }
    func fxsSaw(_ match: (AnalogIndication) -> Bool) -> AnalogInstant? { fxsIndications.first { match($0.indication) }?.at }
}

/// Level helpers for the tests.
enum Level {
    static func dBm0(_ samples: ArraySlice<Int16>) -> Float {
        let power = samples.reduce(Float(0)) { $0 + Float($1) * Float($1) } / Float(max(samples.count, 1))
        return SignalLevel.dBm0(power: power)
    }

    static func tone(_ frequency: Float, dBm0 level: Float, samples: Int) -> [Int16] {
        let amplitude = SignalLevel.rms(dBm0: level) * Float(2).squareRoot()
        return (0..<samples).map { Int16((amplitude * sinf(2 * Float.pi * frequency * Float($0) / 8000)).rounded()) }
    }

    static func noise(dBm0 level: Float, samples: Int, seed: UInt64 = 5) -> [Int16] {
        var random = TestRandom(seed: seed)
        let rms = SignalLevel.rms(dBm0: level)
        return (0..<samples).map { _ in Int16(clamping: Int((rms * Float(random.gaussian())).rounded())) }
    }

    /// Power of `frequency` in `samples` relative to their total power (Goertzel), in dB.
    static func share(of frequency: Float, in samples: ArraySlice<Int16>) -> Float {
        let coefficient = 2 * cosf(2 * Float.pi * frequency / 8000)
        var s1: Float = 0
        var s2: Float = 0
        var total: Float = 0
        for sample in samples {
            let x = Float(sample)
            total += x * x
            let s0 = x + coefficient * s1 - s2
            s2 = s1
            s1 = s0
        }
        let tonePower = (s1 * s1 + s2 * s2 - coefficient * s1 * s2) * 2 / Float(samples.count)
        return 10 * log10f(max(tonePower, 1e-9) / max(total, 1e-9))
    }
}
