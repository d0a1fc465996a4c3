import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import TrunkCore
import TrunkMedia

/// Line tests on a live channel, as a transmission test set does them: send a test tone,
/// measure level and frequency, listen. Everything runs through the media loop — a tone is a
/// playback, listening is the channel's line-test tap (a slot apart from the recording tap),
/// drained here off the loop every 20 ms — so a test never adds work or waits to the loop,
/// and a slow listener only makes its own tap drop (counted, reported).
///
/// A test on a channel with a call uses the call's channel; on an idle one the media engine
/// puts the device in the loop for the test (see `CallMediaEngine.holdForLineTest`).
public final class LineTests: Sendable {
    /// What the tone generator can send: under the 4 kHz Nyquist limit with room for the
    /// A-law's anti-alias roll-off, and no louder than the +3.14 dBm0 sine the A-law carries.
    public static let frequencies = 50...3950
    public static let levels = -60.0...3.0
    /// A tone without `--seconds` stops at `off` or after this long.
    public static let longestToneSeconds = 86_400.0
    /// `chan level` windows.
    public static let levelSeconds = 0.3...60.0
    /// Left out of a measurement at its start: the first blocks of a channel just put in the
    /// loop can still hold what its buffers had before.
    static let settlingSamples = 320
    static let pollInterval = Duration.milliseconds(20)

    private let engine: CallMediaEngine
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    private struct Tone {
        var token: UInt64
        var report: ChannelToneReport
    }

    private struct State {
        var tones: [ChannelAddress: Tone] = [:]
        var listening: Set<ChannelAddress> = []
        var nextToken: UInt64 = 1
    }

    public init(engine: CallMediaEngine, logger: Logger) {
        self.engine = engine
        self.logger = logger
    }

    // MARK: test tone

