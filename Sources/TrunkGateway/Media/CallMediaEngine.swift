import NIOConcurrencyHelpers
import TrunkCore
import TrunkHardware
import TrunkMedia

/// The call model's media: puts a call's channel into the real-time media loop when the call
/// is up, attaches a DTMF receiver, plays prompts, tones and DTMF, and turns what the loop
/// reports into `CallMediaEvent`s for the call manager. Also gives the lab's carrier its own
/// subscriber's audio (DTMF keyed on the carrier's B-channels).
///
/// The loop itself runs on the hardware tick; `pump()` runs on the signalling thread after
/// each tick and is the only consumer of the loop's event and retired queues. Commands go in
/// under `sendLock`: the loop's command queue has one producer, and requests come from the
/// signalling thread and from CTI connections alike.
public final class CallMediaEngine: CallMediaControl, @unchecked Sendable {
    public let loop: MediaLoop
    private let backend: any TelephonyBackend
    private let channelNumber: @Sendable (ChannelAddress) -> Int?
    private let sendLock = NIOLock()
    private let state = NIOLockedValueBox(State())
    private weak var manager: CallManager?

    private struct Attached {
        var callID: String?
        var address: ChannelAddress
        var channel: Int32
        var playbacks: Set<UInt32> = []
        var dtmfSender: DTMFGenerator?
    }

    private struct State {
        var byCall: [String: Int32] = [:]
        var channels: [Int32: Attached] = [:]
        /// Carrier-side channels, opened while the carrier's subscriber needs audio.
        var carrier: [ChannelAddress: Int32] = [:]
        var playbackOwner: [UInt32: String] = [:]
        var nextPlaybackID: UInt32 = 1
        var openFailures = 0
    }

    /// `channelNumber` maps a span/position to the backend's (DAHDI-style) channel number.
    public init(loop: MediaLoop, backend: any TelephonyBackend, channelNumber: @escaping @Sendable (ChannelAddress) -> Int?) {
        self.loop = loop
        self.backend = backend
        self.channelNumber = channelNumber
    }

    public func connect(to manager: CallManager) {
        self.manager = manager
        manager.attachMedia(self)
    }

    private func send(_ command: MediaCommand) {
        let taken = sendLock.withLock { loop.send(command) }
        if !taken { state.withLockedValue { $0.openFailures += 1 } }
    }

    // MARK: CallMediaControl

    public func attach(callID: String, address: ChannelAddress, trunk: TrunkKind) {
        guard let number = channelNumber(address) else { return }
        do {
            let device = try backend.openChannel(number)
            let channel = try MediaChannel(device: device, blockSize: loop.configuration.blockSize)
            state.withLockedValue { state in
                state.byCall[callID] = channel.number
                state.channels[channel.number] = Attached(callID: callID, address: address, channel: channel.number)
            }
            send(.add(channel))
            send(.attachDetector(channel: channel.number, detector: DTMFReceiver()))
        } catch {
            state.withLockedValue { $0.openFailures += 1 }
        }
    }

    public func detach(callID: String) {
        guard let channel = state.withLockedValue({ $0.byCall.removeValue(forKey: callID) }) else { return }
        send(.remove(channel: channel))
    }

    public func play(_ audio: CallAudio, callID: String) {
        guard let channel = state.withLockedValue({ $0.byCall[callID] }) else { return }
        let source: any SampleSource
        do {
            source = try Self.source(for: audio)
        } catch {
            // An unreadable prompt must not leave the call waiting: report it finished.
            manager?.mediaEvent(.playbackFinished(callID: callID))
            return
        }
        let id = state.withLockedValue { state -> UInt32 in
            let id = state.nextPlaybackID
            state.nextPlaybackID &+= 1
            state.playbackOwner[id] = callID
            state.channels[channel]?.playbacks.insert(id)
            return id
        }
        send(.play(channel: channel, source: source, id: id, gain: .unity, mixWithSwitched: false))
    }

    public func stopPlayback(callID: String) {
        guard let channel = state.withLockedValue({ $0.byCall[callID] }) else { return }
        send(.stopPlayback(channel: channel))
    }

    public func record(callID: String, maxMs: Int) {
        // The recording store arrives with the recording issue; until a recorder is attached
        // a recording step ends at once, so flows go on.
        manager?.mediaEvent(.recordingFinished(callID: callID))
    }

