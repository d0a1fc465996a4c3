import CLibPRIPeer
import TrunkISDN

/// Runs many complete calls between TrunkISDN and libpri, both directions, several at once,
/// and checks on the far side of each call what the near side sent.
///
/// The harness plays both call managers. Every call gets its own B-channel (exclusive), its own
/// called and calling numbers and a plan: who places it, who clears it, and with which cause.
struct LibPRICallEngine {
    enum Side: Hashable { case trunk, libpri }

    enum Ending: Hashable, CaseIterable {
        /// Answered; the caller clears with cause 16.
        case callerClears
        /// Answered; the called side clears with cause 16.
        case calleeClears
        /// Called side alerts, then refuses with DISCONNECT cause 17 (user busy).
        case busyAfterAlerting
        /// Called side refuses at once with cause 21 (call rejected): RELEASE COMPLETE.
        case rejected

        var cause: Int32 {
            switch self {
            case .callerClears, .calleeClears: return 16
            case .busyAfterAlerting: return 17
            case .rejected: return 21
            }
        }

        var answered: Bool { self == .callerClears || self == .calleeClears }
    }

    struct Plan {
        var index: Int
        var caller: Side
        var ending: Ending
        var called: String
        var calling: String
        var channel: UInt8
    }

    /// What each side saw of one call.
    struct Record {
        var plan: Plan
        var trunkCall: Q931CallID?
        var libpriCall: OpaquePointer?
        var offeredNumbersMatch = false
        var offeredChannel: UInt8?
        var alerted = false
        var answered = false
        /// Cause the side that did not clear first was told.
        var farCause: Int32?
        var trunkCleared: Q850Cause?
        var libpriDone = false
        var problems: [String] = []

        var isDone: Bool { trunkCleared != nil && libpriDone }
    }

    let lab: LibPRIHarness
    var records: [Record] = []
    private var freeChannels: [UInt8]
    private var nextIndex = 0
    private var doneCount = 0
    let total: Int
    var problems: [String] = []
    private(set) var peakConcurrentCalls = 0

    init(lab: LibPRIHarness, total: Int, channels: [UInt8] = Array(1...15) + Array(17...31)) {
        self.lab = lab
        self.total = total
        self.freeChannels = channels
    }

    static func plan(_ index: Int, channel: UInt8) -> Plan {
        Plan(
            index: index,
            caller: index % 2 == 0 ? .trunk : .libpri,
            ending: Ending.allCases[(index / 2) % 4],
            called: "8610\(100_000 + index)",
            calling: "1390\(200_000 + index)",
            channel: channel)
    }

    /// Places calls until `total` have run, keeping every free channel busy; returns when all
    /// calls are over on both sides or `timeout` has passed.
    mutating func run(timeout: Duration) -> Bool {
        let end = monotonicNow() + timeout
        while monotonicNow() < end {
            while nextIndex < total, let channel = freeChannels.popLast() {
                place(Self.plan(nextIndex, channel: channel))
                nextIndex += 1
            }
            peakConcurrentCalls = max(peakConcurrentCalls, records.count - doneCount)
            if nextIndex == total, doneCount == records.count { return true }
            lab.pump(maximumWait: .milliseconds(5))
            for indication in lab.takeIndications() { handle(indication) }
            for event in lab.takeEvents() { handle(event) }
        }
        return false
    }

    private mutating func place(_ plan: Plan) {
        var record = Record(plan: plan)
        switch plan.caller {
        case .trunk:
            record.trunkCall = lab.trunkSetup(Q931SetupRequest(
                calledNumber: PartyNumber(digits: plan.called),
                callingNumber: PartyNumber(digits: plan.calling, presentation: .allowedUserNotScreened),
                channel: plan.channel, exclusive: true))
        case .libpri:
            record.libpriCall = lpp_place_call(lab.peer, Int32(plan.channel), 1, plan.called, plan.calling, 1)
            if record.libpriCall == nil { record.problems.append("libpri refused to place the call") }
        }
        records.append(record)
    }

    private func recordIndex(trunk id: Q931CallID) -> Int? {
        records.lastIndex { $0.trunkCall == id }
    }

    private func recordIndex(libpri call: OpaquePointer?) -> Int? {
        guard let call else { return nil }
        return records.lastIndex { $0.libpriCall == call && !$0.libpriDone }
    }

    private mutating func finishIfDone(_ index: Int) {
        let record = records[index]
        guard record.isDone else { return }
        doneCount += 1
        freeChannels.insert(record.plan.channel, at: 0)
        check(record)
    }

    private mutating func check(_ record: Record) {
        var issues = record.problems
        let plan = record.plan
        if !record.offeredNumbersMatch { issues.append("numbers not offered intact") }
        if record.offeredChannel != plan.channel { issues.append("offered on channel \(record.offeredChannel.map(String.init) ?? "none")") }
        if plan.ending.answered != record.answered { issues.append("answered: \(record.answered)") }
        if plan.ending == .busyAfterAlerting && !record.alerted { issues.append("no ALERTING seen") }
        if record.farCause != plan.ending.cause { issues.append("far side cause \(record.farCause.map(String.init) ?? "none")") }
        if let cause = record.trunkCleared, Int32(cause.rawValue) != plan.ending.cause {
            issues.append("TrunkISDN cleared with \(cause.rawValue)")
        }
        if !issues.isEmpty {
            problems.append("call \(plan.index) (\(plan.caller) calls, \(plan.ending)): " + issues.joined(separator: ", "))
        }
    }

    /// Whether the side clears first in this plan.
    private func clearsFirst(_ side: Side, _ plan: Plan) -> Bool {
        switch plan.ending {
        case .callerClears: return plan.caller == side
        default: return plan.caller != side
        }
    }

