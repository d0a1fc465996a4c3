/// One Q.921 (LAPD) data link in multiple frame operation, point-to-point, as a pure state machine.
///
/// Follows the SDL of Q.921 Annex B for a fixed TEI (PRI): no TEI management, no own-receiver-busy.
/// Every input returns the actions to carry out, in order.
public struct Q921DataLink: Sendable {
    public private(set) var configuration: Q921Configuration

    private enum State: Hashable, Sendable {
        case teiAssigned
        /// SABME sent; `retries` is RC.
        case awaitingEstablishment(retries: Int)
        /// DISC sent; `retries` is RC.
        case awaitingRelease(retries: Int)
        case multipleFrameEstablished
        /// A poll is outstanding after T200 or T203 expired; `retries` is RC.
        case timerRecovery(retries: Int)
    }

    private var state: State = .teiAssigned
    /// V(S): sequence number of the next new I frame.
    private var vs: UInt8 = 0
    /// V(A): oldest I frame not yet acknowledged.
    private var va: UInt8 = 0
    /// V(R): sequence number expected next from the peer.
    private var vr: UInt8 = 0
    private var peerReceiverBusy = false
    private var rejectException = false
    private var acknowledgePending = false
    /// Whether the RR owed for an in-sequence I frame waits for `sendPendingAcknowledgement`,
    /// so that layer 3 can answer first and its I frame carry N(R) instead (Q.921 sends RR only
    /// when no I frame is available). `PRIDChannel`, which runs layer 3 within the same input,
    /// sets it; on its own the data link acknowledges at once.
    var defersAcknowledgement = false
    /// Whether starting and stopping T200/T203 come out as actions. The deadlines are kept
    /// here either way (`nextTimer`); a driver that asks for those needs no actions.
    var reportsTimerActions = true
    private var layer3Initiated = false
    /// I-frame payloads; element 0 carries sequence number V(A). Elements before V(S) are
    /// sent and unacknowledged, the rest wait for the window to open.
    private var queue = Q921FrameQueue()
    private var t200Deadline: ISDNInstant?
    private var t203Deadline: ISDNInstant?

    public private(set) var counters = Q921Counters()

    /// T200 and T203 in nanoseconds, worked out once.
    private var t200Nanoseconds: Int64
    private var t203Nanoseconds: Int64

    public init(configuration: Q921Configuration) {
        self.configuration = configuration
        self.t200Nanoseconds = (ISDNInstant.zero + configuration.t200).nanoseconds
        self.t203Nanoseconds = (ISDNInstant.zero + configuration.t203).nanoseconds
    }

    /// New T200, T203 and N200 for a running link (a technician's live change): timers already
    /// running keep their deadlines, the next start and the next retry count use the new values.
    /// k and N201 shape the window and frame size and are not changed on a running link.
    public mutating func retime(t200: Duration, t203: Duration, n200: Int) {
        configuration.t200 = t200
        configuration.t203 = t203
        configuration.n200 = n200
        t200Nanoseconds = (ISDNInstant.zero + t200).nanoseconds
        t203Nanoseconds = (ISDNInstant.zero + t203).nanoseconds
    }

    public var stateName: Q921StateName {
        switch state {
        case .teiAssigned: return .teiAssigned
        case .awaitingEstablishment: return .awaitingEstablishment
        case .awaitingRelease: return .awaitingRelease
        case .multipleFrameEstablished: return .multipleFrameEstablished
        case .timerRecovery: return .timerRecovery
        }
    }

    /// Whether layer 3 may exchange messages now.
    public var isEstablished: Bool {
        switch state {
        case .multipleFrameEstablished, .timerRecovery: return true
        default: return false
        }
    }

    /// I frames sent but not yet acknowledged, plus those waiting to be sent.
    public var queuedFrameCount: Int { queue.count }

    /// The running data link timer that expires first, or nil; the stack keeps the deadlines
    /// itself, so a driver may ask here instead of tracking start and stop actions.
    public var nextTimer: (timer: Q921Timer, deadline: ISDNInstant)? {
        switch (t200Deadline, t203Deadline) {
        case (let t200?, let t203?): return t203 < t200 ? (.t203, t203) : (.t200, t200)
        case (let t200?, nil): return (.t200, t200)
        case (nil, let t203?): return (.t203, t203)
        case (nil, nil): return nil
        }
    }