    public func stopRecording(callID: String) {}

    /// The sample source that plays `audio`, built here, off the loop.
    static func source(for audio: CallAudio) throws(TrunkError) -> any SampleSource {
        switch audio {
        case .file(let path):
            return PromptPlayer(try Prompt(path: path))
        case .dtmf(let digits):
            let generator = DTMFGenerator()
            generator.send(digits)
            return generator
        case .tones(let steps):
            return ToneSequence(steps: steps.map { ToneSequence.Step(frequencies: $0.frequencies, levelDBm0: $0.levelDBm0, durationMs: $0.durationMs) })
        }
    }

    // MARK: the lab carrier's subscriber

    /// Keys `digits` on the carrier's channel `address` (opening it into the loop if needed).
    public func carrierDTMF(_ address: ChannelAddress, digits: String) {
        guard let number = channelNumber(address) else { return }
        let existing = state.withLockedValue { $0.carrier[address] }
        var channelNumber = existing
        if channelNumber == nil {
            guard let device = try? backend.openChannel(number), let channel = try? MediaChannel(device: device, blockSize: loop.configuration.blockSize) else {
                state.withLockedValue { $0.openFailures += 1 }
                return
            }
            channelNumber = channel.number
            state.withLockedValue { state in
                state.carrier[address] = channel.number
                state.channels[channel.number] = Attached(callID: nil, address: address, channel: channel.number)
            }
            send(.add(channel))
        }
        let generator = DTMFGenerator()
        generator.send(digits)
        send(.play(channel: channelNumber!, source: generator, id: 0, gain: .unity, mixWithSwitched: false))
    }

    /// The carrier's call on `address` ended: give its channel back.
    public func carrierReleased(_ address: ChannelAddress) {
        guard let channel = state.withLockedValue({ $0.carrier.removeValue(forKey: address) }) else { return }
        send(.remove(channel: channel))
    }

    // MARK: events

    /// Drains the loop's events and frees what it let go of; call after every tick.
    public func pump() {
        var delivered: [CallMediaEvent] = []
        while let event = loop.nextEvent() {
            state.withLockedValue { state in
                guard let attached = state.channels[event.channel] else { return }
                switch event.kind {
                case .detection(.dtmf(let digit, let durationMs)):
                    if let call = attached.callID {
                        delivered.append(.dtmf(callID: call, digit: Character(Unicode.Scalar(digit)), durationMs: durationMs))
                    }
                case .firstMedia:
                    if let call = attached.callID { delivered.append(.firstMedia(callID: call)) }
                case .playbackFinished(let id, let stopped):
                    guard let owner = state.playbackOwner.removeValue(forKey: id) else { return }
                    state.channels[event.channel]?.playbacks.remove(id)
                    if !stopped { delivered.append(.playbackFinished(callID: owner)) }
                case .channelRemoved:
                    if let attached = state.channels.removeValue(forKey: event.channel) {
                        for id in attached.playbacks { state.playbackOwner[id] = nil }
                    }
                default:
                    break
                }
            }
        }
        loop.releaseRetired()
        if let manager { for event in delivered { manager.mediaEvent(event) } }
    }

    /// Calls and channels the engine holds (for status and tests).
    public var activeCalls: Int { state.withLockedValue { $0.byCall.count } }
    public var failures: Int { state.withLockedValue { $0.openFailures } }
}

extension CallMediaEngine {
    /// A media loop on `simulator`'s tick with an engine over it; channel positions map to
    /// the simulator's channel numbers (a span's base channel plus the position).
    public static func lab(simulator: LineSimulator, blockSize: MediaBlockSize = .ms8) -> CallMediaEngine {
        let loop = MediaLoop(configuration: MediaLoopConfiguration(blockSize: blockSize, maximumChannels: 256, maximumConferences: 64))
        loop.attach(to: simulator)
        let bases = Dictionary(uniqueKeysWithValues: simulator.spanStatuses().map { ($0.span, ($0.baseChannel, $0.totalChannels)) })
        return CallMediaEngine(loop: loop, backend: simulator) { address in
            guard let (base, total) = bases[address.span], (1...total).contains(address.channel) else { return nil }
            return base + address.channel - 1
        }
    }
}
