/// Q.931 call states (Q.931 §2.1 and §2.2); the raw value is the state number sent in STATUS.
///
/// The names are the standard's. Which ones a call passes through depends on the side:
/// a user-originated call is U1-U4 at the user and N1-N4 at the network, a network-originated
/// call is N6-N9/N25 at the network and U6-U9/U25 at the user.
public enum Q931CallState: UInt8, Hashable, Sendable {
    case null = 0
    case callInitiated = 1
    case overlapSending = 2
    case outgoingCallProceeding = 3
    case callDelivered = 4
    case callPresent = 6
    case callReceived = 7
    case connectRequest = 8
    case incomingCallProceeding = 9
    case active = 10
    case disconnectRequest = 11
    case disconnectIndication = 12
    case suspendRequest = 15
    case resumeRequest = 17
    case releaseRequest = 19
    case callAbort = 22
    case overlapReceiving = 25
}

/// Identifies a call within one interface: the call reference value and who allocated it.
public struct Q931CallID: Hashable, Sendable, CustomStringConvertible {
    public let callReference: UInt16
    /// True when this side allocated the call reference (it sent the SETUP).
    public let isOutgoing: Bool

    public init(callReference: UInt16, isOutgoing: Bool) {
        self.callReference = callReference
        self.isOutgoing = isOutgoing
    }

    public var description: String { "\(isOutgoing ? "out" : "in")#\(callReference)" }
}

/// Q.931 timers (Q.931 table 9-1 and 9-2).
public enum Q931Timer: Hashable, Sendable, CaseIterable {
    /// ALERTING received, waiting for CONNECT.
    case t301
    /// Overlap: waiting for more digits after SETUP ACKNOWLEDGE or INFORMATION.
    case t302
    /// SETUP sent, waiting for any answer.
    case t303
    /// Overlap: waiting for the far side after SETUP ACKNOWLEDGE or INFORMATION was sent.
    case t304
    /// DISCONNECT sent, waiting for RELEASE or DISCONNECT.
    case t305
    /// RELEASE sent, waiting for RELEASE COMPLETE.
    case t308
    /// Data link lost with calls active.
    case t309
    /// CALL PROCEEDING received, waiting for ALERTING/CONNECT/DISCONNECT.
    case t310
    /// CONNECT sent (user side), waiting for CONNECT ACKNOWLEDGE.
    case t313
    /// RESTART sent, waiting for RESTART ACKNOWLEDGE.
    case t316
    /// RESUME sent, waiting for RESUME ACKNOWLEDGE or RESUME REJECT.
    case t318
    /// SUSPEND sent, waiting for SUSPEND ACKNOWLEDGE or SUSPEND REJECT.
    case t319
    /// STATUS ENQUIRY sent, waiting for STATUS.
    case t322
}

/// A timer the driver keeps for the interface: per call, or the interface's restart timer.
public enum Q931TimerID: Hashable, Sendable {
    case call(Q931CallID, Q931Timer)
    case restart
}

/// Q.931 parameters. Defaults are libpri's where it has one, Q.931's otherwise.
public struct Q931Configuration: Hashable, Sendable {
    public var role: ISDNRole
    /// Octets of call reference value: 2 on a PRI.
    public var callReferenceLength: Int
    /// B-channels of the interface (E1: time slots 1-15 and 17-31).
    public var bChannels: [UInt8]
    /// Location put in the Cause elements we send.
    public var causeLocation: Q850Cause.Location
    /// Answer a received DISCONNECT with RELEASE at once (true), or wait for `release` from above,
    /// for example to let the caller hear an in-band announcement first (false).
    public var releaseOnDisconnect: Bool
    /// When to give up on ringing; nil = never.
    public var t301: Duration?
    public var t302: Duration
    public var t303: Duration
    public var t304: Duration
    public var t305: Duration
    public var t308: Duration
    public var t309: Duration
    /// nil = off (libpri's default).
    public var t310: Duration?
    public var t313: Duration
    public var t316: Duration
    /// How many times RESTART is sent before giving up.
    public var n316: Int
    public var t318: Duration
    public var t319: Duration
    public var t322: Duration