    /// V(S), V(R) and V(A), for `pri show span`.
    public var sequenceVariables: (vs: UInt8, vr: UInt8, va: UInt8) { (vs, vr, va) }

    // MARK: - Primitives from layer 3

    /// DL-ESTABLISH request.
    public mutating func establishRequest(now: ISDNInstant) -> [Q921Action] {
        var actions: [Q921Action] = []
        actions.reserveCapacity(4)
        establishRequest(now: now, into: &actions)
        return actions
    }

    /// DL-ESTABLISH request, appending the actions to `actions`.
    public mutating func establishRequest(now: ISDNInstant, into actions: inout some Q921ActionSink) {
        switch state {
        case .teiAssigned, .multipleFrameEstablished, .timerRecovery:
            discardQueue()
            layer3Initiated = true
            establishDataLink(now: now, &actions)
        case .awaitingEstablishment:
            layer3Initiated = true
        case .awaitingRelease:
            // The release in progress finishes first; layer 3 will ask again after the confirm.
            break
        }
    }

    /// DL-RELEASE request.
    public mutating func releaseRequest(now: ISDNInstant) -> [Q921Action] {
        var actions: [Q921Action] = []
        actions.reserveCapacity(4)
        switch state {
        case .teiAssigned:
            actions.append(.releaseConfirm)
        case .awaitingEstablishment, .multipleFrameEstablished, .timerRecovery:
            discardQueue()
            stopT203(&actions)
            sendCommand(.unnumbered(.disconnect, pollFinal: true), &actions)
            startT200(now: now, &actions)
            state = .awaitingRelease(retries: 0)
        case .awaitingRelease:
            break
        }
        return actions
    }

    /// DL-DATA request: queue a layer 3 message for acknowledged transfer.
    ///
    /// With the link released the message is kept and establishment started, so the first
    /// SETUP of the day does not need a separate establish step.
    public mutating func dataRequest(_ payload: ArraySlice<UInt8>, now: ISDNInstant) -> [Q921Action] {
        var actions: [Q921Action] = []
        actions.reserveCapacity(4)
        dataRequest(payload, now: now, into: &actions)
        return actions
    }

    /// DL-DATA request, appending the actions to `actions`.
    public mutating func dataRequest(_ payload: ArraySlice<UInt8>, now: ISDNInstant, into actions: inout some Q921ActionSink) {
        dataRequest(now: now, into: &actions) { buffer in
            guard payload.count <= buffer.count else { return nil }
            _ = buffer.update(fromContentsOf: payload)
            return payload.count
        }
    }

    /// DL-DATA request whose payload `write` puts straight into the queue's buffer for it (see
    /// `Q921FrameQueue.writeNext`), so the payload is neither copied nor reference counted on
    /// its way in. An error `write` throws is passed on and nothing is queued.
    mutating func dataRequest<E: Error>(
        now: ISDNInstant, into actions: inout some Q921ActionSink,
        writingPayload write: (UnsafeMutableBufferPointer<UInt8>) throws(E) -> Int?
    ) throws(E) {
        guard try queue.writeNext(limit: configuration.n201, write) != nil,
              queue.count < configuration.maximumQueuedFrames else {
            counters.discardedData += 1
            actions.append(.error(.dataDiscarded))
            return
        }
        switch state {
        case .teiAssigned:
            queue.appendWritten()
            layer3Initiated = false
            vs = 0
            va = 0
            establishDataLink(now: now, &actions)
        case .awaitingEstablishment:
            queue.appendWritten()
        case .awaitingRelease:
            counters.discardedData += 1
            actions.append(.error(.dataDiscarded))
        case .multipleFrameEstablished:
            queue.appendWritten()
            transmitPendingFrames(now: now, &actions)
        case .timerRecovery:
            queue.appendWritten()
        }
    }

    public mutating func dataRequest(_ payload: [UInt8], now: ISDNInstant) -> [Q921Action] {
        dataRequest(payload[...], now: now)
    }