    /// Sends a sine of `frequencyHz` at `levelDBm0` on `address` (replacing a tone already
    /// there) for `seconds`, or until `stopTone`.
    public func startTone(_ address: ChannelAddress, frequencyHz: Int, levelDBm0: Double, seconds: Double?) throws(TrunkError) -> ChannelToneReport {
        guard Self.frequencies.contains(frequencyHz) else {
            throw TrunkError(.invalidArgument, "\(frequencyHz) Hz is outside what the tone generator sends at 8 kHz: \(Self.frequencies.lowerBound)-\(Self.frequencies.upperBound) Hz")
        }
        guard Self.levels.contains(levelDBm0) else {
            throw TrunkError(.invalidArgument, "\(Self.format(levelDBm0)) dBm0 is outside what the tone generator sends: \(Self.format(Self.levels.lowerBound)) to +\(Self.format(Self.levels.upperBound)) dBm0 (an A-law sine clips above +3.14 dBm0)")
        }
        if let seconds, !(seconds > 0 && seconds <= Self.longestToneSeconds) {
            throw TrunkError(.invalidArgument, "--seconds must be more than 0 and at most \(Int(Self.longestToneSeconds)), not \(seconds)")
        }
        if let call = engine.call(on: address) {
            throw TrunkError(.busy, "channel \(address) carries call \(call): a test tone would go to the caller; test it when the call has ended (block it first: trunkctl chan block \(address))")
        }
        let replacing = state.withLockedValue { $0.tones[address] != nil }
        let channel = try engine.holdForLineTest(address).channel
        if replacing { engine.releaseLineTest(address) }  // one hold per tone: the new tone keeps the old one's
        let durationMs = Int((seconds ?? Self.longestToneSeconds) * 1000)
        let source = ToneSequence(steps: [ToneSequence.Step(frequencies: [frequencyHz], levelDBm0: levelDBm0, durationMs: durationMs)])
        engine.sendLineTest(.stopPlayback(channel: channel))
        engine.sendLineTest(.play(channel: channel, source: source, id: 0, gain: .unity, mixWithSwitched: false))
        let report = ChannelToneReport(address: address.description, playing: true, frequencyHz: frequencyHz, levelDBm0: levelDBm0, seconds: seconds)
        let token = state.withLockedValue { state -> UInt64 in
            defer { state.nextToken += 1 }
            state.tones[address] = Tone(token: state.nextToken, report: report)
            return state.nextToken
        }
        logger.notice("test tone on", metadata: ["channel": "\(address)", "hz": "\(frequencyHz)", "dbm0": "\(levelDBm0)"])
        Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(durationMs))
            self?.stopTone(address, token: token)
        }
        return report
    }

    /// Stops the test tone on `address`.
    @discardableResult
    public func stopTone(_ address: ChannelAddress) throws(TrunkError) -> ChannelToneReport {
        guard stopTone(address, token: nil) else { throw TrunkError(.notFound, "channel \(address) sends no test tone") }
        return ChannelToneReport(address: address.description, playing: false)
    }

    /// Stops the tone if it is still the one `token` names (nil: whichever plays).
    @discardableResult
    private func stopTone(_ address: ChannelAddress, token: UInt64?) -> Bool {
        let stopped = state.withLockedValue { state -> Bool in
            guard let tone = state.tones[address], token == nil || tone.token == token else { return false }
            state.tones[address] = nil
            return true
        }
        guard stopped else { return false }
        // A call that took the channel over has stopped the tone already; its prompts stay.
        if let channel = engine.lineTestChannel(address), engine.call(on: address) == nil {
            engine.sendLineTest(.stopPlayback(channel: channel))
        }
        engine.releaseLineTest(address)
        logger.notice("test tone off", metadata: ["channel": "\(address)"])
        return true
    }

    /// Tones playing now (for `chan show`).
    public func tone(on address: ChannelAddress) -> ChannelToneReport? { state.withLockedValue { $0.tones[address]?.report } }

    // MARK: listening (level, monitor)

    /// Measures what `address` receives for `seconds`: RMS and peak level in dBm0 and the
    /// dominant frequency.
    public func measureLevel(_ params: ChannelLevelParams) async throws(TrunkError) -> ChannelLevelReport {
        let address = ChannelAddress(span: params.span, channel: params.channel)
        guard Self.levelSeconds.contains(params.seconds) else {
            throw TrunkError(.invalidArgument, "a level measurement lasts \(Self.format(Self.levelSeconds.lowerBound))-\(Int(Self.levelSeconds.upperBound)) s, not \(Self.format(params.seconds))")
        }
        let listener = try listen(address, point: params.preEchoCanceller ? .beforeEchoCanceller : .afterEchoCanceller)
        var meter = LevelMeter()
        var frequency = DominantFrequency()
        let wanted = Int(params.seconds * 8000)
        var skipped = 0
        let mono = UnsafeMutableBufferPointer<Int16>.allocate(capacity: listener.blockFrames)
        defer { mono.deallocate() }
        while meter.samples < wanted {
            try? await Task.sleep(for: Self.pollInterval)
            if Task.isCancelled { break }
            listener.drain { _, stereo in
                for frame in 0..<listener.blockFrames { mono[frame] = stereo[2 * frame] }
                var block = UnsafeBufferPointer(mono)
                if skipped < Self.settlingSamples {
                    let skip = min(Self.settlingSamples - skipped, block.count)
                    skipped += skip
                    block = UnsafeBufferPointer(rebasing: block[skip...])
                }
                let take = min(block.count, wanted - meter.samples)
                guard take > 0 else { return }
                let part = UnsafeBufferPointer(rebasing: block[..<take])
                meter.add(part)
                frequency.add(part)
            }
        }
        let (dropped, call) = (listener.droppedBlocks, engine.call(on: address))
        listener.stop()
        let silent = meter.meanSquare == 0
        return ChannelLevelReport(address: address.description, samples: meter.samples, seconds: Double(meter.samples) / 8000,
                                  levelDBm0: silent ? -99 : Self.rounded(Double(meter.rmsDBm0)),
                                  peakDBm0: silent ? -99 : Self.rounded(Double(meter.peakDBm0)),
                                  frequencyHz: frequency.estimate().map { ($0 * 10).rounded() / 10 }, droppedBlocks: dropped, call: call)
    }

    /// Streams what `address` carries to `stream` as A-law chunks until `seconds` of audio have
    /// gone out or the client is gone.
    public func monitor(_ params: ChannelMonitorParams, stream: ControlStream) async throws(TrunkError) -> ChannelMonitorReport {
        let address = ChannelAddress(span: params.span, channel: params.channel)
        if let seconds = params.seconds, !(seconds > 0 && seconds <= Self.longestToneSeconds) {
            throw TrunkError(.invalidArgument, "--seconds must be more than 0 and at most \(Int(Self.longestToneSeconds)), not \(seconds)")
        }
        let listener = try listen(address, point: params.preEchoCanceller ? .beforeEchoCanceller : .afterEchoCanceller)
        defer { listener.stop() }
        let channels = params.stereo ? 2 : 1
        let wanted = params.seconds.map { Int($0 * 8000) }
        var sent = 0
        var seq = 0
        var chunk: [UInt8] = []
        var chunkStart: UInt64 = 0
        var expected: UInt64?
        var pending: [MonitorChunk] = []
        logger.notice("monitor started", metadata: ["channel": "\(address)", "stereo": "\(params.stereo)"])
        func flush() {
            guard !chunk.isEmpty else { return }
            pending.append(MonitorChunk(seq: seq, sampleTime: chunkStart, frames: chunk.count / channels, channels: channels,
                                        alaw: Data(chunk).base64EncodedString(), droppedBlocks: listener.droppedBlocks))
            seq += 1
            chunk.removeAll(keepingCapacity: true)
        }
        let encoder = JSONEncoder()
        while wanted.map({ sent < $0 }) ?? true {
            try? await Task.sleep(for: Self.pollInterval)
            if Task.isCancelled { break }
            listener.drain { sampleTime, stereo in
                let left = wanted.map { $0 - sent } ?? Int.max
                guard left > 0 else { return }
                if expected != sampleTime { flush() }
                if chunk.isEmpty { chunkStart = sampleTime }
                let frames = min(listener.blockFrames, left)
                for frame in 0..<frames {
                    chunk.append(G711.linearToAlaw(stereo[2 * frame]))
                    if channels == 2 { chunk.append(G711.linearToAlaw(stereo[2 * frame + 1])) }
                }
                sent += frames
                expected = sampleTime &+ UInt64(listener.blockFrames)
            }
            flush()
            for item in pending {
                guard let line = try? encoder.encode(MonitorNotification(params: item)) else { continue }
                do {
                    try await stream.send(ByteBuffer(bytes: line))
                } catch {
                    logger.notice("monitor ended: the client went", metadata: ["channel": "\(address)", "frames": "\(sent)"])
                    return ChannelMonitorReport(address: address.description, frames: sent, channels: channels,
                                                droppedBlocks: listener.droppedBlocks, ended: "client")
                }
            }
            pending.removeAll()
        }
        logger.notice("monitor ended", metadata: ["channel": "\(address)", "frames": "\(sent)", "dropped": "\(listener.droppedBlocks)"])
        return ChannelMonitorReport(address: address.description, frames: sent, channels: channels, droppedBlocks: listener.droppedBlocks,
                                    ended: "seconds")
    }

    /// Attaches the line-test tap to `address` (one listener per channel at a time).
    private func listen(_ address: ChannelAddress, point: MediaTap.Point) throws(TrunkError) -> Listener {
        let taken = state.withLockedValue { $0.listening.insert(address).inserted }
        guard taken else {
            throw TrunkError(.busy, "channel \(address) already has a line test listening (chan monitor or chan level); wait for it to end")
        }
        do throws(TrunkError) {
            let channel = try engine.holdForLineTest(address).channel
            let frames = engine.loop.blockSamples
            // Two seconds of blocks: the drain runs every 20 ms, so this only covers a stalled client.
            let tap = MediaTap(id: UInt32(bitPattern: channel), point: point, blockFrames: frames, capacityBlocks: max(4, 16_000 / frames))
            engine.sendLineTest(.attachLineTestTap(channel: channel, tap: tap))
            return Listener(tests: self, address: address, channel: channel, tap: tap)
        } catch {
            _ = state.withLockedValue { $0.listening.remove(address) }
            throw error
        }
    }

    fileprivate func stopListening(_ listener: Listener) {
        engine.sendLineTest(.detachLineTestTap(channel: listener.channel))
        engine.releaseLineTest(listener.address)
        _ = state.withLockedValue { $0.listening.remove(listener.address) }
    }

    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// One line test's tap on a channel, drained off the loop.
private final class Listener {
    let tests: LineTests
    let address: ChannelAddress
    let channel: Int32
    let tap: MediaTap
    private let buffer: UnsafeMutableBufferPointer<Int16>
    private var stopped = false

    init(tests: LineTests, address: ChannelAddress, channel: Int32, tap: MediaTap) {
        self.tests = tests
        self.address = address
        self.channel = channel
        self.tap = tap
        buffer = .allocate(capacity: tap.ring.blockFrames * 2)
    }

    deinit {
        stop()
        buffer.deallocate()
    }

    var blockFrames: Int { tap.ring.blockFrames }
    var droppedBlocks: UInt64 { tap.ring.overflowCount }

    /// Hands each waiting block (interleaved left/right) with its sample time to `body`.
    func drain(_ body: (UInt64, UnsafeBufferPointer<Int16>) -> Void) {
        while let time = tap.ring.pop(into: buffer) { body(time, UnsafeBufferPointer(buffer)) }
    }

    func stop() {
        guard !stopped else { return }
        stopped = true
        tests.stopListening(self)
    }
}