    public init(
        role: ISDNRole,
        callReferenceLength: Int = 2,
        bChannels: [UInt8] = Array(1...15) + Array(17...31),
        causeLocation: Q850Cause.Location? = nil,
        releaseOnDisconnect: Bool = true,
        t301: Duration? = .seconds(180),
        t302: Duration = .seconds(15),
        t303: Duration = .seconds(4),
        t304: Duration = .seconds(30),
        t305: Duration = .seconds(30),
        t308: Duration = .seconds(4),
        t309: Duration = .seconds(6),
        t310: Duration? = nil,
        t313: Duration = .seconds(4),
        t316: Duration = .seconds(120),
        n316: Int = 2,
        t318: Duration = .seconds(4),
        t319: Duration = .seconds(4),
        t322: Duration = .seconds(4)
    ) {
        self.role = role
        self.callReferenceLength = callReferenceLength
        self.bChannels = bChannels
        self.causeLocation = causeLocation ?? (role == .user ? .user : .publicNetworkServingLocalUser)
        self.releaseOnDisconnect = releaseOnDisconnect
        self.t301 = t301
        self.t302 = t302
        self.t303 = t303
        self.t304 = t304
        self.t305 = t305
        self.t308 = t308
        self.t309 = t309
        self.t310 = t310
        self.t313 = t313
        self.t316 = t316
        self.n316 = n316
        self.t318 = t318
        self.t319 = t319
        self.t322 = t322
    }

    func duration(of timer: Q931Timer) -> Duration? {
        switch timer {
        case .t301: return t301
        case .t302: return t302
        case .t303: return t303
        case .t304: return t304
        case .t305: return t305
        case .t308: return t308
        case .t309: return t309
        case .t310: return t310
        case .t313: return t313
        case .t316: return t316
        case .t318: return t318
        case .t319: return t319
        case .t322: return t322
        }
    }
}

/// What the layer above asks for when it places a call.
public struct Q931SetupRequest: Hashable, Sendable {
    public var calledNumber: PartyNumber
    public var callingNumber: PartyNumber?
    /// The B-channel to use; nil lets this side pick a free one.
    public var channel: UInt8?
    /// Whether the channel is the only acceptable one.
    public var exclusive: Bool
    public var bearerCapability: BearerCapability
    /// En-bloc sending (true: the number is complete, Sending complete is included) or
    /// overlap sending (false: more digits follow with `information`).
    public var sendingComplete: Bool
    public var display: String?
    public var redirectingNumber: PartyNumber?

    public init(
        calledNumber: PartyNumber,
        callingNumber: PartyNumber? = nil,
        channel: UInt8? = nil,
        exclusive: Bool = false,
        bearerCapability: BearerCapability = .speechALaw,
        sendingComplete: Bool = true,
        display: String? = nil,
        redirectingNumber: PartyNumber? = nil
    ) {
        self.calledNumber = calledNumber
        self.callingNumber = callingNumber
        self.channel = channel
        self.exclusive = exclusive
        self.bearerCapability = bearerCapability
        self.sendingComplete = sendingComplete
        self.display = display
        self.redirectingNumber = redirectingNumber
    }
}

/// A call offered by the far side.
///
/// The fields live in one copy-on-write storage object, so an indication carrying an offer
/// stays as small as the others (an offer held inline made every action 185 bytes, and the
/// copies cost more than an allocation), and the call table refills the storage of a slot's
/// last offer for the next once the layer above has let go of it: no allocation per offer.
public struct Q931IncomingCall: Hashable, Sendable, CustomReflectable {
    struct Fields: Hashable, Sendable {
        var id: Q931CallID
        var calledNumber: PartyNumber?
        var callingNumber: PartyNumber?
        var redirectingNumber: PartyNumber?
        var channel: UInt8
        var bearerCapability: BearerCapability
        var sendingComplete: Bool
        var display: String?