    /// DL-UNIT DATA request: a UI command, unacknowledged.
    public mutating func unitDataRequest(_ payload: ArraySlice<UInt8>) -> [Q921Action] {
        var actions: [Q921Action] = []
        actions.reserveCapacity(4)
        sendCommand(.unnumbered(.unnumberedInformation, pollFinal: false), information: payload, &actions)
        return actions
    }

    // MARK: - Timers

    /// A timer the driver armed has expired. Expiries of timers since stopped or re-armed
    /// for later are ignored, so the driver need not cancel precisely.
    public mutating func timerExpired(_ timer: Q921Timer, now: ISDNInstant) -> [Q921Action] {
        var actions: [Q921Action] = []
        actions.reserveCapacity(4)
        timerExpired(timer, now: now, into: &actions)
        return actions
    }

    /// A timer expired, appending the actions to `actions`.
    public mutating func timerExpired(_ timer: Q921Timer, now: ISDNInstant, into actions: inout some Q921ActionSink) {
        switch timer {
        case .t200:
            guard let deadline = t200Deadline, deadline <= now else { return }
            t200Deadline = nil
            t200Expired(now: now, &actions)
        case .t203:
            guard let deadline = t203Deadline, deadline <= now else { return }
            t203Deadline = nil
            if case .multipleFrameEstablished = state {
                transmitEnquiry(now: now, &actions)
                state = .timerRecovery(retries: 0)
            }
        }
    }

    private mutating func t200Expired(now: ISDNInstant, _ actions: inout some Q921ActionSink) {
        switch state {
        case .teiAssigned:
            break
        case .awaitingEstablishment(let retries):
            if retries >= configuration.n200 {
                discardQueue()
                report(.establishmentFailed, &actions)
                actions.append(.releaseIndication)
                state = .teiAssigned
            } else {
                sendCommand(.unnumbered(.setAsynchronousBalancedModeExtended, pollFinal: true), &actions)
                startT200(now: now, &actions)
                state = .awaitingEstablishment(retries: retries + 1)
            }
        case .awaitingRelease(let retries):
            if retries >= configuration.n200 {
                report(.releaseFailed, &actions)
                actions.append(.releaseConfirm)
                state = .teiAssigned
            } else {
                sendCommand(.unnumbered(.disconnect, pollFinal: true), &actions)
                startT200(now: now, &actions)
                state = .awaitingRelease(retries: retries + 1)
            }
        case .multipleFrameEstablished:
            // Poll with a supervisory command rather than resending the last I frame:
            // Q.921 §5.6.7 allows either, and the F = 1 reply tells exactly what to resend.
            transmitEnquiry(now: now, &actions)
            state = .timerRecovery(retries: 1)
        case .timerRecovery(let retries):
            if retries >= configuration.n200 {
                report(.timerRecoveryFailed, &actions)
                layer3Initiated = false
                establishDataLink(now: now, &actions)
            } else {
                transmitEnquiry(now: now, &actions)
                state = .timerRecovery(retries: retries + 1)
            }
        }
    }

    // MARK: - Frames from the peer

    /// A frame arrived from the D-channel (FCS already checked and removed by the driver).
    public mutating func frameReceived(_ bytes: ArraySlice<UInt8>, now: ISDNInstant) -> [Q921Action] {
        var actions: [Q921Action] = []
        actions.reserveCapacity(4)
        frameReceived(bytes, now: now, into: &actions)
        return actions
    }

