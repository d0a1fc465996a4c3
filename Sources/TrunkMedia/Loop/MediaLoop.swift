import TrunkCore
import TrunkHardware

/// The real-time media loop: once per block, for every channel, read → decode → echo
/// canceller → detectors → taps → switching (cross-connects, conferences) → playback → gains
/// → encode → write.
///
/// Threading: `tick()` belongs to one thread, the loop thread. Everything else
/// talks to it through bounded lock-free queues: `send(_:)` (one producer: callers serialise),
/// `nextEvent()` and `releaseRetired()` (one consumer). A tick allocates nothing, takes no
/// lock, logs nothing and makes no system call other than the channels' reads and writes;
/// objects it lets go of (removed channels, finished sources) go back through the retired
/// queue, so even freeing memory happens on the control side.
///
/// Phases: the hardware ticks every millisecond, and a block is 1, 8 or 20 ticks long. Each
/// channel belongs to one phase (0 ..< ticksPerBlock) and is processed on the ticks of its
/// phase, a whole block at a time, so every tick carries about 1/ticksPerBlock of the
/// channels: long blocks (for throughput: the echo canceller's state is used for 160 samples
/// at once, not 8) without the burst of work, and the lateness, of processing every channel
/// on the same tick. New channels go to the least loaded phase. Channels that switch to each
/// other share a phase: a cross-connect or conference moves the joining channel to its
/// partners' phase, so that they exchange blocks of the same instant (one block of audio may
/// be repeated or delayed at that moment).
///
/// A phase's work runs in two passes so that switching sees every channel's block of the same
/// tick: the receive pass reads and cleans up each channel and puts conference audio on the
/// mix buses; the transmit pass builds each channel's output from its peer or conference,
/// plays, encodes and writes.
public final class MediaLoop: @unchecked Sendable {
    public let configuration: MediaLoopConfiguration
    public let blockSamples: Int
    public let statistics = MediaLoopStatistics()

    private let commands: SPSCQueue<MediaCommand>
    private let events: SPSCQueue<MediaEvent>
    private let retired: SPSCQueue<AnyObject>
    /// Channels in the loop, in the order they joined; capacity reserved up front.
    private var channels: [MediaChannel]
    /// The channels of each phase, each list with room for every channel (moves never allocate).
    private var phases: [[MediaChannel]]
    private let mixer: ConferenceMixer
    /// The phase processed on the next tick.
    private var nextPhase = 0
    /// The loop's own copy of the G.711 tables: reached through plain pointers, they cost no
    /// lazy-global check or reference counting per block.
    private let codec: G711Tables
    /// Device events forwarded per read or write; more wait for the channel's next turn.
    private static let deviceEventsPerCycle = 8

    public init(configuration: MediaLoopConfiguration = MediaLoopConfiguration()) {
        self.configuration = configuration
        blockSamples = configuration.blockSize.samples
        commands = SPSCQueue(capacity: configuration.commandCapacity)
        events = SPSCQueue(capacity: configuration.eventCapacity)
        // Room for everything the loop can let go of before the control side drains it.
        retired = SPSCQueue(capacity: configuration.maximumChannels + configuration.commandCapacity * 2)
        channels = []
        channels.reserveCapacity(configuration.maximumChannels)
        phases = (0..<configuration.blockSize.ticksPerBlock).map { _ in
            var list: [MediaChannel] = []
            list.reserveCapacity(configuration.maximumChannels)
            return list
        }
        mixer = ConferenceMixer(conferences: configuration.maximumConferences, blockSamples: configuration.blockSize.samples)
        codec = G711Tables()
    }

    // MARK: control side

    /// Queues a command for the next tick; false when the command queue is full.
    @discardableResult
    public func send(_ command: MediaCommand) -> Bool { commands.push(command) }

    /// The oldest event not yet taken.
    public func nextEvent() -> MediaEvent? { events.pop() }

