import NIOConcurrencyHelpers
import TrunkCore
import TrunkHardware
import TrunkMedia
import TrunkRecording
import Foundation

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
    public let numbering: ChannelNumbering
    private let sendLock = NIOLock()
    private let state = NIOLockedValueBox(State())
    private weak var manager: CallManager?
    /// Where calls are recorded (nil: this node keeps no recordings).
    public let recorder: Recorder?
    /// Calls recorded whole from answer to hangup (nil: recording only when asked).
    public let fullTime: FullTimeRecordingPolicy?
    /// Copies a recording's stereo blocks from the loop's tap into the recorder's ring.
    private let drainBuffer = NIOLockedValueBox<[Int16]>([])

    private struct ActiveRecording {
        var recordingID: String
        var channel: Int32
        var mediaTap: MediaTap
        var tap: RecordingTap
        /// Int.max for a full-time recording: it ends with the call.
        var framesLeft: Int
        var fullTime = false
        /// An on-demand request (the built-in flow's record step, CTI record.start) answered by
        /// the full-time recording already running: frames until it reports finished. The
        /// file goes on; only the request ends.
        var joinedFramesLeft: Int?
    }

    private struct Attached {
        var callID: String?
        var address: ChannelAddress
        var channel: Int32
        var playbacks: Set<UInt32> = []
        var dtmfSender: DTMFGenerator?
        /// The device belongs to a trunk (see `ChannelLender`), which gets it back on removal.
        var lender: (any ChannelLender)?
        var counters: MediaChannelCounters?
    }

    /// A line test's hold on a channel (trunkctl `chan monitor|tone|level`): the channel stays
    /// in the loop while any test holds it, whether a call or the test put it there.
    private struct LineTestHold {
        var channel: Int32
        var holders: Int
    }

    private struct State {
        var byCall: [String: Int32] = [:]
        var channels: [Int32: Attached] = [:]
        /// Carrier-side channels, opened while the carrier's subscriber needs audio.
        var carrier: [ChannelAddress: Int32] = [:]
        var playbackOwner: [UInt32: (callID: String, opID: String?)] = [:]
        var recordings: [String: ActiveRecording] = [:]
        var counters: [String: MediaChannelCounters] = [:]
        var nextTapID: UInt32 = 1
        var operationObservers: [@Sendable (MediaOperationEvent) -> Void] = []
        var nextPlaybackID: UInt32 = 1
        var openFailures = 0
        var lenders: [Int: any ChannelLender] = [:]
        /// Calls full-time recording should have covered but could not (the store refused).
        var unrecordedCalls = 0
        var lineTests: [ChannelAddress: LineTestHold] = [:]
    }

    /// `numbering` maps a span/position to the backend's (DAHDI-style) channel number.
    public init(loop: MediaLoop, backend: any TelephonyBackend, numbering: ChannelNumbering, recorder: Recorder? = nil) {
        self.loop = loop
        self.backend = backend
        self.numbering = numbering
        self.recorder = recorder
        fullTime = recorder.flatMap { FullTimeRecordingPolicy($0.store.configuration) }
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

    /// Channels of `span` are the lender's devices: `attach` borrows them instead of opening.
    public func borrowChannels(span: Int, from lender: any ChannelLender) {
        state.withLockedValue { $0.lenders[span] = lender }
    }

    public func attach(callID: String, address: ChannelAddress, trunk: TrunkKind) {
        guard let number = numbering.number(of: address) else { return }
        if adoptLineTestChannel(callID: callID, address: address, trunk: trunk) { return }
        let lender = state.withLockedValue { $0.lenders[address.span] }
        do {
            var lent: LentChannel?
            if let lender {
                lent = lender.lend(address)
                guard lent != nil else { throw TrunkError(.busy, "channel \(number): its trunk could not lend the device") }
            }
            let device = try lent?.device ?? backend.openChannel(number)
            // Analog lines echo at their 2-wire hybrid; digital PRI channels carry none to cancel.
            let canceller = trunk == .pri ? nil : EchoCanceller(configuration: EchoCancellerConfiguration(tailTaps: 1024))
            let channel = try MediaChannel(device: device, blockSize: loop.configuration.blockSize, echoCanceller: canceller)
            state.withLockedValue { state in
                state.counters[callID] = channel.counters
                state.byCall[callID] = channel.number
                state.channels[channel.number] = Attached(callID: callID, address: address, channel: channel.number, lender: lender,
                                                          counters: channel.counters)
            }
            send(.add(channel))
            send(.attachDetector(channel: channel.number, detector: DTMFReceiver()))
            for detector in lent?.detectors ?? [] { send(.attachDetector(channel: channel.number, detector: detector)) }
            if let fullTime, fullTime.covers(address, channelNumber: number, groups: manager?.trunkGroups ?? []) {
                startFullTimeRecording(callID: callID)
            }
        } catch {
            state.withLockedValue { $0.openFailures += 1 }
        }
    }

    public func detach(callID: String) {
        finishRecording(callID, notify: false)
        state.withLockedValue { _ = $0.counters.removeValue(forKey: callID) }
        let (channel, keptForLineTest) = state.withLockedValue { state -> (Int32?, Bool) in
            guard let channel = state.byCall.removeValue(forKey: callID) else { return (nil, false) }
            // A line test still listens: the channel stays in the loop, now without a call.
            guard let address = state.channels[channel]?.address, state.lineTests[address]?.channel == channel else { return (channel, false) }
            state.channels[channel]?.callID = nil
            return (channel, true)
        }
        guard let channel, !keptForLineTest else { return }
        send(.remove(channel: channel))
    }

    public func play(_ audio: CallAudio, callID: String) {
        do {
            try play(audio, callID: callID, opID: nil)
        } catch {
            // An unreadable prompt must not leave the flow waiting: report it finished.
            manager?.mediaEvent(.playbackFinished(callID: callID))
        }
    }

    /// Plays on a call for an upper layer; the end is reported to operation observers with `opID`.
    public func play(_ audio: CallAudio, callID: String, opID: String?) throws(TrunkError) {
        guard let channel = state.withLockedValue({ $0.byCall[callID] }) else {
            throw TrunkError(.invalidArgument, "call \(callID) has no media (it is not up)")
        }
        let source = try Self.source(for: audio)
        let id = state.withLockedValue { state -> UInt32 in
            var id = state.nextPlaybackID
            if id == 0 { id = 1 }
            state.nextPlaybackID = id &+ 1
            state.playbackOwner[id] = (callID, opID)
            state.channels[channel]?.playbacks.insert(id)
            return id
        }
        send(.play(channel: channel, source: source, id: id, gain: .unity, mixWithSwitched: false))
    }

    public func addOperationObserver(_ observer: @escaping @Sendable (MediaOperationEvent) -> Void) {
        state.withLockedValue { $0.operationObservers.append(observer) }
    }

    /// The loop channel carrying `callID`, while the call is up.
    public func channel(of callID: String) -> Int32? { state.withLockedValue { $0.byCall[callID] } }

    private func channels(_ a: String, _ b: String) throws(TrunkError) -> (Int32, Int32) {
        let pair = state.withLockedValue { ($0.byCall[a], $0.byCall[b]) }
        guard let x = pair.0 else { throw TrunkError(.invalidArgument, "call \(a) has no media (it is not up)") }
        guard let y = pair.1 else { throw TrunkError(.invalidArgument, "call \(b) has no media (it is not up)") }
        return (x, y)
    }

    /// TDM cross-connect: each call hears the other, sample for sample.
    public func connect(_ a: String, _ b: String) throws(TrunkError) {
        let (x, y) = try channels(a, b)
        send(.connect(x, y))
    }

    public func disconnect(_ callID: String) {
        guard let channel = channel(of: callID) else { return }
        send(.disconnect(channel))
    }

    public func join(_ callID: String, conference: Int, side: ConferenceSide, mode: ConferenceMode) throws(TrunkError) {
        guard let channel = channel(of: callID) else { throw TrunkError(.invalidArgument, "call \(callID) has no media (it is not up)") }
        guard (0..<loop.configuration.maximumConferences).contains(conference) else { throw TrunkError(.busy, "no conference room left") }
        send(.joinConference(channel: channel, conference: conference, side: side, mode: mode))
    }

    public func setMode(_ callID: String, mode: ConferenceMode) {
        guard let channel = channel(of: callID) else { return }
        send(.setConferenceMode(channel: channel, mode: mode))
    }

    public func setMuted(_ callID: String, muted: Bool) {
        guard let channel = channel(of: callID) else { return }
        send(.setMuted(channel: channel, muted: muted))
    }

    public func leaveConference(_ callID: String) {
        guard let channel = channel(of: callID) else { return }
        send(.leaveConference(channel: channel))
    }

    public func stopPlayback(callID: String) {
        guard let channel = state.withLockedValue({ $0.byCall[callID] }) else { return }
        send(.stopPlayback(channel: channel))
    }

    public func record(callID: String, maxMs: Int) {
        do {
            _ = try startRecording(callID: callID, maxMs: maxMs, recordingID: nil)
        } catch {
            // The flow goes on without the recording (the store refused it, e.g. disk full: alarmed there).
            manager?.mediaEvent(.recordingFinished(callID: callID))
        }
    }

    /// Records both sides of a call (left trunk, right agent) into the recording store for at
    /// most `maxMs`; returns the recording id. The recorder's index gets the call's metadata.
    ///
    /// On a call recorded full-time no second file is made: the request joins the full-time
    /// recording (its id is returned, whatever `recordingID` asked for, which is kept as a
    /// `requested_id=` tag), reports `recordingFinished` after `maxMs` or `stopRecording`, and
    /// the file goes on to the hangup. Pause and resume act on the full-time file.
    @discardableResult
    public func startRecording(callID: String, maxMs: Int, recordingID: String?) throws(TrunkError) -> String {
        if let joined = try joinFullTimeRecording(callID: callID, maxMs: maxMs, requestedID: recordingID) { return joined }
        return try beginRecording(callID: callID, maxMs: maxMs, recordingID: recordingID, fullTime: false)
    }

    /// A covered call just joined the loop: record it until it is detached. A refusal (the
    /// store is full) leaves the call unrecorded; the recorder has raised the alarm.
    private func startFullTimeRecording(callID: String) {
        do {
            _ = try beginRecording(callID: callID, maxMs: nil, recordingID: nil, fullTime: true)
        } catch {
            state.withLockedValue { $0.unrecordedCalls += 1 }
        }
    }

    private func joinFullTimeRecording(callID: String, maxMs: Int, requestedID: String?) throws(TrunkError) -> String? {
        let id = state.withLockedValue { state -> String? in
            guard let active = state.recordings[callID], active.fullTime else { return nil }
            state.recordings[callID]!.joinedFramesLeft = maxMs.multipliedReportingOverflow(by: 8).overflow ? Int.max : maxMs * 8
            return active.recordingID
        }
        guard let id else { return nil }
        if let requestedID, requestedID != id { try? recorder?.annotate(id, addTags: ["requested_id=\(requestedID)"]) }
        return id
    }

    private func beginRecording(callID: String, maxMs: Int?, recordingID: String?, fullTime: Bool) throws(TrunkError) -> String {
        guard let recorder else { throw TrunkError(.unavailable, "this node keeps no recordings") }
        guard let channel = state.withLockedValue({ $0.byCall[callID] }) else {
            throw TrunkError(.invalidArgument, "call \(callID) has no media (it is not up)")
        }
        guard state.withLockedValue({ $0.recordings[callID] == nil }) else { throw TrunkError(.busy, "call \(callID) is already recording") }
        let call = manager?.call(callID)
        let id = recordingID ?? CallIdentifier.make()
        let request = RecordingRequest(recordingId: id, callId: callID, span: call?.address.span, channel: call?.address.channel,
                                       direction: call?.direction.rawValue ?? "inbound", caller: call?.caller, callee: call?.callee,
                                       startedAt: Date(), answeredAt: call?.time(of: .answered).map { call!.started.addingTimeInterval($0 / 1000) })
        let tap: RecordingTap
        do {
            tap = try recorder.start(request)
        } catch let error as TrunkError {
            throw error
        } catch {
            throw TrunkError(.deviceError, "recording \(id): \(error)")
        }
        let tapID = state.withLockedValue { state -> UInt32 in
            defer { state.nextTapID &+= 1 }
            return state.nextTapID
        }
        // Two seconds of blocks: the drain runs every tick, so this only covers a stalled control thread.
        let point: MediaTap.Point = recorder.store.configuration.tap == .preEC ? .beforeEchoCanceller : .afterEchoCanceller
        let mediaTap = MediaTap(id: tapID, point: point, blockFrames: loop.blockSamples,
                                capacityBlocks: max(4, 2_000 * 8 / loop.blockSamples))
        let frames = maxMs.map { $0.multipliedReportingOverflow(by: 8).overflow ? Int.max : $0 * 8 } ?? Int.max
        state.withLockedValue { state in
            state.recordings[callID] = ActiveRecording(recordingID: id, channel: channel, mediaTap: mediaTap, tap: tap,
                                                       framesLeft: frames, fullTime: fullTime)
        }
        send(.attachTap(channel: channel, tap: mediaTap))
        manager?.mediaEvent(.recordingStarted(callID: callID, recordingID: id))
        return id
    }

    public func stopRecording(callID: String) {
        // A full-time recording is not stopped by a request: only the joined request ends.
        let joined = state.withLockedValue { state -> Bool? in
            guard let active = state.recordings[callID], active.fullTime else { return nil }
            defer { state.recordings[callID]!.joinedFramesLeft = nil }
            return active.joinedFramesLeft != nil
        }
        switch joined {
        case nil: finishRecording(callID, notify: true)
        case true?: manager?.mediaEvent(.recordingFinished(callID: callID))
        case false?: break
        }
    }

    public func pauseRecording(callID: String, paused: Bool) throws(TrunkError) {
        guard let recorder, let id = state.withLockedValue({ $0.recordings[callID]?.recordingID }) else {
            throw TrunkError(.notFound, "call \(callID) is not recording")
        }
        do {
            if paused { try recorder.pause(id) } else { try recorder.resume(id) }
        } catch {
            throw TrunkError(.deviceError, "recording \(id): \(error)")
        }
    }

    private func finishRecording(_ callID: String, notify: Bool) {
        guard let recording = state.withLockedValue({ $0.recordings.removeValue(forKey: callID) }) else { return }
        send(.detachTap(channel: recording.channel))
        drain(recording)
        let call = manager?.call(callID)
        let answered = call.flatMap { call in call.time(of: .answered).map { call.started.addingTimeInterval($0 / 1000) } }
        try? recorder?.stop(recording.recordingID, RecordingEnd(endedAt: Date(), hangupCause: call?.cause, answeredAt: answered))
        if notify { manager?.mediaEvent(.recordingFinished(callID: callID)) }
    }

    /// Moves what the loop tapped into the recorder's ring; returns the frames moved.
    @discardableResult
    private func drain(_ recording: ActiveRecording) -> Int {
        let frames = recording.mediaTap.ring.blockFrames
        return drainBuffer.withLockedValue { buffer in
            if buffer.count < frames * 2 { buffer = [Int16](repeating: 0, count: frames * 2) }
            var moved = 0
            buffer.withUnsafeMutableBufferPointer { out in
                while recording.mediaTap.ring.pop(into: out) != nil {
                    recording.tap.append(interleaved: UnsafeBufferPointer(rebasing: out[0..<frames * 2]))
                    moved += frames
                }
            }
            return moved
        }
    }

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

    // MARK: line tests (trunkctl chan monitor, tone, level)

    /// Puts `address` in the loop for a line test and returns its loop channel: the call's
    /// channel when a call is up on it; otherwise the device, opened here (a PRI B-channel) or
    /// borrowed from the trunk that owns it (an analog port), for as long as a test holds it.
    /// Each hold is ended by `releaseLineTest`.
    public func holdForLineTest(_ address: ChannelAddress) throws(TrunkError) -> (channel: Int32, callID: String?) {
        guard let number = numbering.number(of: address) else { throw TrunkError(.notFound, "channel \(address) does not exist on this node") }
        let held = state.withLockedValue { state -> (Int32, String?)? in
            if var hold = state.lineTests[address] {
                hold.holders += 1
                state.lineTests[address] = hold
                return (hold.channel, state.channels[hold.channel]?.callID)
            }
            // A call's channel, or the lab carrier's subscriber's: the test shares it.
            guard let attached = state.channels.values.first(where: { $0.address == address }) else { return nil }
            state.lineTests[address] = LineTestHold(channel: attached.channel, holders: 1)
            return (attached.channel, attached.callID)
        }
        if let held { return held }
        let lender = state.withLockedValue { $0.lenders[address.span] }
        var lent: LentChannel?
        if let lender {
            lent = lender.lendForLineTest(address)
            guard lent != nil else {
                throw TrunkError(.busy, "channel \(address) (DAHDI channel \(number)): its line is busy setting up a call (ringing, caller ID or dialling); try again when it is idle or the call is up")
            }
        }
        let device: any ChannelDevice
        let channel: MediaChannel
        do {
            device = try lent?.device ?? backend.openChannel(number)
            channel = try MediaChannel(device: device, blockSize: loop.configuration.blockSize)
        } catch {
            // Nothing took the borrowed device: give it straight back.
            if let lender, lent != nil { lender.returned(address) }
            let reason = error as? TrunkError ?? TrunkError(.deviceError, "\(error)")
            throw TrunkError(reason.code, "channel \(address) (DAHDI channel \(number)): \(reason.message)")
        }
        state.withLockedValue { state in
            state.lineTests[address] = LineTestHold(channel: channel.number, holders: 1)
            state.channels[channel.number] = Attached(callID: nil, address: address, channel: channel.number, lender: lender,
                                                      counters: channel.counters)
        }
        send(.add(channel))
        for detector in lent?.detectors ?? [] { send(.attachDetector(channel: channel.number, detector: detector)) }
        return (channel.number, nil)
    }

    /// Ends one line test's hold; the last one takes a channel the test put in the loop out again.
    public func releaseLineTest(_ address: ChannelAddress) {
        let remove = state.withLockedValue { state -> Int32? in
            guard var hold = state.lineTests[address] else { return nil }
            hold.holders -= 1
            if hold.holders > 0 {
                state.lineTests[address] = hold
                return nil
            }
            state.lineTests[address] = nil
            return state.channels[hold.channel]?.callID == nil ? hold.channel : nil
        }
        if let remove { send(.remove(channel: remove)) }
    }

    /// The loop channel line tests hold on `address`.
    public func lineTestChannel(_ address: ChannelAddress) -> Int32? { state.withLockedValue { $0.lineTests[address]?.channel } }

    /// Sends a line test's command (tap, test tone) into the loop.
    public func sendLineTest(_ command: MediaCommand) { send(command) }

    /// The call up on `address`, if the engine carries one.
    public func call(on address: ChannelAddress) -> String? {
        state.withLockedValue { state in state.channels.values.first { $0.address == address && $0.callID != nil }?.callID }
    }

    /// A call arrives on a channel a line test already put in the loop: the call takes the
    /// channel over (its device is in the loop already, and DAHDI opens a channel only once).
    /// A test tone stops, so the caller never hears it; taps keep listening.
    private func adoptLineTestChannel(callID: String, address: ChannelAddress, trunk: TrunkKind) -> Bool {
        let adopted = state.withLockedValue { state -> Int32? in
            guard let hold = state.lineTests[address], var attached = state.channels[hold.channel], attached.callID == nil else { return nil }
            attached.callID = callID
            state.channels[hold.channel] = attached
            state.byCall[callID] = hold.channel
            if let counters = attached.counters { state.counters[callID] = counters }
            return hold.channel
        }
        guard let channel = adopted else { return false }
        send(.stopPlayback(channel: channel))
        send(.attachDetector(channel: channel, detector: DTMFReceiver()))
        if trunk != .pri { send(.setEchoCanceller(channel: channel, canceller: EchoCanceller(configuration: EchoCancellerConfiguration(tailTaps: 1024)))) }
        return true
    }

    // MARK: the lab carrier's subscriber

    /// Keys `digits` on the carrier's channel `address` (opening it into the loop if needed).
    public func carrierDTMF(_ address: ChannelAddress, digits: String) {
        guard let channel = carrierChannel(address) else { return }
        let generator = DTMFGenerator()
        generator.send(digits)
        send(.play(channel: channel, source: generator, id: 0, gain: .unity, mixWithSwitched: false))
    }

    /// The loop channel of the carrier's subscriber on `address`, opened into the loop on first use.
    private func carrierChannel(_ address: ChannelAddress) -> Int32? {
        if let existing = state.withLockedValue({ $0.carrier[address] }) { return existing }
        guard let number = numbering.number(of: address),
              let device = try? backend.openChannel(number), let channel = try? MediaChannel(device: device, blockSize: loop.configuration.blockSize) else {
            state.withLockedValue { $0.openFailures += 1 }
            return nil
        }
        state.withLockedValue { state in
            state.carrier[address] = channel.number
            state.channels[channel.number] = Attached(callID: nil, address: address, channel: channel.number)
        }
        send(.add(channel))
        return channel.number
    }

    /// The lab's far-end ear: for `ms`, each carrier subscriber in `parties` sends its tone (if
    /// any) and what it hears — what the gateway sent down its B-channel — is kept. Returns the
    /// heard samples per party, in order. A tone replaces (and ends) DTMF the subscriber was keying.
    public func carrierListen(_ parties: [(address: ChannelAddress, tone: ToneSequence.Step?)], ms: Int) async throws(TrunkError) -> [[Int16]] {
        var taps: [(channel: Int32, tap: MediaTap, tone: Bool)] = []
        for party in parties {
            guard let channel = carrierChannel(party.address) else {
                throw TrunkError(.busy, "span \(party.address.span) channel \(party.address.channel): the carrier's channel cannot be opened into the media loop")
            }
            let tapID = state.withLockedValue { state -> UInt32 in
                defer { state.nextTapID &+= 1 }
                return state.nextTapID
            }
            let tap = MediaTap(id: tapID, point: .beforeEchoCanceller, blockFrames: loop.blockSamples,
                               capacityBlocks: max(16, (ms + 500) * 8 / loop.blockSamples))
            send(.attachTap(channel: channel, tap: tap))
            if let tone = party.tone {
                send(.stopPlayback(channel: channel))
                send(.play(channel: channel, source: ToneSequence(steps: [tone]), id: 0, gain: .unity, mixWithSwitched: false))
            }
            taps.append((channel, tap, party.tone != nil))
        }
        var heard = [[Int16]](repeating: [], count: taps.count)
        var block = [Int16](repeating: 0, count: loop.blockSamples * 2)
        let started = ContinuousClock.now
        while true {
            let done = ContinuousClock.now - started >= .milliseconds(ms)
            for (index, item) in taps.enumerated() {
                block.withUnsafeMutableBufferPointer { out in
                    while item.tap.ring.pop(into: out) != nil, heard[index].count < ms * 8 {
                        // Left: what the line brought the subscriber (the gateway's side of the call).
                        for frame in 0..<loop.blockSamples { heard[index].append(out[2 * frame]) }
                    }
                }
            }
            if done || heard.allSatisfy({ $0.count >= ms * 8 }) { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        for item in taps {
            send(.detachTap(channel: item.channel))
            if item.tone { send(.stopPlayback(channel: item.channel)) }
        }
        return heard
    }

    /// The carrier's call on `address` ended: give its channel back.
    public func carrierReleased(_ address: ChannelAddress) {
        let channel = state.withLockedValue { state -> Int32? in
            guard let channel = state.carrier.removeValue(forKey: address) else { return nil }
            // A line test still holds it: the test's release takes it out of the loop.
            return state.lineTests[address]?.channel == channel ? nil : channel
        }
        if let channel { send(.remove(channel: channel)) }
    }

    // MARK: events

    /// Drains the loop's events and frees what it let go of; call after every tick.
    public func pump() {
        var delivered: [CallMediaEvent] = []
        var operations: [MediaOperationEvent] = []
        var toLenders: [(lender: any ChannelLender, address: ChannelAddress, kind: MediaEvent.Kind, sampleTime: UInt64)] = []
        while let event = loop.nextEvent() {
            state.withLockedValue { state in
                guard let attached = state.channels[event.channel] else { return }
                switch event.kind {
                case .detection(.dtmf(let digit, let durationMs)):
                    if let call = attached.callID {
                        delivered.append(.dtmf(callID: call, digit: Character(Unicode.Scalar(digit)), durationMs: durationMs))
                    }
                case .detection(let detection):
                    if let lender = attached.lender { toLenders.append((lender, attached.address, .detection(detection), event.sampleTime)) }
                case .device(let deviceEvent):
                    if let lender = attached.lender { toLenders.append((lender, attached.address, .device(deviceEvent), event.sampleTime)) }
                case .firstMedia:
                    if let call = attached.callID { delivered.append(.firstMedia(callID: call)) }
                case .playbackFinished(let id, let stopped):
                    guard let owner = state.playbackOwner.removeValue(forKey: id) else { return }
                    state.channels[event.channel]?.playbacks.remove(id)
                    if let opID = owner.opID {
                        operations.append(.playbackFinished(callID: owner.callID, opID: opID, stopped: stopped))
                    } else if !stopped {
                        delivered.append(.playbackFinished(callID: owner.callID))
                    }
                case .channelRemoved:
                    if let attached = state.channels.removeValue(forKey: event.channel) {
                        if let lender = attached.lender { toLenders.append((lender, attached.address, .channelRemoved, event.sampleTime)) }
                        for id in attached.playbacks {
                            if let owner = state.playbackOwner.removeValue(forKey: id), let opID = owner.opID {
                                operations.append(.playbackFinished(callID: owner.callID, opID: opID, stopped: true))
                            }
                        }
                    }
                default:
                    break
                }
            }
        }
        loop.releaseRetired()
        // Lenders hear of their channels before the call model acts on this round's events,
        // so a hang-up detected by supervision is not overtaken by a flow step.
        for item in toLenders {
            switch item.kind {
            case .detection(let detection): item.lender.detected(detection, sampleTime: item.sampleTime, on: item.address)
            case .device(let deviceEvent): item.lender.deviceEvent(deviceEvent, on: item.address)
            case .channelRemoved: item.lender.returned(item.address)
            default: break
            }
        }
        if let manager { for event in delivered { manager.mediaEvent(event) } }
        var due: [String] = []
        var joinedDone: [String] = []
        for (callID, recording) in state.withLockedValue({ $0.recordings }) {
            let moved = drain(recording)
            let (left, joinedLeft) = state.withLockedValue { state -> (Int, Int?) in
                guard var active = state.recordings[callID] else { return (1, nil) }
                if active.framesLeft != Int.max { active.framesLeft -= moved }
                if let joined = active.joinedFramesLeft { active.joinedFramesLeft = joined - moved }
                state.recordings[callID] = active
                return (active.framesLeft, active.joinedFramesLeft)
            }
            if left <= 0 { due.append(callID) }
            if let joinedLeft, joinedLeft <= 0 { joinedDone.append(callID) }
        }
        for callID in due { finishRecording(callID, notify: true) }
        for callID in joinedDone { stopRecording(callID: callID) }
        if !operations.isEmpty {
            let observers = state.withLockedValue { $0.operationObservers }
            for event in operations { for observer in observers { observer(event) } }
        }
    }

    /// ERLE of every call in the loop whose channel has an echo canceller (metrics).
    public var echoERLE: [(callID: String, decibels: Double)] {
        state.withLockedValue { state in
            state.counters.compactMap { callID, counters in
                let value = counters.echoERLECentibels.load(ordering: .relaxed)
                return value == Int32.min ? nil : (callID, Double(value) / 100)
            }
        }
    }

    /// The recorder's queue depth and drops, and the recordings in progress (metrics).
    public var recordingQueue: (active: Int, queuedFrames: Int, droppedFrames: Int)? {
        recorder.map { ($0.activeRecordings.count, $0.queuedFrames, $0.droppedFrames) }
    }

    /// Calls and channels the engine holds (for status and tests).
    public var activeCalls: Int { state.withLockedValue { $0.byCall.count } }
    /// Calls full-time recording covered but could not record (the store refused them).
    public var unrecordedCalls: Int { state.withLockedValue { $0.unrecordedCalls } }
    /// The recording of a call in progress, and whether it is the full-time one.
    public func recording(of callID: String) -> (id: String, fullTime: Bool)? {
        state.withLockedValue { $0.recordings[callID].map { ($0.recordingID, $0.fullTime) } }
    }
    public var failures: Int { state.withLockedValue { $0.openFailures } }
}

/// The end of a media operation an upper layer started (it carries the operation's id).
public enum MediaOperationEvent: Sendable, Equatable {
    case playbackFinished(callID: String, opID: String, stopped: Bool)
}

extension CallMediaEngine {
    /// A media loop on `simulator`'s tick with an engine over it; channel positions map to
    /// the simulator's channel numbers (a span's base channel plus the position).
    public static func lab(simulator: LineSimulator, blockSize: MediaBlockSize = .ms8, recorder: Recorder? = nil) -> CallMediaEngine {
        let loop = MediaLoop(configuration: MediaLoopConfiguration(blockSize: blockSize, maximumChannels: 256, maximumConferences: 64))
        loop.attach(to: simulator)
        let numbering = ChannelNumbering(statuses: simulator.spanStatuses())
        return CallMediaEngine(loop: loop, backend: simulator, numbering: numbering, recorder: recorder)
    }
}