    /// A frame arrived, appending the actions to `actions`.
    public mutating func frameReceived(_ bytes: ArraySlice<UInt8>, now: ISDNInstant, into actions: inout some Q921ActionSink) {
        counters.framesReceived += 1
        let start = bytes.startIndex
        if bytes.count >= 4, informationFrameReceived(
            bytes[start], bytes[start + 1], bytes[start + 2], bytes[start + 3], length: bytes.count, now: now, &actions,
            deliver: { $0.dataIndication(bytes, payloadFrom: start + 4) }
        ) {
            return
        }
        let frame: LAPDFrame
        do {
            frame = try LAPDFrame.decode(bytes)
        } catch {
            handleUndecodable(error, bytes: bytes, now: now, &actions)
            return
        }
        guard frame.address.sapi == configuration.sapi, frame.address.tei == configuration.tei else {
            counters.unknownAddressFrames += 1
            return
        }
        let isCommand = frame.address.isCommand(receivedBy: configuration.role)
        switch frame.control {
        case .information(let ns, let nr, let poll):
            guard isCommand else {
                report(.wrongCommandResponse, &actions)
                return
            }
            // Unreachable in practice: I frames are read above, and `decode` throws for the
            // short or badly addressed ones that are not.
            informationReceived(ns: ns, nr: nr, poll: poll, payloadLength: bytes.count - 4, now: now, &actions) {
                $0.dataIndication(bytes, payloadFrom: bytes.startIndex + 4)
            }
        case .supervisory(let function, let nr, let pollFinal):
            supervisoryReceived(function, nr: nr, pollFinal: pollFinal, isCommand: isCommand, now: now, &actions)
        case .unnumbered(let function, let pollFinal):
            unnumberedReceived(function, pollFinal: pollFinal, isCommand: isCommand, information: frame.information, now: now, &actions)
        }
    }

    public mutating func frameReceived(_ bytes: [UInt8], now: ISDNInstant) -> [Q921Action] {
        frameReceived(bytes[...], now: now)
    }

    /// A frame in a buffer the caller holds until `PRIDChannel` has passed its message up: an
    /// I frame is read in place and its message handed up as a position in `octets`; any other
    /// frame (rare once the link is up) goes the general way, on a copy.
    mutating func frameReceived(octets: UnsafeBufferPointer<UInt8>, now: ISDNInstant, into actions: inout PRILinkSink) {
        guard octets.count >= 4, informationFrameReceived(
            octets[0], octets[1], octets[2], octets[3], length: octets.count, now: now, &actions,
            deliver: { $0.messageInPlace(octets, from: 4) }
        ) else {
            frameReceived(Array(octets)[...], now: now, into: &actions)
            return
        }
        counters.framesReceived += 1
    }

    /// An I frame read in place from its first four octets and its `length`: the same checks as
    /// `LAPDFrame.decode`, without building a frame value to take apart again (I frames are
    /// nearly all the traffic); `deliver` hands the information field to the sink. False if the
    /// octets are not an I frame, for the general path; one not for us or with the wrong C/R
    /// bit is counted or reported here.
    @inline(__always)
    private mutating func informationFrameReceived<Sink: Q921ActionSink>(
        _ a1: UInt8, _ a2: UInt8, _ c1: UInt8, _ c2: UInt8, length: Int, now: ISDNInstant, _ actions: inout Sink,
        deliver: (inout Sink) -> Void
    ) -> Bool {
        guard c1 & 0x01 == 0, a1 & 0x01 == 0, a2 & 0x01 == 1 else { return false }
        guard a1 >> 2 == configuration.sapi, a2 >> 1 == configuration.tei else {
            counters.unknownAddressFrames += 1
            return true
        }
        let address = LAPDAddress(sapi: a1 >> 2, commandResponseBit: a1 & 0x02 != 0, tei: a2 >> 1)
        guard address.isCommand(receivedBy: configuration.role) else {
            report(.wrongCommandResponse, &actions)
            return true
        }
        informationReceived(
            ns: c1 >> 1, nr: c2 >> 1, poll: c2 & 0x01 != 0, payloadLength: length - 4, now: now, &actions, deliver: deliver)
        return true
    }

    private mutating func handleUndecodable(
        _ error: LAPDDecodingError, bytes: ArraySlice<UInt8>, now: ISDNInstant, _ actions: inout some Q921ActionSink
    ) {
        switch error {
        case .tooShort, .invalidAddressExtension:
            // Q.921 §5.8.4: invalid frames are discarded without any action.
            counters.malformedFrames += 1
            actions.append(.error(.malformedFrame(error)))
        case .undefinedControlField, .unexpectedInformationField:
            // Addressed to someone else: not our problem.
            let start = bytes.startIndex
            guard bytes[start] >> 2 == configuration.sapi, bytes[start + 1] >> 1 == configuration.tei else {
                counters.unknownAddressFrames += 1
                return
            }
            report(.invalidFrame(error), &actions)
            // Q.921 §5.8.5: a frame rejection condition in multiple frame operation restarts the link.
            if isEstablished {
                layer3Initiated = false
                establishDataLink(now: now, &actions)
            }
        }
    }