    /// Drops, on the calling thread, what the loop has let go of; returns how many. Call it
    /// regularly from the control plane (it is where removed channels are finally freed).
    @discardableResult
    public func releaseRetired() -> Int {
        var count = 0
        while retired.pop() != nil { count += 1 }
        return count
    }

    /// Runs the loop on `simulator`'s ticking thread: one `tick()` per simulator tick.
    ///
    /// The simulator's tick is the hardware interrupt of the virtual card, and its thread the
    /// only one that can be sure the tick's audio is complete. Running the loop there, rather
    /// than waking a thread of our own each millisecond, saves two context switches per tick
    /// and their wake-up latency, and makes the loop deterministic when tests drive the
    /// simulator with `tick(count:)`. (On DAHDI, `MediaLoopThread` waits on the timer instead.)
    public func attach(to simulator: LineSimulator) {
        simulator.addTickObserver { [self] _ in tick() }
    }

    // MARK: loop thread

    /// One hardware tick (1 ms): applies the commands waiting, then one block for every
    /// channel of this tick's phase.
    public func tick() {
        applyCommands()
        let phase = nextPhase
        nextPhase = phase + 1 == phases.count ? 0 : phase + 1
        mixer.clear(phase: phase)
        let count = phases[phase].count
        for index in 0..<count { receive(phases[phase][index]) }
        for index in 0..<count { transmit(phases[phase][index]) }
        statistics.ticks.add(1, ordering: .relaxed)
    }

    /// One block for every channel: `ticksPerBlock` ticks at once.
    public func runBlock() {
        for _ in 0..<phases.count { tick() }
    }

    // MARK: receive pass

    private func receive(_ channel: MediaChannel) {
        let count = blockSamples
        var received = false
        if !channel.deviceGone {
            var result = channel.device.read(into: UnsafeMutableRawBufferPointer(start: channel.rxRaw, count: count))
            if case .eventPending = result {
                forwardDeviceEvents(channel)
                result = channel.device.read(into: UnsafeMutableRawBufferPointer(start: channel.rxRaw, count: count))
            }
            switch result {
            case .transferred(let bytes):
                received = bytes > 0
                if bytes < count { (channel.rxRaw + bytes).update(repeating: channel.law.silence, count: count - bytes) }
            case .wouldBlock, .eventPending:
                break
            case .removed:
                deviceRemoved(channel)
            case .failed:
                ioError(channel)
            }
        }
        if received {
            channel.counters.blocksReceived.add(1, ordering: .relaxed)
            channel.reportedIOError = false
            if !channel.sawMedia {
                channel.sawMedia = true
                emit(channel, .firstMedia)
            }
        } else {
            if !channel.deviceGone { channel.counters.receiveMisses.add(1, ordering: .relaxed) }
            channel.rxRaw.update(repeating: channel.law.silence, count: count)
        }

        codec.decode(channel.rxRaw, into: channel.rxDecoded, count: count, law: channel.law)

        if let canceller = channel.echoCanceller {
            canceller.process(reference: UnsafeBufferPointer(start: channel.txLinear, count: count),
                              nearEnd: UnsafeBufferPointer(start: channel.rxDecoded, count: count),
                              output: UnsafeMutableBufferPointer(start: channel.rxClean, count: count))
            let stats = canceller.stats
            channel.counters.echoERLECentibels.store(Int32(max(-1e6, min(1e6, stats.erleDecibels * 100))), ordering: .relaxed)
            if !channel.echoCancellerDisabledReported && stats.disabledByTone {
                channel.echoCancellerDisabledReported = true
                emit(channel, .echoCancellerDisabledByTone)
            }
        } else {
            channel.rxClean.update(from: channel.rxDecoded, count: count)
        }

        for slot in 0..<(channel.detectorCount > 0 ? MediaChannel.maximumDetectors : 0) {
            guard let detector = channel.detectors[slot] else { continue }
            detector.process(UnsafeBufferPointer(start: channel.rxClean, count: count), sampleTime: channel.rxSampleTime)
            while let detection = detector.nextDetection() {
                emit(MediaEvent(channel: channel.number, kind: .detection(detection.kind), sampleTime: detection.sampleTime))
            }
        }

        if channel.rxGain.isUnity {
            channel.rxSwitched.update(from: channel.rxClean, count: count)
        } else {
            let gain = channel.rxGain
            for index in 0..<count { channel.rxSwitched[index] = clampToInt16(gain.apply(Int32(channel.rxClean[index]))) }
        }

        if channel.conference >= 0 {
            mixer.contribute(channel.rxSwitched, conference: channel.conference, mode: channel.conferenceMode, muted: channel.muted)
        }
    }

