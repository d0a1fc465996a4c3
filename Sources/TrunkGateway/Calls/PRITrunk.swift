import NIOConcurrencyHelpers
import TrunkCore
import TrunkISDN

/// A PRI span as the call manager sees it: Q.931 indications become `TrunkIndication`s, call
/// requests become Q.931 requests on the span's driver. A call's token is its call reference
/// and direction, so no table is needed to find it again.
public final class PRITrunk: TrunkSignalling, Sendable {
    public let span: Int
    public let kind = TrunkKind.pri
    public let channels: [Int]
    public let driver: PRISpanDriver
    /// Overlap receiving: a SETUP without Sending complete is acknowledged and digits are
    /// collected (T302) before the call is routed. Off: en-bloc, the SETUP's number is final.
    public let overlapReceiving: Bool
    private let now: @Sendable () -> ISDNInstant
    private let manager: CallManager
    /// Calls this side began clearing, so `cleared` can say who cleared.
    private let clearingLocally = NIOLockedValueBox(Set<UInt64>())
    private let lastInService = NIOLockedValueBox<Bool?>(nil)

    public init(driver: PRISpanDriver, manager: CallManager, channels: [UInt8], overlapReceiving: Bool = false,
                now: @escaping @Sendable () -> ISDNInstant) {
        self.driver = driver
        self.span = driver.span
        self.channels = channels.map(Int.init)
        self.manager = manager
        self.overlapReceiving = overlapReceiving
        self.now = now
        driver.onIndication { [weak self] _, indication in self?.translate(indication) }
    }

    static func token(_ call: Q931CallID) -> UInt64 { UInt64(call.callReference) | (call.isOutgoing ? 1 << 32 : 0) }

    static func call(_ token: UInt64) -> Q931CallID {
        Q931CallID(callReference: UInt16(truncatingIfNeeded: token), isOutgoing: token & (1 << 32) != 0)
    }

    private func reference(_ call: Q931CallID) -> TrunkCallReference { TrunkCallReference(span: span, token: Self.token(call)) }

    /// Tells the call manager when the span goes in or out of service; called every tick.
    public func service() {
        let inService = driver.inService
        let changed = lastInService.withLockedValue { last -> Bool in
            defer { last = inService }
            return last != inService
        }
        if changed { manager.handle(.serviceChanged(span: span, inService: inService)) }
    }

    private func translate(_ indication: Q931Indication) {
        switch indication {
        case .incomingCall(let call):
            let complete = call.sendingComplete || !overlapReceiving
            manager.handle(.offered(reference(call.id), channel: Int(call.channel), caller: call.callingNumber?.digits,
                                    presentation: call.callingNumber?.presentation.map { Self.name($0.presentation) },
                                    callee: call.calledNumber?.digits, redirecting: call.redirectingNumber?.digits,
                                    numberComplete: complete))
            if !complete {
                let at = now()
                driver.callControl(now: at) { $0.setupAcknowledge(call.id, now: at) }
            }
        case let .digitsComplete(call, number): manager.handle(.numberComplete(reference(call), callee: number))
        case let .channelAssigned(call, channel): manager.handle(.channelAssigned(reference(call), channel: Int(channel)))
        case .proceeding(let call): manager.handle(.proceeding(reference(call)))
        case .alerting(let call, _): manager.handle(.alerting(reference(call)))
        case .answered(let call, _): manager.handle(.answered(reference(call)))
        case .connected(let call): manager.handle(.connected(reference(call)))
        case let .disconnecting(call, cause): manager.handle(.remoteClearing(reference(call), cause: cause))
        case let .cleared(call, cause, _):
            let token = Self.token(call)
            let local = clearingLocally.withLockedValue { $0.remove(token) != nil }
            manager.handle(.cleared(reference(call), cause: cause, remote: !local))
        case let .information(call, keypad): manager.handle(.keypad(reference(call), digits: keypad))
        default: break
        }
    }

    static func name(_ presentation: PartyNumber.Presentation) -> String {
        switch presentation {
        case .allowed: "allowed"
        case .restricted: "restricted"
        case .notAvailable: "unavailable"
        case .reserved: "reserved"
        }
    }

    // MARK: TrunkSignalling

    public func canPlaceCall(on channel: Int) -> Bool {
        guard let b = UInt8(exactly: channel) else { return false }
        return driver.inService && !driver.isBlocked(b) && driver.call(onChannel: b) == nil
    }

    public func proceed(_ call: TrunkCallReference) {
        let at = now()
        driver.callControl(now: at) { $0.proceeding(Self.call(call.token), now: at) }
    }

    public func alert(_ call: TrunkCallReference) {
        let at = now()
        driver.callControl(now: at) { $0.alerting(Self.call(call.token), now: at) }
    }

    public func answer(_ call: TrunkCallReference) {
        let at = now()
        driver.callControl(now: at) { $0.connect(Self.call(call.token), now: at) }
    }

    public func hangup(_ call: TrunkCallReference, cause: Q850Cause) {
        clearingLocally.withLockedValue { _ = $0.insert(call.token) }
        let at = now()
        driver.callControl(now: at) { $0.disconnect(Self.call(call.token), cause: cause, now: at) }
    }

    public func originate(channel: Int, number: String, caller: String?) throws(TrunkError) -> TrunkCallReference {
        let placed = try driver.placeCallOnChannel(called: number, calling: caller, channel: UInt8(clamping: channel), now: now())
        return reference(placed.call)
    }
}
