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

extension PRIDChannel {
    /// Runs one call-control request and carries its actions through the data link, appending
    /// them to `out`: `stack.request(.connect(call), now: now, into: &out)`.
    public mutating func request(_ request: PRICallRequest, now: ISDNInstant, into out: inout [PRIAction]) {
        callControl(now: now, into: &out) { interface, actions in
            switch request {
            case .setupAcknowledge(let call):
                interface.setupAcknowledge(call, now: now, into: &actions)
            case .proceeding(let call):
                interface.proceeding(call, now: now, into: &actions)
            case .alerting(let call, let inBandInformation):
                interface.alerting(call, inBandInformation: inBandInformation, now: now, into: &actions)
            case .connect(let call, let connectedNumber):
                interface.connect(call, connectedNumber: connectedNumber, now: now, into: &actions)
            case .disconnect(let call, let cause):
                interface.disconnect(call, cause: cause, now: now, into: &actions)
            case .release(let call, let cause):
                interface.release(call, cause: cause, now: now, into: &actions)
            }
        }
    }
}