    // MARK: transmit pass

    private func transmit(_ channel: MediaChannel) {
        let count = blockSamples
        if let peer = channel.peer, peer.echoCanceller == nil, peer.rxGain.isUnity, channel.txGain.isUnity,
           channel.playback.isEmpty, peer.law == channel.law {
            // Nothing alters this direction: the bytes cross as they came, bit-exact (a
            // µ-law "negative zero" would not survive a decode and re-encode).
            channel.txRaw.update(from: peer.rxRaw, count: count)
            codec.decode(channel.txRaw, into: channel.txLinear, count: count, law: channel.law)
        } else {
            let mix = channel.mix
            if let peer = channel.peer {
                for index in 0..<count { mix[index] = Int32(peer.rxSwitched[index]) }
            } else if channel.conference >= 0 {
                mixer.hear(into: mix, conference: channel.conference, side: channel.conferenceSide,
                           mode: channel.conferenceMode, muted: channel.muted, own: channel.rxSwitched)
            } else {
                mix.update(repeating: 0, count: count)
            }
            if !channel.playback.isEmpty { play(channel) }
            let gain = channel.txGain
            if gain.isUnity {
                for index in 0..<count { channel.txLinear[index] = clampToInt16(mix[index]) }
            } else {
                for index in 0..<count { channel.txLinear[index] = clampToInt16(gain.apply(mix[index])) }
            }
            codec.encode(channel.txLinear, into: channel.txRaw, count: count, law: channel.law)
        }

        if !channel.deviceGone {
            var result = channel.device.write(UnsafeRawBufferPointer(start: channel.txRaw, count: count))
            if case .eventPending = result {
                forwardDeviceEvents(channel)
                result = channel.device.write(UnsafeRawBufferPointer(start: channel.txRaw, count: count))
            }
            switch result {
            case .transferred(let bytes):
                if bytes < count { channel.counters.transmitDrops.add(1, ordering: .relaxed) }
            case .wouldBlock, .eventPending:
                channel.counters.transmitDrops.add(1, ordering: .relaxed)
            case .removed:
                deviceRemoved(channel)
            case .failed:
                ioError(channel)
            }
        }

        if let tap = channel.tap { feed(tap, from: channel) }
        if let tap = channel.lineTestTap { feed(tap, from: channel) }
        channel.rxSampleTime &+= UInt64(count)
    }

    @inline(__always)
    private func feed(_ tap: MediaTap, from channel: MediaChannel) {
        let left = tap.point == .beforeEchoCanceller ? channel.rxDecoded : channel.rxClean
        if tap.ring.push(left: left, right: channel.txLinear, sampleTime: channel.rxSampleTime) {
            tap.overflowing = false
        } else if !tap.overflowing {
            tap.overflowing = true
            emit(channel, .tapOverflow(tapID: tap.id))
        }
    }

    /// Renders the channel's playbacks over `mix`, moving on to the next queued source at the
    /// very sample where one runs out.
    private func play(_ channel: MediaChannel) {
        let count = blockSamples
        var filled = 0
        while filled < count, let item = channel.playback.first {
            let wanted = count - filled
            let produced = min(item.source.fill(UnsafeMutableBufferPointer(start: channel.playScratch + filled, count: wanted)), wanted)
            let gain = item.gain
            for index in filled..<(filled + produced) {
                let sample = gain.isUnity ? Int32(channel.playScratch[index]) : gain.apply(Int32(channel.playScratch[index]))
                if item.mixesWithSwitched { channel.mix[index] &+= sample } else { channel.mix[index] = sample }
            }
            filled += produced
            if produced < wanted { finishPlayback(channel, stopped: false) }
        }
    }