    // MARK: - TrunkISDN's call manager

    private mutating func handle(_ indication: Q931Indication) {
        switch indication {
        case .incomingCall(let offer):
            guard let index = records.lastIndex(where: { $0.plan.caller == .libpri && $0.trunkCall == nil && $0.plan.channel == offer.channel }) else {
                problems.append("unexpected call offered to TrunkISDN: \(offer)")
                return
            }
            records[index].trunkCall = offer.id
            let plan = records[index].plan
            records[index].offeredChannel = offer.channel
            records[index].offeredNumbersMatch = offer.calledNumber?.digits == plan.called && offer.callingNumber?.digits == plan.calling
                && offer.sendingComplete
            switch plan.ending {
            case .rejected:
                lab.trunk { $0.disconnect(offer.id, cause: .callRejected, now: $1) }
            case .busyAfterAlerting:
                lab.trunk { $0.proceeding(offer.id, now: $1) }
                lab.trunk { $0.alerting(offer.id, now: $1) }
                lab.trunk { $0.disconnect(offer.id, cause: .userBusy, now: $1) }
            case .callerClears, .calleeClears:
                lab.trunk { $0.proceeding(offer.id, now: $1) }
                lab.trunk { $0.alerting(offer.id, now: $1) }
                lab.trunk { $0.connect(offer.id, now: $1) }
            }
        case .alerting(let id, _):
            if let index = recordIndex(trunk: id) { records[index].alerted = true }
        case .answered(let id, _):
            guard let index = recordIndex(trunk: id) else { return }
            records[index].answered = true
            let plan = records[index].plan
            if plan.ending == .callerClears {
                lab.trunk { $0.disconnect(id, cause: .normalCallClearing, now: $1) }
            } else if let call = records[index].libpriCall {
                // The caller has its answer: now the called side (libpri) clears.
                _ = pri_hangup(lab.pri, call, Int32(plan.ending.cause))
            }
        case .disconnecting(let id, let cause):
            guard let index = recordIndex(trunk: id) else { return }
            if !clearsFirst(.trunk, records[index].plan) { records[index].farCause = Int32(cause.rawValue) }
        case .cleared(let id, let cause, _):
            guard let index = recordIndex(trunk: id) else {
                problems.append("TrunkISDN cleared unknown call \(id)")
                return
            }
            records[index].trunkCleared = cause
            if !clearsFirst(.trunk, records[index].plan), records[index].farCause == nil {
                records[index].farCause = Int32(cause.rawValue)
            }
            finishIfDone(index)
        default:
            break
        }
    }

    // MARK: - libpri's call manager

    private mutating func handle(_ event: LibPRIEvent) {
        switch event.type {
        case PRI_EVENT_RING:
            guard let index = records.lastIndex(where: { $0.plan.caller == .trunk && $0.libpriCall == nil && Int32($0.plan.channel) == event.channel }) else {
                problems.append("unexpected call offered to libpri: \(event)")
                return
            }
            let call = event.call
            records[index].libpriCall = call
            let plan = records[index].plan
            records[index].offeredChannel = UInt8(event.channel)
            records[index].offeredNumbersMatch = event.called == plan.called && event.calling == plan.calling && event.complete
            let channel = Int32(plan.channel)
            switch plan.ending {
            case .rejected:
                // libpri rejects a call it has not yet answered with RELEASE COMPLETE only for
                // channel and number causes (34, 44, ...); for 21 it sends nothing until it has
                // proceeded, so it refuses with CALL PROCEEDING and DISCONNECT 21.
                _ = pri_proceeding(lab.pri, call, channel, 0)
                _ = pri_hangup(lab.pri, call, 21)
            case .busyAfterAlerting:
                _ = pri_proceeding(lab.pri, call, channel, 0)
                _ = pri_acknowledge(lab.pri, call, channel, 0)
                _ = pri_hangup(lab.pri, call, 17)
            case .callerClears, .calleeClears:
                _ = pri_proceeding(lab.pri, call, channel, 0)
                _ = pri_acknowledge(lab.pri, call, channel, 0)
                _ = pri_answer(lab.pri, call, channel, 0)
            }
        case PRI_EVENT_RINGING:
            if let index = recordIndex(libpri: event.call) { records[index].alerted = true }
        case PRI_EVENT_ANSWER:
            guard let index = recordIndex(libpri: event.call) else { return }
            records[index].answered = true
            let plan = records[index].plan
            if plan.ending == .callerClears {
                _ = pri_hangup(lab.pri, event.call, 16)
            } else if let id = records[index].trunkCall {
                lab.trunk { $0.disconnect(id, cause: .normalCallClearing, now: $1) }
            }
        case PRI_EVENT_HANGUP_REQ:
            // DISCONNECT received: answer it with RELEASE.
            guard let index = recordIndex(libpri: event.call) else { return }
            if !clearsFirst(.libpri, records[index].plan) { records[index].farCause = event.cause }
            _ = pri_hangup(lab.pri, event.call, event.cause)
        case PRI_EVENT_HANGUP:
            // RELEASE or RELEASE COMPLETE received: the call is over; let libpri free it.
            guard let index = recordIndex(libpri: event.call) else {
                problems.append("libpri hung up an unknown call: \(event)")
                return
            }
            if !clearsFirst(.libpri, records[index].plan), records[index].farCause == nil { records[index].farCause = event.cause }
            records[index].libpriDone = true
            _ = pri_hangup(lab.pri, event.call, event.cause)
            finishIfDone(index)
        case PRI_EVENT_HANGUP_ACK:
            guard let index = recordIndex(libpri: event.call) else { return }
            records[index].libpriDone = true
            finishIfDone(index)
        default:
            break
        }
    }
}
