/// Where `PRIDChannel`'s call control puts its actions: each is carried out as it comes. A
/// message is encoded into the data link's queue, timers, indications and errors go to the
/// driver's actions (or, for indications, to the kept batch), so call control's actions are
/// never stored and switched over a second time.
///
/// The data link lives here, not beside call control, so that call control (mutating) and the
/// data link it sends through (mutated by the sink) are two separate parts of the stack.
struct PRICallControlSink: Q931ActionSink, Sendable {
    var dataLink: Q921DataLink
    /// The data link's own sink; holds the driver's actions during an input.
    var link = PRILinkSink(out: [])
    /// The input's time, for the data link requests the actions make.
    var now = ISDNInstant.zero
    var keepsIndications = false
    /// Call indications kept for the driver (see `PRIDChannel.keepsIndications`), oldest first.
    var keptIndications: [Q931Indication] = []
    private(set) var tally = Q931ActionTally()

    init(dataLink: Q921DataLink) {
        self.dataLink = dataLink
    }

    mutating func append(_ action: consuming Q931Action) {
        switch consume action {
        case .send(let message):
            send(message)
        case .startTimer(let timer, let deadline):
            if dataLink.reportsTimerActions { link.out.append(.startTimer(.callControl(timer), deadline: deadline)) }
        case .stopTimer(let timer):
            if dataLink.reportsTimerActions { link.out.append(.stopTimer(.callControl(timer))) }
        case .establishDataLink:
            dataLink.establishRequest(now: now, into: &link)
        case .indication(let indication):
            if keepsIndications {
                keptIndications.append(indication)
            } else {
                link.out.append(.indication(indication))
            }
        case .protocolError(let error):
            tally.protocolErrors += 1
            link.out.append(.callControlError(error))
        }
    }

    mutating func send(_ message: borrowing Q931Message) {
        tally.messagesSent += 1
        // Encoded straight into the data link's queue, which keeps the buffer: no buffer
        // allocated, no copy made, nothing retained.
        do throws(Q931EncodingError) {
            try dataLink.dataRequest(now: now, into: &link) { buffer throws(Q931EncodingError) in
                switch message.encode(inPlace: buffer) {
                case .written(let count): return count
                case .overflowed: return nil
                case .failed(let error): throw error
                }
            }
        } catch {
            link.out.append(.callControlError(.encodingFailed(error)))
        }
    }
}

/// The data link's sink inside `PRIDChannel`: what goes to the driver (frames, errors, timers)
/// is appended to the driver's actions at once, as the data link sends it, so N(S) order and
/// wire order stay the same; indications for call control are kept for the stack to pass up
/// when the input is done (call control may not run inside a data link input).
struct PRILinkSink: Q921ActionSink, Sendable {
    var out: [PRIAction]
    /// The received message of a `frameReceived` input, the one indication nearly every input
    /// raises: kept as its offset in the frame, which the stack still holds when it passes the
    /// message up, so no reference to the frame is taken.
    var messageOffset = 0
    var hasMessage = false
    /// Any other indication (link up or down, a second message), in order after `message`.
    /// Rare, so this array stays empty and unallocated in steady state.
    var otherIndications: [Q921Action] = []

    mutating func append(_ action: consuming Q921Action) {
        switch consume action {
        case .transmit(let frame):
            out.append(.transmit(frame))
        case .startTimer(let timer, let deadline):
            out.append(.startTimer(.dataLink(timer), deadline: deadline))
        case .stopTimer(let timer):
            out.append(.stopTimer(.dataLink(timer)))
        case .error(let error):
            out.append(.dataLinkError(error))
        case .unitDataIndication:
            // Broadcast call offering over UI frames is a BRI point-to-multipoint feature.
            break
        case .dataIndication(let payload):
            otherIndications.append(.dataIndication(payload))
        case .establishIndication:
            otherIndications.append(.establishIndication)
        case .establishConfirm:
            otherIndications.append(.establishConfirm)
        case .releaseIndication:
            otherIndications.append(.releaseIndication)
        case .releaseConfirm:
            otherIndications.append(.releaseConfirm)
        }
    }

    mutating func dataIndication(_ frame: borrowing ArraySlice<UInt8>, payloadFrom start: Int) {
        if !hasMessage && otherIndications.isEmpty {
            messageOffset = start - frame.startIndex
            hasMessage = true
        } else {
            otherIndications.append(.dataIndication(frame[start...]))
        }
    }

    /// `dataIndication` of a frame read in place from the driver's buffer.
    @inline(__always)
    mutating func messageInPlace(_ frame: UnsafeBufferPointer<UInt8>, from offset: Int) {
        if !hasMessage && otherIndications.isEmpty {
            messageOffset = offset
            hasMessage = true
        } else {
            keepCopy(of: frame, from: offset)
        }
    }

    /// A message after another indication of the same input: copied, as the frame is not kept.
    private mutating func keepCopy(of frame: UnsafeBufferPointer<UInt8>, from offset: Int) {
        otherIndications.append(.dataIndication(Array(frame[offset...])[...]))
    }
}