    private func finishPlayback(_ channel: MediaChannel, stopped: Bool) {
        guard let item = channel.playback.removeFirst() else { return }
        emit(channel, .playbackFinished(id: item.id, stopped: stopped))
        retire(item.source)
    }

    // MARK: device outcomes

    private func forwardDeviceEvents(_ channel: MediaChannel) {
        for _ in 0..<Self.deviceEventsPerCycle {
            guard let event = channel.device.nextEvent() else { return }
            emit(channel, .device(event))
        }
    }

    private func deviceRemoved(_ channel: MediaChannel) {
        guard !channel.deviceGone else { return }
        channel.deviceGone = true
        emit(channel, .deviceRemoved)
    }

    private func ioError(_ channel: MediaChannel) {
        channel.counters.ioErrors.add(1, ordering: .relaxed)
        guard !channel.reportedIOError else { return }
        channel.reportedIOError = true
        emit(channel, .ioError)
    }

    // MARK: events and retirement

    @inline(__always)
    private func emit(_ channel: MediaChannel, _ kind: MediaEvent.Kind) {
        emit(MediaEvent(channel: channel.number, kind: kind, sampleTime: channel.rxSampleTime))
    }

    @inline(__always)
    private func emit(_ event: MediaEvent) {
        if !events.push(event) { statistics.droppedEvents.add(1, ordering: .relaxed) }
    }

    /// Hands an object back to the control side to be released there.
    private func retire(_ object: AnyObject) {
        if !retired.push(object) { statistics.retiredOverflow.add(1, ordering: .relaxed) }
    }

    // MARK: commands

    private func applyCommands() {
        for _ in 0..<commands.capacity {
            guard let command = commands.pop() else { return }
            apply(command)
        }
    }

    private func index(of number: Int32) -> Int? {
        for index in 0..<channels.count where channels[index].number == number { return index }
        return nil
    }

    private func channel(_ number: Int32) -> MediaChannel? {
        guard let index = index(of: number) else {
            reject(number)
            return nil
        }
        return channels[index]
    }

    private func reject(_ number: Int32) {
        statistics.rejectedCommands.add(1, ordering: .relaxed)
        emit(MediaEvent(channel: number, kind: .commandRejected, sampleTime: 0))
    }

