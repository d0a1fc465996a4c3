import CDAHDI
import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
@testable import TrunkGateway
import TrunkCore
import TrunkHardware
import TrunkMedia

/// Line tests on the DAHDI backend, at its syscall seam: the media engine opens the card's
/// channel through `DAHDIBackend` (open, DAHDI_SPECIFY, …, read/write of A-law blocks, close),
/// exactly the path it takes on the simulator. The stand-in kernel plays a tone into channel 6
/// and keeps what is written to channel 5.
@Suite("Line tests on the DAHDI backend's seam", .serialized)
struct LineTestDAHDISeamTests {
    /// One E1 span's bearer channels 1-31; reads of channel 6 return `toneDBm0` at 1004 Hz.
    final class CardKernel: @unchecked Sendable {
        private let lock = NIOLock()
        private var nextFD: Int32 = 10
        private var bound: [Int32: Int32] = [:]
        private var phase = 0
        private(set) var written: [Int32: [UInt8]] = [:]
        private(set) var closed: [Int32] = []
        let toneDBm0: Float

        init(toneDBm0: Float) { self.toneDBm0 = toneDBm0 }

        var system: DAHDISystem {
            DAHDISystem(
                open: { [self] _, _ in lock.withLock { nextFD += 1; return SyscallResult(value: Int(nextFD)) } },
                close: { [self] fd in lock.withLock { closed.append(bound[fd] ?? -1) }; return SyscallResult(value: 0) },
                ioctl: { [self] fd, request, argument in
                    if request == CDAHDI_SPECIFY { lock.withLock { bound[fd] = argument!.load(as: Int32.self) } }
                    if request == CDAHDI_GET_PARAMS {
                        let parameters = argument!.assumingMemoryBound(to: dahdi_params.self)
                        parameters.pointee.sigtype = CDAHDI_SIG_CLEAR
                        parameters.pointee.chanpos = lock.withLock { bound[fd] ?? 0 }
                        parameters.pointee.curlaw = Int32(DAHDI_LAW_ALAW)
                    }
                    return SyscallResult(value: 0)
                },
                read: { [self] fd, buffer in
                    let channel = lock.withLock { bound[fd] }
                    guard channel == 6 else { return SyscallResult(value: -1, errno: EAGAIN) }
                    let amplitude = Double(SignalLevel.rms(dBm0: toneDBm0)) * 2.0.squareRoot()
                    lock.withLock {
                        for index in 0..<buffer.count {
                            buffer[index] = G711.linearToAlaw(Int16((amplitude * sin(2 * .pi * 1004 * Double(phase) / 8000)).rounded()))
                            phase += 1
                        }
                    }
                    return SyscallResult(value: buffer.count)
                },
                write: { [self] fd, bytes in
                    lock.withLock { if let channel = bound[fd] { written[channel, default: []] += Array(bytes) } }
                    return SyscallResult(value: bytes.count)
                },
                poll: { _, _, _ in (SyscallResult(value: 0), 0) },
                fileExists: { _ in true })
        }

        func bytes(written channel: Int32) -> [UInt8] { lock.withLock { written[channel] ?? [] } }
        func wasClosed(_ channel: Int32) -> Bool { lock.withLock { closed.contains(channel) } }
    }

    static func engine(_ kernel: CardKernel) -> (CallMediaEngine, LineTests) {
        let loop = MediaLoop(configuration: MediaLoopConfiguration(blockSize: .ms8, maximumChannels: 32, maximumConferences: 2))
        let engine = CallMediaEngine(loop: loop, backend: DAHDIBackend(system: kernel.system), numbering: ChannelNumbering(spans: [(1, 1, 31)]))
        return (engine, LineTests(engine: engine, logger: Logger(label: "test")))
    }

    @Test("a test tone on a card's B-channel is written to the device at its frequency and level; off, the channel is closed")
    func toneOnCard() throws {
        let kernel = CardKernel(toneDBm0: -30)
        let (engine, tests) = Self.engine(kernel)
        _ = try tests.startTone(ChannelAddress(span: 1, channel: 5), frequencyHz: 1004, levelDBm0: -10, seconds: nil)
        for _ in 0..<1_200 {
            engine.loop.tick()
            engine.pump()
        }
        let sent = kernel.bytes(written: 5).dropFirst(800).map(G711.alawToLinear)
        #expect(sent.count > 6_000)
        var meter = LevelMeter()
        meter.add(Array(sent))
        var frequency = DominantFrequency()
        frequency.add(Array(sent))
        #expect(abs(meter.rmsDBm0 + 10) < 0.3, "\(meter.rmsDBm0) dBm0")
        #expect(abs((frequency.estimate() ?? 0) - 1004) < 1)
        try tests.stopTone(ChannelAddress(span: 1, channel: 5))
        for _ in 0..<20 {
            engine.loop.tick()
            engine.pump()
        }
        #expect(kernel.wasClosed(5), "the test's channel is closed once the tone is off")
    }

    @Test("a level measurement on a card's B-channel reads what the device delivers")
    func levelOnCard() async throws {
        let kernel = CardKernel(toneDBm0: -20)
        let (engine, tests) = Self.engine(kernel)
        let running = NIOLockedValueBox(true)
        // The card's 1 ms interrupt, as the DAHDI timer would give it.
        let ticker = Thread {
            while running.withLockedValue({ $0 }) {
                engine.loop.tick()
                engine.pump()
                usleep(1_000)
            }
        }
        ticker.start()
        defer { running.withLockedValue { $0 = false } }
        let report = try await tests.measureLevel(ChannelLevelParams(span: 1, channel: 6, seconds: 0.5))
        #expect(abs(report.levelDBm0 + 20) < 0.3 && abs((report.frequencyHz ?? 0) - 1004) < 1.5, "\(report)")
        #expect(report.samples == 4_000)
    }
}
