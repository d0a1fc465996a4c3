import TrunkCore
import TrunkHardware
import TrunkMedia

/// Binds an analog port machine to a channel device: hook events and hook operations, timers
/// against an injected clock, caller ID reception and generation, DTMF dialling and tones.
///
/// The driver does not read or write the device's audio: its owner (the media loop, or a test)
/// hands it each received block with `process(received:now:)` and takes the audio to send with
/// `transmit(into:now:)`. Everything audio-side is allocated in `init`.
public final class AnalogPortDriver<Machine: AnalogPortMachine> {
    public private(set) var machine: Machine
    public let device: any ChannelDevice
    private var deadlines: [AnalogInstant?]
    private let callerIDReceiver: CallerIDReceiver
    private let fskBell202: FSKCallerIDGenerator
    private let fskV23: FSKCallerIDGenerator
    private let dtmfSender: DTMFGenerator
    private var sending: (any SampleSource)?
    private var tone: (any SampleSource)?
    /// One generator per tone of the zone, made in `init`; playing a tone restarts its own.
    private let toneGenerators: [ToneGenerator?]
    private let detectors: [any AudioDetector]
    /// Call progress analysis of outbound calls, from dialling until an outcome is final.
    private var callProgress: CallProgressAnalyzer?
    private var energy = FrameEnergyMeter()
    /// Channel sample count at the start of the next received block.
    public private(set) var sampleTime: UInt64 = 0
    private var actions: [AnalogAction] = []
    private var wasListening = true
    private var indications: [(indication: AnalogIndication, at: AnalogInstant)] = []
    private var indicationsTaken = 0
    /// Device operations that failed, for the owner to log with the port's name
    /// (`takeDeviceErrors`).
    public private(set) var deviceErrors: [TrunkError] = []

    /// - Parameters:
    ///   - tones: the tone plan the port plays (dial, ringback, busy, congestion to a phone).
    ///   - detectors: run on every received block (DTMF on FXS ports, call-progress tones on FXO).
    ///   - dtmfLevelDBm0: level of the low-group tone of DTMF sent for dialling and caller ID;
    ///     the high group goes 2 dB lower, as China's exchanges send it.
    public init(machine: Machine, device: any ChannelDevice, detectors: [any AudioDetector] = [],
                tones: ToneZone? = nil,
                callerIDLevelDBm0: Float = -13.5, dtmfLevelDBm0: Int32 = -9,
                callProgress: CallProgressAnalysisConfiguration? = nil) {
        self.callProgress = callProgress.map { CallProgressAnalyzer(configuration: $0) }
        self.machine = machine
        self.device = device
        self.detectors = detectors
        toneGenerators = Self.toneSlots.map { tone in tones?.definition(of: tone).map { ToneGenerator($0) } }
        deadlines = Array(repeating: nil, count: AnalogTimer.allCases.count)
        callerIDReceiver = CallerIDReceiver()
        fskBell202 = FSKCallerIDGenerator(method: .fskBell202, levelDBm0: callerIDLevelDBm0)
        fskV23 = FSKCallerIDGenerator(method: .fskV23, levelDBm0: callerIDLevelDBm0)
        // 70 ms tones and pauses suit both dialling and DTMF caller ID (ETSI asks for 50–70 ms).
        dtmfSender = DTMFGenerator(lowGroupDBm0: Int(dtmfLevelDBm0), highGroupDBm0: Int(dtmfLevelDBm0) - 2, onMs: 70, offMs: 70)
        actions.reserveCapacity(16)
        indications.reserveCapacity(16)
    }

    /// Fetches the device's events and fires due timers.
    public func poll(now: AnalogInstant) {
        while let event = device.nextEvent() {
            machine.channelEvent(event, now: now, into: &actions)
            perform(now: now)
        }
        expireTimers(now: now)
    }

    /// Fires due timers without touching the device: for an owner that has lent the device to
    /// the media loop, which then fetches its events and hands them in with `deliver`.
    public func expireTimers(now: AnalogInstant) {
        // By index throughout: `allCases` would build an array every tick, and iterating an
        // array allocates a coroutine frame per element in a debug build.
        for index in 0..<deadlines.count {
            guard let deadline = deadlines[index], deadline <= now, let timer = AnalogTimer(rawValue: index) else { continue }
            deadlines[index] = nil
            machine.timerExpired(timer, now: now, into: &actions)
            perform(now: now)
        }
    }

    /// A device event fetched by someone else (the media loop, while it owns the device).
    public func deliver(_ event: ChannelEvent, now: AnalogInstant) {
        machine.channelEvent(event, now: now, into: &actions)
        perform(now: now)
    }

    /// A detection made by a detector outside the driver (the media loop's, while it owns the
    /// audio), fed to the machine as the driver's own detectors' would be.
    public func deliver(_ detection: MediaDetection.Kind, startedAt: AnalogInstant, now: AnalogInstant) {
        machine.detected(detection, startedAt: startedAt, now: now, into: &actions)
        perform(now: now)
    }