    private mutating func unnumberedReceived(
        _ function: LAPDUnnumberedFunction, pollFinal: Bool, isCommand: Bool,
        information: ArraySlice<UInt8>, now: ISDNInstant, _ actions: inout some Q921ActionSink
    ) {
        switch function {
        case .setAsynchronousBalancedModeExtended:
            guard isCommand else { return report(.wrongCommandResponse, &actions) }
            sabmeReceived(poll: pollFinal, now: now, &actions)
        case .disconnect:
            guard isCommand else { return report(.wrongCommandResponse, &actions) }
            discReceived(poll: pollFinal, &actions)
        case .unnumberedAcknowledgement:
            guard !isCommand else { return report(.wrongCommandResponse, &actions) }
            uaReceived(final: pollFinal, now: now, &actions)
        case .disconnectedMode:
            guard !isCommand else { return report(.wrongCommandResponse, &actions) }
            dmReceived(final: pollFinal, now: now, &actions)
        case .frameReject:
            guard !isCommand else { return report(.wrongCommandResponse, &actions) }
            report(.frameRejectReceived, &actions)
            if isEstablished {
                layer3Initiated = false
                establishDataLink(now: now, &actions)
            }
        case .unnumberedInformation:
            actions.append(.unitDataIndication(information))
        case .exchangeIdentification:
            // XID negotiation is not used on PRI; Q.921 lets a station ignore it.
            break
        }
    }

    private mutating func sabmeReceived(poll: Bool, now: ISDNInstant, _ actions: inout some Q921ActionSink) {
        switch state {
        case .teiAssigned:
            sendResponse(.unnumbered(.unnumberedAcknowledgement, pollFinal: poll), &actions)
            clearExceptionConditions()
            resetSequenceNumbers()
            actions.append(.establishIndication)
            counters.establishments += 1
            startT203(now: now, &actions)
            state = .multipleFrameEstablished
            transmitPendingFrames(now: now, &actions)
        case .awaitingEstablishment:
            // Both sides sent SABME at once: answer theirs and wait for the UA to ours.
            sendResponse(.unnumbered(.unnumberedAcknowledgement, pollFinal: poll), &actions)
        case .awaitingRelease:
            sendResponse(.unnumbered(.disconnectedMode, pollFinal: poll), &actions)
        case .multipleFrameEstablished, .timerRecovery:
            report(.peerReestablishedLink, &actions)
            sendResponse(.unnumbered(.unnumberedAcknowledgement, pollFinal: poll), &actions)
            clearExceptionConditions()
            // Frames the peer never acknowledged are lost with the old link; unsent ones survive.
            discardOutstandingFrames()
            resetSequenceNumbers()
            actions.append(.establishIndication)
            counters.establishments += 1
            stopT200(&actions)
            startT203(now: now, &actions)
            state = .multipleFrameEstablished
            transmitPendingFrames(now: now, &actions)
        }
    }

    private mutating func discReceived(poll: Bool, _ actions: inout some Q921ActionSink) {
        switch state {
        case .teiAssigned, .awaitingEstablishment:
            sendResponse(.unnumbered(.disconnectedMode, pollFinal: poll), &actions)
        case .awaitingRelease:
            sendResponse(.unnumbered(.unnumberedAcknowledgement, pollFinal: poll), &actions)
        case .multipleFrameEstablished, .timerRecovery:
            discardQueue()
            sendResponse(.unnumbered(.unnumberedAcknowledgement, pollFinal: poll), &actions)
            actions.append(.releaseIndication)
            stopT200(&actions)
            stopT203(&actions)
            state = .teiAssigned
        }
    }