    private func apply(_ command: MediaCommand) {
        switch command {
        case .add(let channel):
            guard index(of: channel.number) == nil, channels.count < configuration.maximumChannels else {
                reject(channel.number)
                retire(channel)
                return
            }
            // Start from the freshest audio: whatever queued before the loop took over is stale.
            for _ in 0..<32 {
                guard case .transferred = channel.device.read(into: UnsafeMutableRawBufferPointer(start: channel.rxRaw, count: blockSamples)) else { break }
            }
            channels.append(channel)
            channel.phase = leastLoadedPhase()
            phases[channel.phase].append(channel)
        case .remove(let number):
            guard let index = index(of: number) else { return reject(number) }
            let channel = channels[index]
            unswitch(channel)
            while !channel.playback.isEmpty { finishPlayback(channel, stopped: true) }
            emit(channel, .channelRemoved)
            channels.remove(at: index)
            removeFromPhase(channel)
            retire(channel)
        case .connect(let a, let b):
            guard a != b, let first = channel(a), let second = channel(b) else { return }
            unswitch(first)
            unswitch(second)
            move(second, toPhase: first.phase)
            first.peer = second
            second.peer = first
        case .disconnect(let number):
            guard let channel = channel(number) else { return }
            unswitch(channel)
        case .joinConference(let number, let conference, let side, let mode):
            guard conference >= 0, conference < mixer.capacity else { return reject(number) }
            guard let channel = channel(number) else { return }
            unswitch(channel)
            if mixer.memberCount(conference) > 0 {
                move(channel, toPhase: mixer.phase(of: conference))
            } else {
                mixer.setPhase(channel.phase, of: conference)
            }
            channel.conference = conference
            channel.conferenceSide = side
            channel.conferenceMode = mode
            channel.muted = false
            mixer.join(conference)
        case .setConferenceMode(let number, let mode):
            guard let channel = channel(number) else { return }
            channel.conferenceMode = mode
        case .setMuted(let number, let muted):
            guard let channel = channel(number) else { return }
            channel.muted = muted
        case .leaveConference(let number):
            guard let channel = channel(number) else { return }
            if channel.conference >= 0 { unswitch(channel) }
        case .play(let number, let source, let id, let gain, let mixes):
            guard let channel = channel(number) else { return retire(source) }
            if !channel.playback.append(PlaybackItem(source: source, id: id, gain: gain, mixesWithSwitched: mixes)) {
                reject(number)
                retire(source)
            }
        case .stopPlayback(let number):
            guard let channel = channel(number) else { return }
            while !channel.playback.isEmpty { finishPlayback(channel, stopped: true) }
        case .setGains(let number, let receive, let transmit):
            guard let channel = channel(number) else { return }
            channel.rxGain = receive
            channel.txGain = transmit
        case .attachDetector(let number, let detector):
            guard let channel = channel(number) else { return retire(detector) }
            for slot in 0..<MediaChannel.maximumDetectors where channel.detectors[slot] == nil {
                channel.detectors[slot] = detector
                channel.detectorCount += 1
                return
            }
            reject(number)
            retire(detector)
        case .detachDetectors(let number):
            guard let channel = channel(number) else { return }
            for slot in 0..<MediaChannel.maximumDetectors {
                if let detector = channel.detectors[slot] { retire(detector) }
                channel.detectors[slot] = nil
            }
            channel.detectorCount = 0
        case .attachTap(let number, let tap):
            guard let channel = channel(number) else { return retire(tap) }
            if let old = channel.tap { retire(old) }
            channel.tap = tap
        case .detachTap(let number):
            guard let channel = channel(number) else { return }
            if let old = channel.tap { retire(old) }
            channel.tap = nil
        case .attachLineTestTap(let number, let tap):
            guard let channel = channel(number) else { return retire(tap) }
            if let old = channel.lineTestTap { retire(old) }
            channel.lineTestTap = tap
        case .detachLineTestTap(let number):
            guard let channel = channel(number) else { return }
            if let old = channel.lineTestTap { retire(old) }
            channel.lineTestTap = nil
        case .setEchoCanceller(let number, let canceller):
            guard let channel = channel(number) else {
                if let canceller { retire(canceller) }
                return
            }
            if let old = channel.echoCanceller { retire(old) }
            channel.echoCanceller = canceller
            channel.echoCancellerDisabledReported = false
        }
    }

    private func leastLoadedPhase() -> Int {
        var best = 0
        for phase in 1..<max(phases.count, 1) where phases[phase].count < phases[best].count { best = phase }
        return best
    }

    private func removeFromPhase(_ channel: MediaChannel) {
        for index in 0..<phases[channel.phase].count where phases[channel.phase][index] === channel {
            phases[channel.phase].remove(at: index)
            return
        }
    }

    private func move(_ channel: MediaChannel, toPhase phase: Int) {
        guard channel.phase != phase else { return }
        removeFromPhase(channel)
        channel.phase = phase
        phases[phase].append(channel)
    }

    /// Takes the channel out of its cross-connect or conference.
    private func unswitch(_ channel: MediaChannel) {
        if let peer = channel.peer {
            peer.peer = nil
            channel.peer = nil
        }
        if channel.conference >= 0 {
            mixer.leave(channel.conference)
            channel.conference = -1
        }
    }
}
