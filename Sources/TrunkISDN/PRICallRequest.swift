/// A call-control request given to a running D-channel stack as a value.
///
/// The same requests `Q931Interface` offers as methods, for drivers that queue requests or
/// hand them across a loop: a value is switched on inside the stack, where a closure passed to
/// `PRIDChannel.callControl` crosses the module boundary uninlined on every request.
public enum PRICallRequest: Hashable, Sendable {
    case setupAcknowledge(Q931CallID)
    case proceeding(Q931CallID)
    case alerting(Q931CallID, inBandInformation: Bool = false)
    case connect(Q931CallID, connectedNumber: PartyNumber? = nil)
    case disconnect(Q931CallID, cause: Q850Cause)
    case release(Q931CallID, cause: Q850Cause = .normalCallClearing)
}