    private mutating func uaReceived(final: Bool, now: ISDNInstant, _ actions: inout some Q921ActionSink) {
        switch state {
        case .awaitingEstablishment:
            guard final else { return report(.unsolicitedUnnumberedAcknowledgement, &actions) }
            // Frames sent on the old link but never acknowledged are not resent on the new one:
            // layer 3 learns of the reset and checks call states itself.
            discardOutstandingFrames()
            actions.append(layer3Initiated ? .establishConfirm : .establishIndication)
            layer3Initiated = false
            counters.establishments += 1
            stopT200(&actions)
            startT203(now: now, &actions)
            resetSequenceNumbers()
            state = .multipleFrameEstablished
            transmitPendingFrames(now: now, &actions)
        case .awaitingRelease:
            guard final else { return report(.unsolicitedUnnumberedAcknowledgement, &actions) }
            actions.append(.releaseConfirm)
            stopT200(&actions)
            state = .teiAssigned
        case .teiAssigned, .multipleFrameEstablished, .timerRecovery:
            report(.unsolicitedUnnumberedAcknowledgement, &actions)
        }
    }

    private mutating func dmReceived(final: Bool, now: ISDNInstant, _ actions: inout some Q921ActionSink) {
        switch state {
        case .teiAssigned:
            break
        case .awaitingEstablishment:
            guard final else { return }
            discardQueue()
            actions.append(.releaseIndication)
            stopT200(&actions)
            state = .teiAssigned
        case .awaitingRelease:
            guard final else { return }
            actions.append(.releaseConfirm)
            stopT200(&actions)
            state = .teiAssigned
        case .multipleFrameEstablished:
            if final {
                report(.unsolicitedDisconnectedModeFinal, &actions)
            } else {
                report(.peerInDisconnectedMode, &actions)
                layer3Initiated = false
                establishDataLink(now: now, &actions)
            }
        case .timerRecovery:
            report(final ? .unsolicitedDisconnectedModeFinal : .peerInDisconnectedMode, &actions)
            layer3Initiated = false
            establishDataLink(now: now, &actions)
        }
    }

    /// An I frame with `payloadLength` octets of information, which `deliver` hands to the sink
    /// (as a position in the frame, so a sink that reads it before the input ends, as
    /// `PRIDChannel`'s does, takes no reference to it).
    private mutating func informationReceived<Sink: Q921ActionSink>(
        ns: UInt8, nr: UInt8, poll: Bool, payloadLength: Int, now: ISDNInstant, _ actions: inout Sink,
        deliver: (inout Sink) -> Void
    ) {
        guard isEstablished else { return }
        guard payloadLength <= configuration.n201 else {
            report(.informationFieldTooLong(length: payloadLength), &actions)
            layer3Initiated = false
            establishDataLink(now: now, &actions)
            return
        }
        counters.informationFramesReceived += 1
        if ns == vr {
            vr = Modulo128.add(vr, 1)
            rejectException = false
            deliver(&actions)
            if poll {
                sendResponse(.supervisory(.receiveReady, nr: vr, pollFinal: true), &actions)
                acknowledgePending = false
            } else {
                acknowledgePending = true
            }
        } else if rejectException {
            if poll {
                sendResponse(.supervisory(.receiveReady, nr: vr, pollFinal: true), &actions)
                acknowledgePending = false
            }
        } else {
            rejectException = true
            counters.rejectsTransmitted += 1
            sendResponse(.supervisory(.reject, nr: vr, pollFinal: poll), &actions)
            acknowledgePending = false
        }
        guard applyReceivedAcknowledgement(nr, now: now, &actions) else { return }
        transmitPendingFrames(now: now, &actions)
        if acknowledgePending && !defersAcknowledgement {
            // Nothing outgoing carried our N(R): acknowledge with an RR response.
            sendResponse(.supervisory(.receiveReady, nr: vr, pollFinal: false), &actions)
            acknowledgePending = false
        }
    }

    /// Whether an RR is owed for received I frames (see `sendPendingAcknowledgement`).
    var hasPendingAcknowledgement: Bool { acknowledgePending }

    /// Sends the RR response still owed for received I frames, if no I frame has carried
    /// V(R) since (see `defersAcknowledgement`).
    mutating func sendPendingAcknowledgement(into actions: inout some Q921ActionSink) {
        guard acknowledgePending, isEstablished else { return }
        sendResponse(.supervisory(.receiveReady, nr: vr, pollFinal: false), &actions)
        acknowledgePending = false
    }