    /// One block of received audio (linear), from the media loop.
    public func process(received samples: UnsafeBufferPointer<Int16>, now: AnalogInstant) {
        let blockStart = sampleTime
        sampleTime += UInt64(samples.count)
        if machine.listensForCallerID {
            callerIDReceiver.process(samples, sampleTime: blockStart)
            while let result = callerIDReceiver.nextResult() {
                machine.callerIDReceived(result, now: now, into: &actions)
                perform(now: now)
            }
        }
        // By index: iterating the array itself allocates a coroutine frame per element in a
        // debug build, and this runs for every block.
        for index in 0..<detectors.count {
            let detector = detectors[index]
            detector.process(samples, sampleTime: blockStart)
            while let detection = detector.nextDetection() {
                let ago = Int((sampleTime &- detection.sampleTime) / 8)
                let startedAt = now + -ago
                if callProgress?.isRunning == true, let event = callProgress?.detected(detection.kind, startedAt: startedAt, now: now) {
                    indications.append((.callProgress(event), now))
                }
                machine.detected(detection.kind, startedAt: startedAt, now: now, into: &actions)
                perform(now: now)
            }
        }
        if callProgress?.isRunning == true {
            energy.add(samples) { level in
                if let event = callProgress?.frame(levelDBm0: level, now: now) { indications.append((.callProgress(event), now)) }
            }
        }
    }

    /// Fills `out` with the audio to send (caller ID, DTMF, a tone, or silence); returns how
    /// many samples carry signal.
    public func transmit(into out: UnsafeMutableBufferPointer<Int16>, now: AnalogInstant) -> Int {
        var written = 0
        if let source = sending {
            written = source.fill(out)
            if written < out.count {
                sending = nil
                machine.sendingFinished(now: now, into: &actions)
                perform(now: now)
            }
        } else if let tone {
            written = tone.fill(out)
        }
        for index in written..<out.count { out[index] = 0 }
        return written
    }

    /// A request from the call model: `body` calls one of the machine's request functions.
    public func request(now: AnalogInstant, _ body: (inout Machine, AnalogInstant, inout [AnalogAction]) -> Void) {
        body(&machine, now, &actions)
        perform(now: now)
    }

    /// The oldest indication for the call model not yet taken, with the time it was made.
    public func nextIndication() -> (indication: AnalogIndication, at: AnalogInstant)? {
        guard indicationsTaken < indications.count else { return nil }
        let next = indications[indicationsTaken]
        indicationsTaken += 1
        // Emptied without giving up its storage, so indications never allocate once warm.
        if indicationsTaken == indications.count {
            indications.removeAll(keepingCapacity: true)
            indicationsTaken = 0
        }
        return next
    }

    /// The deadline of a running timer (for `trunkctl` and tests).
    public func deadline(of timer: AnalogTimer) -> AnalogInstant? { deadlines[timer.rawValue] }

    private func perform(now: AnalogInstant) {
        for index in 0..<actions.count {
            switch actions[index] {
            case .hook(let operation):
                attempt { () throws(TrunkError) in try device.hook(operation) }
                // On hook ends the call (or is a dial pulse, before analysis starts).
                if operation == .onHook { callProgress?.stop() }
            case .setPolarity(let reversed): attempt { () throws(TrunkError) in try device.setPolarity(reversed: reversed) }
            case .setRingCadence(let cadence): attempt { () throws(TrunkError) in try device.setRingCadence(cadence) }
            case .playTone(let progressTone):
                let generator = toneGenerators[Self.slot(progressTone)]
                generator?.restart()
                tone = generator
            case .stopTone: tone = nil
            case let .sendCallerID(id, method, start):
                switch method {
                case .fskBell202:
                    fskBell202.start(id)
                    sending = fskBell202
                case .fskV23:
                    fskV23.start(id)
                    sending = fskV23
                case .dtmf:
                    dtmfSender.stop()
                    dtmfSender.send(id.dtmfDigits(start: start))
                    sending = dtmfSender
                }
            case .stopSending: sending = nil
            case .sendDTMF(let digits):
                dtmfSender.stop()
                dtmfSender.send(digits)
                sending = dtmfSender
            case let .startTimer(timer, deadline): deadlines[timer.rawValue] = deadline
            case .stopTimer(let timer): deadlines[timer.rawValue] = nil
            case .indicate(let indication):
                indications.append((indication, now))
                switch indication {
                case .dialled: callProgress?.start(now: now)
                case .disconnected: callProgress?.stop()
                default: break
                }
            }
        }
        actions.removeAll(keepingCapacity: true)
        let listening = machine.listensForCallerID
        if wasListening && !listening { callerIDReceiver.reset() }
        wasListening = listening
    }

    /// Tones by slot (used in `init` only); `slot` finds one without building an array.
    private static var toneSlots: [ProgressTone] {
        [.dial, .busy, .ringback, .congestion, .callWaiting, .recordTone, .specialInformation, .faxCalling, .answerTone, .answerToneWithReversals]
    }

    private static func slot(_ tone: ProgressTone) -> Int {
        switch tone {
        case .dial: 0
        case .busy: 1
        case .ringback: 2
        case .congestion: 3
        case .callWaiting: 4
        case .recordTone: 5
        case .specialInformation: 6
        case .faxCalling: 7
        case .answerTone: 8
        case .answerToneWithReversals: 9
        }
    }

    /// The device errors since the last call, which the driver then forgets.
    public func takeDeviceErrors() -> [TrunkError] {
        defer { deviceErrors.removeAll() }
        return deviceErrors
    }

    private func attempt(_ operation: () throws(TrunkError) -> Void) {
        do {
            try operation()
        } catch {
            deviceErrors.append(error)
        }
    }
}
