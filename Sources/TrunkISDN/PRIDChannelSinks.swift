/// Where `PRIDChannel`'s call control puts its actions: each is carried out as it comes. A
/// message is encoded into a payload buffer and handed to the data link, timers, indications
/// and errors go to the driver's actions (or, for indications, to the kept batch), so call
/// control's actions are never stored and switched over a second time.
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
    /// Payload buffers for outgoing messages, used in turn. The data link (until the
    /// acknowledgement) and the driver (until it drops the frame) share a buffer. The ring has
    /// a slot more than the data link can queue plus a window's worth, so when it comes round
    /// the slot's last message has left the queue and the buffer is refilled in place; if it
    /// is still held after all, copy-on-write gives the new message a fresh buffer and nothing
    /// is disturbed. Slots are empty until first used, so a quiet span allocates little.
    private var payloadRing: [[UInt8]]
    private var payloadCursor = 0

    init(dataLink: Q921DataLink, payloadSlots: Int) {
        self.dataLink = dataLink
        self.payloadRing = Array(repeating: [], count: payloadSlots)
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
        // Encoded straight into a ring buffer, which the data link keeps until the
        // acknowledgement (see `payloadRing`): no buffer allocated, no copy made.
        let payload: ArraySlice<UInt8>
        do {
            payload = try encodeIntoRing(message)
        } catch {
            link.out.append(.callControlError(.encodingFailed(error)))
            return
        }
        dataLink.dataRequest(consume payload, now: now, into: &link)
    }

    /// Encodes `message` into the next ring buffer and returns the payload: a slice of the
    /// buffer, which keeps its length (its room) from use to use, so the message is written in
    /// place with no per-octet array checks and nothing is emptied or regrown.
    private mutating func encodeIntoRing(_ message: Q931Message) throws(Q931EncodingError) -> ArraySlice<UInt8> {
        let index = payloadCursor
        payloadCursor = index + 1 == payloadRing.count ? 0 : index + 1
        if payloadRing[index].isEmpty {
            // First use of the slot: room for any usual message.
            payloadRing[index] = Array(repeating: 0, count: 64)
        }
        while true {
            switch payloadRing[index].withUnsafeMutableBufferPointer({ message.encode(inPlace: $0) }) {
            case .written(let count):
                return payloadRing[index][0..<count]
            case .failed(let error):
                throw error
            case .overflowed:
                let room = payloadRing[index].count
                guard room < 1024 else {
                    // Far beyond N201: encoded the plain way, for the data link to refuse.
                    var octets: [UInt8] = []
                    try message.encode(into: &octets)
                    payloadRing[index] = octets
                    return octets[...]
                }
                payloadRing[index] = Array(repeating: 0, count: room * 2)
            }
        }
    }
}

/// The data link's sink inside `PRIDChannel`: what goes to the driver (frames, errors, timers)
/// is appended to the driver's actions at once, as the data link sends it, so N(S) order and
/// wire order stay the same; indications for call control are kept for the stack to pass up
/// when the input is done (call control may not run inside a data link input).
struct PRILinkSink: Q921ActionSink, Sendable {
    var out: [PRIAction]
    /// The received message of the input, the one indication nearly every input raises: kept
    /// as a plain slice, not an enum in an array.
    var message: ArraySlice<UInt8> = []
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
            if !hasMessage && otherIndications.isEmpty {
                message = payload
                hasMessage = true
            } else {
                otherIndications.append(.dataIndication(payload))
            }
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
}