    private mutating func supervisoryReceived(
        _ function: LAPDSupervisoryFunction, nr: UInt8, pollFinal: Bool, isCommand: Bool,
        now: ISDNInstant, _ actions: inout some Q921ActionSink
    ) {
        guard isEstablished else { return }
        peerReceiverBusy = function == .receiveNotReady
        if isCommand && pollFinal {
            sendResponse(.supervisory(.receiveReady, nr: vr, pollFinal: true), &actions)
            acknowledgePending = false
        }
        switch state {
        case .multipleFrameEstablished:
            if !isCommand && pollFinal {
                report(.unsolicitedSupervisoryResponse, &actions)
            }
            guard nrIsValid(nr) else {
                return invalidNR(nr, now: now, &actions)
            }
            switch function {
            case .receiveReady:
                applyAcknowledgementInMultipleFrame(nr, now: now, &actions)
            case .receiveNotReady:
                acknowledge(upTo: nr)
                stopT203(&actions)
                startT200(now: now, &actions)
            case .reject:
                acknowledge(upTo: nr)
                stopT200(&actions)
                startT203(now: now, &actions)
                invokeRetransmission()
            }
        case .timerRecovery:
            guard nrIsValid(nr) else {
                return invalidNR(nr, now: now, &actions)
            }
            acknowledge(upTo: nr)
            if !isCommand && pollFinal {
                // The answer to our poll: resume normal operation from what the peer has.
                if peerReceiverBusy {
                    startT200(now: now, &actions)
                } else {
                    stopT200(&actions)
                    startT203(now: now, &actions)
                }
                invokeRetransmission()
                state = .multipleFrameEstablished
            }
        default:
            return
        }
        transmitPendingFrames(now: now, &actions)
    }

    // MARK: - Acknowledgement handling

    /// Checks N(R) of an I frame and applies it; false if the link is being re-established.
    private mutating func applyReceivedAcknowledgement(_ nr: UInt8, now: ISDNInstant, _ actions: inout some Q921ActionSink) -> Bool {
        guard nrIsValid(nr) else {
            invalidNR(nr, now: now, &actions)
            return false
        }
        switch state {
        case .multipleFrameEstablished:
            if peerReceiverBusy {
                acknowledge(upTo: nr)
            } else {
                applyAcknowledgementInMultipleFrame(nr, now: now, &actions)
            }
        case .timerRecovery:
            acknowledge(upTo: nr)
        default:
            break
        }
        return true
    }

    /// Q.921 "N(R) = V(S)?" branch: all acknowledged stops T200, partial progress restarts it.
    private mutating func applyAcknowledgementInMultipleFrame(_ nr: UInt8, now: ISDNInstant, _ actions: inout some Q921ActionSink) {
        if nr == vs {
            acknowledge(upTo: nr)
            stopT200(&actions)
            startT203(now: now, &actions)
        } else if nr != va {
            acknowledge(upTo: nr)
            startT200(now: now, &actions)
        }
    }

    private func nrIsValid(_ nr: UInt8) -> Bool {
        Modulo128.distance(from: va, to: nr) <= Modulo128.distance(from: va, to: vs)
    }

    private mutating func invalidNR(_ nr: UInt8, now: ISDNInstant, _ actions: inout some Q921ActionSink) {
        report(.invalidReceiveSequenceNumber(nr: nr), &actions)
        layer3Initiated = false
        establishDataLink(now: now, &actions)
    }

    /// Inlined: it runs for every frame that acknowledges ours, and is a few operations.
    @inline(__always)
    private mutating func acknowledge(upTo nr: UInt8) {
        let count = min(Modulo128.distance(from: va, to: nr), queue.count)
        queue.removeFirst(count)
        va = nr
    }

    /// V(S) := V(A): unacknowledged frames go out again as the window allows.
    private mutating func invokeRetransmission() {
        counters.retransmittedFrames += Modulo128.distance(from: va, to: vs)
        vs = va
    }

    // MARK: - Transmission