        static let placeholder = Fields(
            id: Q931CallID(callReference: 0, isOutgoing: false), channel: 0, bearerCapability: .speechALaw, sendingComplete: false)
    }

    /// Mutated only while uniquely referenced (copy-on-write, as an array's buffer is), so no
    /// two threads ever see it change: sendable although it has a `var`.
    final class Storage: @unchecked Sendable {
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var storage: Storage

    init(_ fields: Fields) {
        storage = Storage(fields)
    }

    /// Sets every field, in place when this is the storage's only holder.
    mutating func refill(_ fields: consuming Fields) {
        if isKnownUniquelyReferenced(&storage) {
            storage.fields = fields
        } else {
            storage = Storage(fields)
        }
    }

    private var fields: Fields {
        get { storage.fields }
        _modify {
            if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
            yield &storage.fields
        }
    }

    public var id: Q931CallID {
        get { fields.id }
        set { fields.id = newValue }
    }
    public var calledNumber: PartyNumber? {
        get { fields.calledNumber }
        set { fields.calledNumber = newValue }
    }
    public var callingNumber: PartyNumber? {
        get { fields.callingNumber }
        set { fields.callingNumber = newValue }
    }
    public var redirectingNumber: PartyNumber? {
        get { fields.redirectingNumber }
        set { fields.redirectingNumber = newValue }
    }
    /// The B-channel this side assigned.
    public var channel: UInt8 {
        get { fields.channel }
        set { fields.channel = newValue }
    }
    public var bearerCapability: BearerCapability {
        get { fields.bearerCapability }
        set { fields.bearerCapability = newValue }
    }
    /// The number is complete (Sending complete was present): answer en-bloc.
    public var sendingComplete: Bool {
        get { fields.sendingComplete }
        set { fields.sendingComplete = newValue }
    }
    public var display: String? {
        get { fields.display }
        set { fields.display = newValue }
    }

    public static func == (lhs: Q931IncomingCall, rhs: Q931IncomingCall) -> Bool {
        lhs.storage === rhs.storage || lhs.fields == rhs.fields
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(fields)
    }

