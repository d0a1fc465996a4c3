import TrunkCore
import TrunkISDN

/// A trunk's signalling as the call manager drives it: one per span, whatever the protocol
/// (an ISDN PRI D-channel, a set of analog ports). The call manager never sees Q.931 or hook
/// states; adapters translate both ways.
public protocol TrunkSignalling: AnyObject, Sendable {
    var span: Int { get }
    var kind: TrunkKind { get }
    /// Channel positions that can carry calls (PRI B-channels, analog ports).
    var channels: [Int] { get }
    /// Whether a new call can be placed on `channel` now (link up, not blocked, no alarm).
    func canPlaceCall(on channel: Int) -> Bool
    /// Tells the caller the call is being dealt with (CALL PROCEEDING).
    func proceed(_ call: TrunkCallReference)
    /// Rings the caller back (ALERTING).
    func alert(_ call: TrunkCallReference)
    /// Answers an offered call (CONNECT; off hook on an FXO port).
    func answer(_ call: TrunkCallReference)
    /// Clears a call in whatever state it is.
    func hangup(_ call: TrunkCallReference, cause: Q850Cause)
    /// Seizes `channel` and dials `number`.
    func originate(channel: Int, number: String, caller: String?) throws(TrunkError) -> TrunkCallReference
}

/// A trunk's own handle for one call (a Q.931 call reference, an analog port's seizure).
public struct TrunkCallReference: Hashable, Sendable, CustomStringConvertible {
    public var span: Int
    public var token: UInt64

    public init(span: Int, token: UInt64) {
        self.span = span
        self.token = token
    }

    public var description: String { "\(span):\(token)" }
}

/// What a trunk reports about its calls and channels to the call manager.
public enum TrunkIndication: Sendable, Equatable {
    /// A new inbound call. `numberComplete` false: more digits may follow (overlap receiving).
    case offered(TrunkCallReference, channel: Int, caller: String?, presentation: String?, callee: String?,
                 redirecting: String?, numberComplete: Bool)
    case numberComplete(TrunkCallReference, callee: String)
    case channelAssigned(TrunkCallReference, channel: Int)
    case proceeding(TrunkCallReference)
    case alerting(TrunkCallReference)
    /// The far end answered our call.
    case answered(TrunkCallReference)
    /// Our answer took (the call is up).
    case connected(TrunkCallReference)
    /// The far end began clearing.
    case remoteClearing(TrunkCallReference, cause: Q850Cause)
    /// The call is gone. `remote` says whether the far end cleared it.
    case cleared(TrunkCallReference, cause: Q850Cause, remote: Bool)
    /// The line or its signalling link went out of service or came back.
    case serviceChanged(span: Int, inService: Bool)
    /// Keypad digits sent in signalling (INFORMATION) after the call began.
    case keypad(TrunkCallReference, digits: String)
}