    private mutating func transmitPendingFrames(now: ISDNInstant, _ actions: inout some Q921ActionSink) {
        guard case .multipleFrameEstablished = state, !peerReceiverBusy else { return }
        while true {
            let outstanding = Modulo128.distance(from: va, to: vs)
            guard outstanding < configuration.k, outstanding < queue.count else { break }
            sendCommand(.information(ns: vs, nr: vr, poll: false), information: queue[outstanding], &actions)
            counters.informationFramesTransmitted += 1
            vs = Modulo128.add(vs, 1)
            acknowledgePending = false
            if t200Deadline == nil {
                stopT203(&actions)
                startT200(now: now, &actions)
            }
        }
    }

    private mutating func transmitEnquiry(now: ISDNInstant, _ actions: inout some Q921ActionSink) {
        sendCommand(.supervisory(.receiveReady, nr: vr, pollFinal: true), &actions)
        acknowledgePending = false
        startT200(now: now, &actions)
    }

    /// Q.921 "establish data link" procedure.
    private mutating func establishDataLink(now: ISDNInstant, _ actions: inout some Q921ActionSink) {
        clearExceptionConditions()
        sendCommand(.unnumbered(.setAsynchronousBalancedModeExtended, pollFinal: true), &actions)
        stopT203(&actions)
        startT200(now: now, &actions)
        state = .awaitingEstablishment(retries: 0)
    }

    private mutating func sendCommand(_ control: LAPDControl, information: consuming ArraySlice<UInt8> = [], _ actions: inout some Q921ActionSink) {
        send(control, isCommand: true, information: consume information, &actions)
    }

    private mutating func sendResponse(_ control: LAPDControl, _ actions: inout some Q921ActionSink) {
        send(control, isCommand: false, information: [], &actions)
    }

    private mutating func send(_ control: LAPDControl, isCommand: Bool, information: consuming ArraySlice<UInt8>, _ actions: inout some Q921ActionSink) {
        let address = LAPDAddress(
            sapi: configuration.sapi,
            commandResponseBit: LAPDAddress.commandResponseBit(for: configuration.role, isCommand: isCommand),
            tei: configuration.tei)
        counters.framesTransmitted += 1
        actions.append(.transmit(LAPDFrame(address: address, control: control, information: consume information)))
    }

    // MARK: - Small helpers

    private mutating func startT200(now: ISDNInstant, _ actions: inout some Q921ActionSink) {
        let deadline = ISDNInstant(nanoseconds: now.nanoseconds + t200Nanoseconds)
        t200Deadline = deadline
        if reportsTimerActions { actions.append(.startTimer(.t200, deadline: deadline)) }
    }

    private mutating func stopT200(_ actions: inout some Q921ActionSink) {
        guard t200Deadline != nil else { return }
        t200Deadline = nil
        if reportsTimerActions { actions.append(.stopTimer(.t200)) }
    }

    private mutating func startT203(now: ISDNInstant, _ actions: inout some Q921ActionSink) {
        let deadline = ISDNInstant(nanoseconds: now.nanoseconds + t203Nanoseconds)
        t203Deadline = deadline
        if reportsTimerActions { actions.append(.startTimer(.t203, deadline: deadline)) }
    }

    private mutating func stopT203(_ actions: inout some Q921ActionSink) {
        guard t203Deadline != nil else { return }
        t203Deadline = nil
        if reportsTimerActions { actions.append(.stopTimer(.t203)) }
    }

    private mutating func clearExceptionConditions() {
        peerReceiverBusy = false
        rejectException = false
        acknowledgePending = false
    }

    private mutating func resetSequenceNumbers() {
        vs = 0
        va = 0
        vr = 0
    }

    private mutating func discardQueue() {
        counters.discardedData += queue.count
        queue.removeAll()
    }

    private mutating func discardOutstandingFrames() {
        let outstanding = min(Modulo128.distance(from: va, to: vs), queue.count)
        counters.discardedData += outstanding
        queue.removeFirst(outstanding)
        vs = va
    }

    private mutating func report(_ error: Q921Error, _ actions: inout some Q921ActionSink) {
        counters.protocolErrors += 1
        actions.append(.error(error))
    }
}