    /// The fields, as printed before they moved into the storage.
    public var customMirror: Mirror {
        Mirror(self, children: Mirror(reflecting: fields).children, displayStyle: .struct)
    }
}

/// Events for the layer above (the gateway's call manager).
public enum Q931Indication: Hashable, Sendable {
    case incomingCall(Q931IncomingCall)
    /// Overlap sending: the far side wants more digits (SETUP ACKNOWLEDGE received).
    case setupAcknowledged(Q931CallID)
    /// Overlap receiving: digits arrived in INFORMATION.
    case moreDigits(Q931CallID, digits: String, sendingComplete: Bool)
    /// Overlap receiving ended (Sending complete or T302): the collected number is final.
    case digitsComplete(Q931CallID, calledNumber: String)
    case proceeding(Q931CallID)
    case alerting(Q931CallID, inBandInformation: Bool)
    case progress(Q931CallID, ProgressIndicator)
    /// The B-channel of a call changed from what was asked (or was first chosen by the far side).
    case channelAssigned(Q931CallID, channel: UInt8)
    /// Our call was answered (CONNECT received).
    case answered(Q931CallID, connectedNumber: PartyNumber?)
    /// The call we answered is active (CONNECT ACKNOWLEDGE received, or CONNECT sent by the network).
    case connected(Q931CallID)
    /// The far side started clearing (DISCONNECT received).
    case disconnecting(Q931CallID, cause: Q850Cause)
    /// The call is gone: call reference released, its B-channel free again.
    case cleared(Q931CallID, cause: Q850Cause, channel: UInt8?)
    case information(Q931CallID, keypad: String)
    case notification(Q931CallID, NotificationIndicator)
    case facility(Q931CallID?, [UInt8])
    /// The far side reported a state or cause in STATUS (answers to enquiries, complaints).
    case status(Q931CallID, cause: Q850Cause, farState: UInt8)
    /// The far side restarted these channels (nil = the whole interface); calls on them are cleared.
    case restarted(channels: [UInt8]?)
    /// Our RESTART was acknowledged.
    case restartCompleted(channels: [UInt8]?)
    /// Our RESTART went unanswered N316 times.
    case restartFailed(channels: [UInt8]?)
    /// User side: the network parked the call (SUSPEND ACKNOWLEDGE); its call reference and channel are free.
    case suspended(Q931CallID)
    /// User side: the call could not be parked and stays active.
    case suspendRejected(Q931CallID, cause: Q850Cause)
    /// User side: a parked call is back (RESUME ACKNOWLEDGE) on this channel.
    case resumed(Q931CallID, channel: UInt8?)
}

/// Problems with what the far side sent; for counters and logs, the stack has already reacted.
public enum Q931ProtocolError: Hashable, Sendable {
    case undecodable(Q931DecodingError)
    case ignoredMessage(Q931MessageType, Q931CallReference)
    case unknownCallReference(Q931MessageType, Q931CallReference)
    case unexpectedMessage(Q931MessageType, Q931CallState)
    case mandatoryElementMissing(Q931MessageType, identifier: UInt8)
    case invalidElement(Q931MessageType, identifier: UInt8)
    case unrecognizedElement(Q931MessageType, identifier: UInt8)
    case encodingFailed(Q931EncodingError)
    case noCallReferenceAvailable
    /// A request from the layer above that the call's state does not allow (not the peer's fault).
    case requestNotAllowed(Q931CallID, Q931CallState?)
}

/// What the call control asks its driver, its data link and the layer above to do.
public enum Q931Action: Hashable, Sendable {
    /// Send this message in a DL-DATA request.
    case send(Q931Message)
    case startTimer(Q931TimerID, deadline: ISDNInstant)
    case stopTimer(Q931TimerID)
    /// DL-ESTABLISH request: the data link is needed.
    case establishDataLink
    case indication(Q931Indication)
    case protocolError(Q931ProtocolError)
}

/// Where call control puts its actions. An array of them for callers that carry the actions
/// out afterwards; `PRIDChannel` passes its own sink, which carries each out as it comes
/// (encodes and sends a message, forwards timers and indications), so no action is stored.
public protocol Q931ActionSink {
    mutating func append(_ action: consuming Q931Action)
    /// `append(.send(message))`, for a sink that can carry the message out where it lies:
    /// `PRIDChannel`'s encodes it at once, so its element list is not retained for an action.
    mutating func send(_ message: borrowing Q931Message)
    /// The messages sent and protocol errors among every action taken so far: the interface
    /// reads it before and after an input to keep its counters.
    var tally: Q931ActionTally { get }
}

extension Q931ActionSink {
    public mutating func send(_ message: borrowing Q931Message) {
        append(.send(copy message))
    }
}

/// Messages sent and protocol errors a `Q931ActionSink` has taken.
public struct Q931ActionTally: Sendable {
    public var messagesSent = 0
    public var protocolErrors = 0

    public init() {}

    /// Counts `action` if it is a message sent or a protocol error.
    @inline(__always)
    public mutating func count(_ action: borrowing Q931Action) {
        switch action {
        case .send: messagesSent += 1
        case .protocolError: protocolErrors += 1
        default: break
        }
    }
}

extension Array: Q931ActionSink where Element == Q931Action {
    public var tally: Q931ActionTally {
        // Read through the buffer: `self[index]` copied each action out (retaining its
        // message) only to look at its case.
        var tally = Q931ActionTally()
        withUnsafeBufferPointer { actions in
            for index in actions.indices { tally.count(actions[index]) }
        }
        return tally
    }
}

/// Running totals for status output.
public struct Q931Counters: Hashable, Sendable {
    public var messagesReceived = 0
    public var messagesSent = 0
    public var incomingCalls = 0
    public var outgoingCalls = 0
    public var protocolErrors = 0
    public var restartsReceived = 0
    public var restartsSent = 0

    public init() {}
}
