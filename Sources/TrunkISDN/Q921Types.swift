/// Parameters of one Q.921 data link (Q.921 §5.9, libpri/ETSI defaults for PRI).
public struct Q921Configuration: Hashable, Sendable {
    public var role: ISDNRole
    public var sapi: UInt8
    public var tei: UInt8
    /// k: maximum number of outstanding I frames.
    public var k: Int
    /// N200: maximum number of retransmissions of a frame or poll.
    public var n200: Int
    /// N201: maximum octets in an information field.
    public var n201: Int
    /// T200: time to wait for an acknowledgement.
    public var t200: Duration
    /// T203: maximum idle time before polling the peer.
    public var t203: Duration
    /// Upper bound on I frames waiting to be sent, so a dead link cannot grow memory without end.
    public var maximumQueuedFrames: Int

    public init(
        role: ISDNRole,
        sapi: UInt8 = LAPDAddress.callControlSAPI,
        tei: UInt8 = 0,
        k: Int = 7,
        n200: Int = 3,
        n201: Int = 260,
        t200: Duration = .seconds(1),
        t203: Duration = .seconds(10),
        maximumQueuedFrames: Int = 256
    ) {
        self.role = role
        self.sapi = sapi
        self.tei = tei
        self.k = k
        self.n200 = n200
        self.n201 = n201
        self.t200 = t200
        self.t203 = t203
        self.maximumQueuedFrames = maximumQueuedFrames
    }
}

/// The two data link timers.
public enum Q921Timer: Hashable, Sendable {
    case t200
    case t203
}

/// Error conditions reported to management (MDL-ERROR indication codes of Q.921 Appendix II
/// in brackets) plus the codec and queue problems of this implementation.
public enum Q921Error: Hashable, Sendable {
    /// [A] Supervisory response with F = 1 while no poll was outstanding.
    case unsolicitedSupervisoryResponse
    /// [B] DM response with F = 1 while multiple frame operation was established.
    case unsolicitedDisconnectedModeFinal
    /// [C, D] UA response nobody asked for.
    case unsolicitedUnnumberedAcknowledgement
    /// [E] DM response with F = 0: the peer left multiple frame operation.
    case peerInDisconnectedMode
    /// [F] The peer re-established a link that was already established.
    case peerReestablishedLink
    /// [G] SABME retried N200 times without answer.
    case establishmentFailed
    /// [H] DISC retried N200 times without answer.
    case releaseFailed
    /// [I] Poll retried N200 times in timer recovery without answer.
    case timerRecoveryFailed
    /// [J] N(R) outside V(A)...V(S).
    case invalidReceiveSequenceNumber(nr: UInt8)
    /// [K] FRMR received.
    case frameRejectReceived
    /// [L] Undefined control field or a field where none is allowed.
    case invalidFrame(LAPDDecodingError)
    /// [O] Information field longer than N201.
    case informationFieldTooLong(length: Int)
    /// A command arrived as a response or the reverse.
    case wrongCommandResponse
    /// Bytes that were not a frame at all (too short, bad address extension bits).
    case malformedFrame(LAPDDecodingError)
    /// DL-DATA request dropped: link released or queue full.
    case dataDiscarded
}

/// What the data link asks its driver and its layer 3 to do.
public enum Q921Action: Hashable, Sendable {
    /// Send this frame on the D-channel (the driver appends the FCS).
    case transmit(LAPDFrame)
    /// Arm a timer; a later `startTimer` for the same timer replaces the deadline.
    case startTimer(Q921Timer, deadline: ISDNInstant)
    case stopTimer(Q921Timer)
    /// DL-ESTABLISH indication: the peer (or an error recovery) established the link.
    case establishIndication
    /// DL-ESTABLISH confirm: the link layer 3 asked for is up.
    case establishConfirm
    /// DL-RELEASE indication: the link went down without layer 3 asking.
    case releaseIndication
    /// DL-RELEASE confirm: the release layer 3 asked for is done.
    case releaseConfirm
    /// DL-DATA indication: an in-sequence I frame's payload.
    case dataIndication(ArraySlice<UInt8>)
    /// DL-UNIT DATA indication: a UI frame's payload.
    case unitDataIndication(ArraySlice<UInt8>)
    /// MDL-ERROR indication or a local problem, for counters and logs.
    case error(Q921Error)
}

/// Where the data link puts its actions. An array of them for callers that carry the actions
/// out afterwards; `PRIDChannel` passes its own sink, which forwards frames and timers to the
/// driver's actions as they come and keeps only the indications layer 3 must see.
public protocol Q921ActionSink {
    mutating func append(_ action: consuming Q921Action)
    /// DL-DATA indication of the information field of `frame` from `start` on. `frame` is
    /// valid only until the data link returns; the default appends `.dataIndication` with a
    /// slice of it.
    mutating func dataIndication(_ frame: borrowing ArraySlice<UInt8>, payloadFrom start: Int)
}

extension Q921ActionSink {
    public mutating func dataIndication(_ frame: borrowing ArraySlice<UInt8>, payloadFrom start: Int) {
        append(.dataIndication(frame[start...]))
    }
}

extension Array: Q921ActionSink where Element == Q921Action {}

/// Observable name of the data link state (the state itself stays private to the machine).
public enum Q921StateName: Hashable, Sendable {
    case teiAssigned
    case awaitingEstablishment
    case awaitingRelease
    case multipleFrameEstablished
    case timerRecovery
}

/// Running totals for `pri show spans`-style output and alarms.
public struct Q921Counters: Hashable, Sendable {
    public var framesReceived = 0
    public var framesTransmitted = 0
    public var informationFramesReceived = 0
    public var informationFramesTransmitted = 0
    public var retransmittedFrames = 0
    public var rejectsTransmitted = 0
    public var unknownAddressFrames = 0
    public var malformedFrames = 0
    public var protocolErrors = 0
    public var discardedData = 0
    public var establishments = 0

    public init() {}
}
