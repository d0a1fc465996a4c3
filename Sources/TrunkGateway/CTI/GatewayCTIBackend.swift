import Foundation
import NIOConcurrencyHelpers
import TrunkCore
import TrunkCTI
import TrunkISDN
import TrunkMedia

/// The gateway behind the CTI socket: verbs act on the call manager and the media engine;
/// call notifications and media operation ends become CTI events. Upper layers never see
/// whether a call is on PRI or an analog line except in `trunk` fields.
public final class GatewayCTIBackend: CTIBackend {
    private let calls: CallService
    private let hub: CTIEventHub
    private let status: @Sendable () -> [CTISpanStatus]
    /// Where prompt names without a path are found (`NAME` or `NAME.wav`).
    private let promptFolder: String?
    private let state = NIOLockedValueBox(State())

    private struct Collect {
        var opID: String
        var maximum: Int
        var terminators: String
        var digits = ""
        var deadlineMs: Int64
        var interDigitMs: Int
    }

    private struct Bridge {
        var calls: [String]
        /// Conference room when the bridge has more than two members or is being snooped.
        var conference: Int?
    }

    private struct Snoop {
        var supervisor: String
        var bridgeID: String
    }

    private struct State {
        var originateOps: [String: String] = [:]
        var collects: [String: Collect] = [:]
        var bridges: [String: Bridge] = [:]
        var bridgeOfCall: [String: String] = [:]
        var conferences: [String: Int] = [:]
        var freeRooms = Array((0..<64).reversed())
        var snoops: [String: Snoop] = [:]
        var claims: [String: String] = [:]
        var held: Set<String> = []
        /// Digits that arrived with no collect running (type-ahead), for the next collect.
        var typeahead: [String: String] = [:]
        /// Calls whose playback a digit interrupts.
        var bargeIn: Set<String> = []
        /// Blind transfers waiting for their new call's answer: new call → (partner, bridge, op).
        var blindTransfers: [String: (partner: String, bridgeID: String, opID: String)] = [:]
        /// Calls placed by `channel.ring` (an FXS station rung) until they end.
        var rings: Set<String> = []
        /// Recordings CTI started, by call: their id and the operation that ends with recording.finished.
        var recordingOps: [String: (recordingID: String, opID: String)] = [:]
        /// Calls whose CTI recording a client stopped (their recording.finished says "stopped", else "max_ms").
        var stoppedRecordings: Set<String> = []
    }

    private var manager: CallManager { calls.manager }

    public init(calls: CallService, hub: CTIEventHub, promptFolder: String? = nil, status: @escaping @Sendable () -> [CTISpanStatus],
                tick: (@escaping @Sendable () -> Void) -> Void) {
        self.calls = calls
        self.promptFolder = promptFolder
        self.hub = hub
        self.status = status
        calls.manager.addObserver { [weak self] in self?.publish($0) }
        calls.media?.addOperationObserver { [weak self] in self?.operation($0) }
        tick { [weak self] in self?.service() }
    }

    private var nowMs: Int64 { Int64(MonotonicClock.nanoseconds() / 1_000_000) }

    // MARK: events out

    private func publish(_ notification: CallNotification) {
        switch notification {
        case .offered(let call):
            hub.publish(CTIEvent(.channelOffered, callID: call.callID, channel: number(call.address), span: call.address.span, fields: [
                ("ani", .string(call.caller)), ("dnis", .string(call.callee)), ("redirecting", .string(call.redirecting)),
                ("presentation", .string(call.callerPresentation)), ("trunk", .string(call.trunk.rawValue)),
                ("trunk_type", call.trunk == .pri ? "pri" : "analog"),
                ("trunk_group", .string(call.trunkGroup)), ("claimed_by", .string(call.handler)),
            ]))
        case .originated(let call):
            hub.publish(CTIEvent(.channelState, callID: call.callID, channel: number(call.address), span: call.address.span,
                                 fields: [("state", .string(call.state.rawValue)), ("direction", "out"), ("dnis", .string(call.callee))]))
        case .stateChanged(let call, let from):
            let channel = number(call.address)
            hub.publish(CTIEvent(.channelState, callID: call.callID, channel: channel, span: call.address.span,
                                 fields: [("state", .string(call.state.rawValue)), ("previous", .string(from.rawValue))]))
            if call.state == .proceeding || call.state == .alerting {
                hub.publish(CTIEvent(.channelProgress, callID: call.callID, channel: channel, span: call.address.span,
                                     fields: [("progress", .string(call.state.rawValue))]))
            }
            if call.state == .up, let transfer = state.withLockedValue({ $0.blindTransfers.removeValue(forKey: call.callID) }) {
                do {
                    try createBridge(transfer.bridgeID, [transfer.partner, call.callID])
                    manager.note(transfer.partner, .transferred, detail: call.callID)
                    hub.publish(callEvent(.channelTransferred, transfer.partner, opID: transfer.opID,
                                          fields: [("to_call_id", .string(call.callID)), ("mode", "blind")]))
                } catch {
                    hub.publish(callEvent(.opFailed, transfer.partner, opID: transfer.opID, fields: [
                        ("reason", "transfer_bridge_failed"),
                        ("error", Self.operationError(-32014, "unavailable", "the transfer target answered but could not be bridged: \(error.message)")),
                    ]))
                }
            }
            if call.state == .up {
                let op = state.withLockedValue { $0.originateOps.removeValue(forKey: call.callID) }
                hub.publish(CTIEvent(.channelAnswered, callID: call.callID, channel: channel, span: call.address.span, opID: op,
                                     fields: [("direction", .string(call.direction == .inbound ? "in" : "out"))]))
            }
        case .dtmf(let call, let digit, let duration):
            hub.publish(CTIEvent(.channelDTMF, callID: call.callID, channel: number(call.address), span: call.address.span,
                                 fields: [("digit", .string(String(digit))), ("duration_ms", .int(duration))]))
            collected(call.callID, digit: digit)
        case .ended(let call):
            let (op, collect) = state.withLockedValue { ($0.originateOps.removeValue(forKey: call.callID), $0.collects.removeValue(forKey: call.callID)) }
            if let transfer = state.withLockedValue({ $0.blindTransfers.removeValue(forKey: call.callID) }) {
                hub.publish(callEvent(.opFailed, transfer.partner, opID: transfer.opID, fields: [
                    ("reason", "transfer_target_not_answered"), ("cause", .int(call.cause ?? 0)),
                    ("error", Self.operationError(-32014, "unavailable", "the transfer target did not answer (\(call.causeText ?? "no cause"))",
                                                  [("cause", .int(call.cause ?? 0))])),
                ]))
            }
            let rang = state.withLockedValue { $0.rings.remove(call.callID) != nil }
            if let op {
                // A station nobody picked up: `timeout` when the ring timed out, `abandoned` when
                // the client hung up first, `cleared` when the phone side went away.
                let abandoned = rang && call.clearedBy == .local && call.failure != .timeout
                let reason = abandoned ? "abandoned" : call.failure?.rawValue ?? "cleared"
                hub.publish(callEvent(.opFailed, call.callID, opID: op, fields: [
                    ("reason", .string(reason)), ("cause", .int(call.cause ?? 0)),
                    ("error", Self.operationError(-32014, "unavailable", "the call ended before it was answered (\(call.causeText ?? "no cause"))",
                                                  [("cause", .int(call.cause ?? 0))])),
                ]))
            }
            if let collect { finishCollect(call.callID, collect, reason: "hangup") }
            if let op = state.withLockedValue({ $0.recordingOps.removeValue(forKey: call.callID) }) {
                hub.publish(callEvent(.recordingFinished, call.callID, opID: op.opID,
                                      fields: [("recording_id", .string(op.recordingID)), ("reason", "hangup")]))
            }
            state.withLockedValue { state in
                state.typeahead[call.callID] = nil
                state.bargeIn.remove(call.callID)
                state.stoppedRecordings.remove(call.callID)
            }
            leaveBridge(call.callID)
            hub.publish(CTIEvent(.channelHangup, callID: call.callID, channel: number(call.address), span: call.address.span, fields: [
                ("cause", .int(call.cause ?? 16)), ("cause_txt", .string(call.causeText)),
                ("side", .string(call.clearedBy?.rawValue)), ("tech_cause", .string(call.failure?.rawValue)),
            ]))
        case .recordingFinished(let call):
            guard let op = state.withLockedValue({ $0.recordingOps.removeValue(forKey: call.callID) }) else { return }
            let stopped = state.withLockedValue { $0.stoppedRecordings.remove(call.callID) != nil }
            hub.publish(callEvent(.recordingFinished, call.callID, opID: op.opID,
                                  fields: [("recording_id", .string(op.recordingID)), ("reason", stopped ? "stopped" : "max_ms")]))
        case .channelChanged:
            break
        }
    }

    private func operation(_ event: MediaOperationEvent) {
        switch event {
        case let .playbackFinished(callID, opID, stopped):
            // A play of several items ends with its last; the others carry "OP#index" (see `perform`).
            guard !opID.contains("#") else { return }
            hub.publish(callEvent(.playbackFinished, callID, opID: opID, fields: [("stopped", .bool(stopped)), ("reason", stopped ? "stopped" : "done")]))
        }
    }

    private func number(_ address: ChannelAddress) -> Int? { calls.media?.numbering.number(of: address) }

    /// An event about a call, carrying the call's channel and span as every call event must
    /// (docs/cti-schema.json); an ended call is still found among the recently ended.
    private func callEvent(_ type: CTIEventType, _ callID: String, opID: String? = nil, fields: [(String, JSONValue)] = []) -> CTIEvent {
        let address = manager.call(callID)?.address
        return CTIEvent(type, callID: callID, channel: address.flatMap(number), span: address?.span, opID: opID, fields: fields)
    }

    /// The `error` object of an `op.failed` event, shaped like a JSON-RPC error.
    private static func operationError(_ code: Int, _ reason: String, _ message: String, _ data: [(String, JSONValue)] = []) -> JSONValue {
        .object([("code", .int(Int64(code))), ("message", .string(message)), ("data", .object([("reason", .string(reason))] + data))])
    }

    // MARK: digit collection

    private func collected(_ callID: String, digit: Character) {
        if state.withLockedValue({ $0.bargeIn.remove(callID) != nil }) { calls.media?.stopPlayback(callID: callID) }
        let done: (Collect, String)? = state.withLockedValue { state in
            guard var collect = state.collects[callID] else {
                state.typeahead[callID, default: ""].append(digit)
                if state.typeahead[callID]!.count > 32 { state.typeahead[callID]!.removeFirst() }
                return nil
            }
            if collect.terminators.contains(digit) {
                state.collects[callID] = nil
                return (collect, "term_digit")
            }
            collect.digits.append(digit)
            if collect.digits.count >= collect.maximum {
                state.collects[callID] = nil
                return (collect, "max_digits")
            }
            collect.deadlineMs = nowMs + Int64(collect.interDigitMs)
            state.collects[callID] = collect
            return nil
        }
        if let (collect, reason) = done { finishCollect(callID, collect, reason: reason) }
    }

    private func finishCollect(_ callID: String, _ collect: Collect, reason: String) {
        hub.publish(callEvent(.collectDone, callID, opID: collect.opID,
                             fields: [("digits", .string(collect.digits)), ("reason", .string(reason))]))
    }

    /// Digit timeouts; runs on the signalling tick.
    private func service() {
        let now = nowMs
        let expired = state.withLockedValue { state -> [(String, Collect)] in
            let due = state.collects.filter { $0.value.deadlineMs <= now }
            for key in due.keys { state.collects[key] = nil }
            return due.map { ($0.key, $0.value) }
        }
        for (call, collect) in expired { finishCollect(call, collect, reason: "timeout") }
    }

    // MARK: requests in

    public func locate(_ target: CTITarget) async throws(CTIBackendError) -> CTILocation {
        switch target {
        case .channel(let channel):
            guard let address = calls.media?.numbering.address(of: channel) else { throw CTIBackendError(.notFound, "no channel \(channel)") }
            return CTILocation(span: address.span, channel: channel)
        case .call(let id):
            guard let call = manager.call(id), !call.isEnded else { throw CTIBackendError(.notFound, "no call \(id)") }
            return CTILocation(span: call.address.span, channel: number(call.address) ?? 0)
        }
    }

    public func sessionEnded(_ session: CTISessionInfo) async {
        manager.releaseClaims(ownerPrefix: session.sessionID + "/")
        let snoops = state.withLockedValue { state in
            state.claims = state.claims.filter { $0.value != session.sessionID }
            return state.snoops.filter { $0.key.hasPrefix(session.sessionID + "/") }.map(\.key)
        }
        for snoop in snoops { stopSnoop(snoop) }
    }

    /// The live call a target names.
    private func call(_ target: CTITarget) throws(CTIBackendError) -> CallRecord {
        switch target {
        case .call(let id):
            guard let call = manager.call(id), !call.isEnded else { throw CTIBackendError(.notFound, "no call \(id)") }
            return call
        case .channel(let channel):
            guard let address = calls.media?.numbering.address(of: channel) else { throw CTIBackendError(.notFound, "no channel \(channel)") }
            guard let call = manager.live.first(where: { $0.address == address }) else {
                throw CTIBackendError(.notFound, "channel \(channel) has no call")
            }
            return call
        }
    }

    private func media() throws(CTIBackendError) -> CallMediaEngine {
        guard let media = calls.media else { throw CTIBackendError(.unavailable, "this node has no media loop") }
        return media
    }

    private static func wrap<R>(_ body: () throws(TrunkError) -> R) throws(CTIBackendError) -> R {
        do {
            return try body()
        } catch {
            switch error.code {
            case .notFound: throw CTIBackendError(.notFound, error.message)
            case .busy: throw CTIBackendError(.busy, error.message)
            case .invalidArgument: throw CTIBackendError(.invalidState, error.message)
            default: throw CTIBackendError(.unavailable, error.message)
            }
        }
    }

    public func perform(_ request: CTIRequest, session: CTISessionInfo) async throws(CTIBackendError) -> CTIResult {
        switch request {
        case .answer(let target):
            let call = try call(target)
            try Self.wrap { () throws(TrunkError) in try manager.answer(call.callID) }
        case .hangup(let target, let cause), .forceRelease(let target, let cause):
            let call = try call(target)
            try Self.wrap { () throws(TrunkError) in try manager.hangup(call.callID, cause: Q850Cause(rawValue: UInt8(clamping: cause))) }
        case .originate(let o):
            let route: (group: String?, channel: ChannelAddress?)
            switch o.route {
            case .trunkGroup(let name): route = (name, nil)
            case .channel(let number):
                guard let address = calls.media?.numbering.address(of: number) else { throw CTIBackendError(.notFound, "no channel \(number)") }
                route = (nil, address)
            }
            state.withLockedValue { $0.originateOps[o.callID] = o.opID }
            do {
                _ = try Self.wrap { () throws(TrunkError) in
                    try manager.originate(group: route.group, channel: route.channel, number: o.number, callerID: o.callerID,
                                          timeoutMs: o.timeoutMilliseconds, callID: o.callID)
                }
            } catch {
                state.withLockedValue { _ = $0.originateOps.removeValue(forKey: o.callID) }
                throw error
            }
        case .ring(let r):
            guard let address = calls.media?.numbering.address(of: r.channel) else { throw CTIBackendError(.notFound, "no channel \(r.channel)") }
            guard calls.stations[address.span] != nil else {
                let stations = calls.stations.values.flatMap { span in span.channels.compactMap { number(ChannelAddress(span: span.span, channel: $0)) } }.sorted()
                throw CTIBackendError(
                    .invalidState,
                    "channel \(r.channel) is not an FXS station port (station channels: \(stations.isEmpty ? "none on this node" : stations.map(String.init).joined(separator: ", ")))")
            }
            state.withLockedValue { state in
                state.originateOps[r.callID] = r.opID
                state.rings.insert(r.callID)
            }
            do {
                _ = try Self.wrap { () throws(TrunkError) in
                    try manager.originate(channel: address, number: "", callerID: r.callerID, timeoutMs: r.timeoutMilliseconds, callID: r.callID)
                }
            } catch {
                state.withLockedValue { state in
                    state.originateOps[r.callID] = nil
                    state.rings.remove(r.callID)
                }
                throw error
            }
        case .sendDTMF(let target, let digits, _):
            let call = try call(target)
            let engine = try media()
            try Self.wrap { () throws(TrunkError) in try engine.play(.dtmf(digits), callID: call.callID, opID: nil) }
        case .play(let p):
            let call = try call(p.target)
            let engine = try media()
            let audio = try Self.audio(p.source, promptFolder: promptFolder)
            for (index, item) in audio.enumerated() {
                // Only the last item's end finishes the operation.
                let op = index == audio.count - 1 ? p.opID : nil
                try Self.wrap { () throws(TrunkError) in
                    if let op { try engine.play(item, callID: call.callID, opID: op) } else { try engine.play(item, callID: call.callID, opID: "\(p.opID)#\(index)") }
                }
            }
            if p.bargeIn { state.withLockedValue { _ = $0.bargeIn.insert(call.callID) } }
            hub.publish(callEvent(.playbackStarted, call.callID, opID: p.opID))
        case .stopMedia(let target):
            let call = try call(target)
            try media().stopPlayback(callID: call.callID)
        case .collect(let c):
            let call = try call(c.target)
            let collect = Collect(opID: c.opID, maximum: c.maximumDigits, terminators: c.terminatingDigits,
                                  deadlineMs: nowMs + Int64(c.firstTimeoutMilliseconds), interDigitMs: c.interDigitTimeoutMilliseconds)
            let (clash, typed) = state.withLockedValue { state -> (Bool, String) in
                if state.collects[call.callID] != nil { return (true, "") }
                state.collects[call.callID] = collect
                return (false, state.typeahead.removeValue(forKey: call.callID) ?? "")
            }
            if clash { throw CTIBackendError(.conflict, "call \(call.callID) is already collecting digits") }
            // Digits keyed ahead (during a prompt) count first, as callers expect of an IVR.
            for digit in typed { collected(call.callID, digit: digit) }
        case .recordStart(let r):
            let call = try call(r.target)
            let engine = try media()
            let id = try Self.wrap { () throws(TrunkError) -> String in
                try engine.startRecording(callID: call.callID, maxMs: r.maximumMilliseconds, recordingID: r.recordingID)
            }
            state.withLockedValue { $0.recordingOps[call.callID] = (id, r.opID) }
            hub.publish(callEvent(.recordingStarted, call.callID, opID: r.opID, fields: [("recording_id", .string(id))]))
            return .recording(id: id)
        case .recordStop(let target):
            let call = try call(target)
            guard state.withLockedValue({ $0.recordingOps[call.callID] }) != nil else {
                throw CTIBackendError(.invalidState, "call \(call.callID) is not being recorded")
            }
            state.withLockedValue { _ = $0.stoppedRecordings.insert(call.callID) }
            try media().stopRecording(callID: call.callID)
        case .recordPause(let target), .recordResume(let target):
            let call = try call(target)
            let paused: Bool = if case .recordPause = request { true } else { false }
            let engine = try media()
            try Self.wrap { () throws(TrunkError) in try engine.pauseRecording(callID: call.callID, paused: paused) }
            let id = state.withLockedValue { $0.recordingOps[call.callID]?.recordingID }
            hub.publish(callEvent(paused ? .recordingPaused : .recordingResumed, call.callID, fields: [("recording_id", .string(id))]))
        case .bridgeCreate(let id, let members):
            let members = try members.map { (t) throws(CTIBackendError) in try call(t).callID }
            try createBridge(id, members)
        case .bridgeAdd(let id, let target):
            let member = try call(target).callID
            let current = state.withLockedValue { $0.bridges[id]?.calls }
            guard let current else { throw CTIBackendError(.notFound, "no bridge \(id)") }
            leaveBridge(id)
            try createBridge(id, current + [member])
        case .bridgeRemove(let id, let target):
            let member = try call(target).callID
            let current = state.withLockedValue { $0.bridges[id]?.calls }
            guard let current, current.contains(member) else { throw CTIBackendError(.notFound, "call \(member) is not in bridge \(id)") }
            destroyBridge(id)
            let rest = current.filter { $0 != member }
            if rest.count >= 2 { try createBridge(id, rest) }
            hub.publish(callEvent(.bridgeLeft, member, fields: [("bridge_id", .string(id))]))
        case .bridgeDestroy(let id):
            guard state.withLockedValue({ $0.bridges[id] != nil }) else { throw CTIBackendError(.notFound, "no bridge \(id)") }
            destroyBridge(id)
        case .conferenceCreate(let id):
            let room = state.withLockedValue { state -> Int? in
                guard state.conferences[id] == nil, let room = state.freeRooms.popLast() else { return nil }
                state.conferences[id] = room
                return room
            }
            guard room != nil else { throw CTIBackendError(.conflict, "conference \(id) exists, or no room is free") }
        case .conferenceAdd(let id, let target, _, let muted):
            let call = try call(target)
            guard let room = state.withLockedValue({ $0.conferences[id] }) else { throw CTIBackendError(.notFound, "no conference \(id)") }
            let engine = try media()
            try Self.wrap { () throws(TrunkError) in try engine.join(call.callID, conference: room, side: .trunk, mode: .talk) }
            if muted { engine.setMuted(call.callID, muted: true) }
            hub.publish(callEvent(.conferenceJoined, call.callID, fields: [("conference_id", .string(id)), ("muted", .bool(muted))]))
        case .conferenceRemove(let id, let target):
            let call = try call(target)
            try media().leaveConference(call.callID)
            hub.publish(callEvent(.conferenceLeft, call.callID, fields: [("conference_id", .string(id))]))
        case .conferenceMute(let id, let target, let muted):
            let call = try call(target)
            try media().setMuted(call.callID, muted: muted)
            hub.publish(callEvent(.conferenceMuted, call.callID, fields: [("conference_id", .string(id)), ("muted", .bool(muted))]))
        case .conferenceDestroy(let id):
            guard let room = state.withLockedValue({ state -> Int? in
                guard let room = state.conferences.removeValue(forKey: id) else { return nil }
                state.freeRooms.append(room)
                return room
            }) else { throw CTIBackendError(.notFound, "no conference \(id)") }
            _ = room
        case .snoop(let s):
            try startSnoop(s, session: session)
        case .snoopStop(let id):
            guard state.withLockedValue({ $0.snoops.keys.contains { $0.hasSuffix("/" + id) } }) else { throw CTIBackendError(.notFound, "no snoop \(id)") }
            for key in state.withLockedValue({ $0.snoops.keys.filter { $0.hasSuffix("/" + id) } }) { stopSnoop(key) }
        case .hold(let target):
            let call = try call(target)
            try media().disconnect(call.callID)
            state.withLockedValue { _ = $0.held.insert(call.callID) }
            manager.note(call.callID, .held)
            hub.publish(callEvent(.channelHeld, call.callID))
        case .unhold(let target):
            let call = try call(target)
            let wasHeld = state.withLockedValue { $0.held.remove(call.callID) != nil }
            guard wasHeld else { throw CTIBackendError(.invalidState, "call \(call.callID) is not held") }
            if let bridge = state.withLockedValue({ $0.bridgeOfCall[call.callID].flatMap { $0 } }),
               let members = state.withLockedValue({ $0.bridges[bridge]?.calls }) {
                destroyBridge(bridge, announce: false)
                try createBridge(bridge, members, announce: false)
            }
            manager.note(call.callID, .retrieved)
            hub.publish(callEvent(.channelUnheld, call.callID))
        case .transfer(let t):
            try transfer(t)
        case .claim(let c):
            var channels: [ChannelAddress] = []
            for number in c.channels {
                guard let address = calls.media?.numbering.address(of: number) else { throw CTIBackendError(.notFound, "no channel \(number)") }
                channels.append(address)
            }
            // The owner names the session and the claim: the handler a call shows is "cti:<session>/<claim>".
            manager.claim(CallClaim(owner: session.sessionID + "/" + c.claimID, spans: c.spans, channels: channels,
                                    dnis: c.dnisPattern.map { [$0] } ?? []))
            state.withLockedValue { $0.claims[c.claimID] = session.sessionID }
        case .unclaim(let id):
            guard state.withLockedValue({ $0.claims.removeValue(forKey: id) }) != nil else { throw CTIBackendError(.notFound, "no claim \(id)") }
            manager.releaseClaims(owner: session.sessionID + "/" + id)
        case .spanStatus(let span):
            let spans = status()
            if let span {
                guard let one = spans.first(where: { $0.span == span }) else { throw CTIBackendError(.notFound, "no span \(span)") }
                return .spanStatus([one])
            }
            return .spanStatus(spans)
        case .snapshot:
            let bridges = state.withLockedValue { $0.bridges.map { CTIBridgeState(bridgeID: $0.key, calls: $0.value.calls) } }
            let live = manager.live.map { call in
                CTICallState(callID: call.callID, span: call.address.span, channel: number(call.address) ?? 0, state: call.state.rawValue,
                             direction: call.direction == .inbound ? "in" : "out", ani: call.caller, dnis: call.callee,
                             bridgeID: state.withLockedValue { $0.bridgeOfCall[call.callID] }, claimedBy: call.handler)
            }
            return .snapshot(CTISnapshot(spans: status(), calls: live, bridges: bridges))
        }
        return .done
    }

    static func audio(_ source: CTIPlay.Source, promptFolder: String?) throws(CTIBackendError) -> [CallAudio] {
        switch source {
        case .files(let files):
            return try files.map { (name) throws(CTIBackendError) in
                if name.hasPrefix("/") { return CallAudio.file(path: name) }
                guard let folder = promptFolder, !name.contains("..") else { throw CTIBackendError(.notFound, "no prompt \(name)") }
                for candidate in [folder + "/" + name, folder + "/" + name + ".wav"] where FileManager.default.fileExists(atPath: candidate) {
                    return CallAudio.file(path: candidate)
                }
                throw CTIBackendError(.notFound, "no prompt \(name) in \(folder)")
            }
        case .tones(let names):
            var out: [CallAudio] = []
            for name in names {
                if name.hasPrefix("dtmf:") { out.append(.dtmf(String(name.dropFirst(5)))); continue }
                guard let tone = toneNames[name], let audio = CallAudio.zoneTone(tone) else {
                    throw CTIBackendError(.notFound, "no tone \(name) (tones: \(toneNames.keys.sorted().joined(separator: ", ")), or dtmf:DIGITS)")
                }
                out.append(audio)
            }
            return out
        }
    }

    /// The tone names the protocol documents, from the node's tone plan (played once each).
    static let toneNames: [String: ProgressTone] = [
        "dial": .dial, "busy": .busy, "ringback": .ringback, "congestion": .congestion,
        "call_waiting": .callWaiting, "record": .recordTone, "sit": .specialInformation,
    ]

    // MARK: bridges and supervision

    private func createBridge(_ id: String, _ members: [String], announce: Bool = true) throws(CTIBackendError) {
        guard members.count >= 2 else { throw CTIBackendError(.invalidState, "a bridge needs two calls") }
        let engine = try media()
        let clash = state.withLockedValue { state in members.contains { state.bridgeOfCall[$0] != nil && state.bridgeOfCall[$0] != id } }
        if clash { throw CTIBackendError(.conflict, "a call is already in another bridge") }
        if members.count == 2 {
            try Self.wrap { () throws(TrunkError) in try engine.connect(members[0], members[1]) }
            state.withLockedValue { state in
                state.bridges[id] = Bridge(calls: members, conference: nil)
                for m in members { state.bridgeOfCall[m] = id }
            }
        } else {
            guard let room = state.withLockedValue({ $0.freeRooms.popLast() }) else { throw CTIBackendError(.busy, "no conference room left") }
            for (index, m) in members.enumerated() {
                try Self.wrap { () throws(TrunkError) in try engine.join(m, conference: room, side: index == 0 ? .trunk : .agent, mode: .talk) }
            }
            state.withLockedValue { state in
                state.bridges[id] = Bridge(calls: members, conference: room)
                for m in members { state.bridgeOfCall[m] = id }
            }
        }
        guard announce else { return }
        hub.publish(CTIEvent(.bridgeCreated, fields: [("bridge_id", .string(id)), ("calls", .array(members.map { .string($0) }))]))
        for m in members { hub.publish(callEvent(.bridgeJoined, m, fields: [("bridge_id", .string(id))])) }
    }

    private func destroyBridge(_ id: String, announce: Bool = true) {
        guard let bridge = state.withLockedValue({ state -> Bridge? in
            guard let bridge = state.bridges.removeValue(forKey: id) else { return nil }
            for m in bridge.calls { state.bridgeOfCall[m] = nil }
            if let room = bridge.conference { state.freeRooms.append(room) }
            return bridge
        }) else { return }
        for m in bridge.calls {
            if bridge.conference != nil { calls.media?.leaveConference(m) } else { calls.media?.disconnect(m) }
        }
        if announce { hub.publish(CTIEvent(.bridgeDestroyed, fields: [("bridge_id", .string(id))])) }
    }

    /// A call that ended leaves its bridge; a bridge left with one call is taken down.
    private func leaveBridge(_ callID: String) {
        guard let id = state.withLockedValue({ $0.bridgeOfCall[callID] }) else { return }
        let rest = state.withLockedValue { $0.bridges[id]?.calls.filter { $0 != callID } } ?? []
        destroyBridge(id)
        hub.publish(callEvent(.bridgeLeft, callID, fields: [("bridge_id", .string(id))]))
        if rest.count >= 2 { try? createBridge(id, rest) }
    }

    /// Listen / whisper / barge: the target's bridge becomes a conference (the first member the
    /// trunk side, the target the agent side) and the supervisor's call joins it in a mode.
    private func startSnoop(_ s: CTISnoop, session: CTISessionInfo) throws(CTIBackendError) {
        let target = try call(s.target)
        guard let supervisorTarget = s.supervisor else {
            throw CTIBackendError(.invalidState, "snoop needs the supervisor's own call (supervisor) to carry the audio")
        }
        let supervisor = try call(supervisorTarget)
        let engine = try media()
        let mode: ConferenceMode
        switch (s.spy, s.whisper) {
        case (_, .both): mode = .barge
        case (_, .in), (_, .out): mode = .whisper
        case (.none, .none): throw CTIBackendError(.invalidState, "snoop with spy none and whisper none does nothing")
        default: mode = .listen
        }
        guard let bridgeID = state.withLockedValue({ $0.bridgeOfCall[target.callID] }),
              let members = state.withLockedValue({ $0.bridges[bridgeID]?.calls }) else {
            throw CTIBackendError(.invalidState, "call \(target.callID) is not bridged to anyone: nothing to snoop on")
        }
        // Rebuild the bridge as a conference so a third party can hear it.
        destroyBridge(bridgeID, announce: false)
        guard let room = state.withLockedValue({ $0.freeRooms.popLast() }) else { throw CTIBackendError(.busy, "no conference room left") }
        for m in members {
            try Self.wrap { () throws(TrunkError) in
                try engine.join(m, conference: room, side: m == target.callID ? .agent : .trunk, mode: .talk)
            }
        }
        try Self.wrap { () throws(TrunkError) in try engine.join(supervisor.callID, conference: room, side: .supervisor, mode: mode) }
        state.withLockedValue { state in
            state.bridges[bridgeID] = Bridge(calls: members, conference: room)
            for m in members { state.bridgeOfCall[m] = bridgeID }
            state.snoops[session.sessionID + "/" + s.snoopID] = Snoop(supervisor: supervisor.callID, bridgeID: bridgeID)
        }
        hub.publish(callEvent(.snoopStarted, target.callID, fields: [
            ("snoop_id", .string(s.snoopID)), ("spy", .string(s.spy.rawValue)), ("whisper", .string(s.whisper.rawValue)),
            ("supervisor_call_id", .string(supervisor.callID)),
            ("mode", .string("\(mode)")), ("bridge_id", .string(bridgeID)),
        ]))
    }

    private func stopSnoop(_ key: String) {
        guard let snoop = state.withLockedValue({ $0.snoops.removeValue(forKey: key) }) else { return }
        calls.media?.leaveConference(snoop.supervisor)
        hub.publish(callEvent(.snoopStopped, snoop.supervisor, fields: [("snoop_id", .string(String(key.split(separator: "/").last ?? "")))]))
    }

    /// Blind: a new call to the number; when it answers the target's partner is bridged to it
    /// and the target released. Attended: the target's partner is bridged to the consultation
    /// call and the target released.
    private func transfer(_ t: CTITransfer) throws(CTIBackendError) {
        let target = try call(t.target)
        guard let bridgeID = state.withLockedValue({ $0.bridgeOfCall[target.callID] }),
              let partner = state.withLockedValue({ $0.bridges[bridgeID]?.calls.first { $0 != target.callID } }) else {
            throw CTIBackendError(.invalidState, "call \(target.callID) is not bridged: there is no one to transfer")
        }
        switch t.destination {
        case .consultation(let other):
            let consultation = try call(other)
            destroyBridge(bridgeID)
            try createBridge(bridgeID, [partner, consultation.callID])
            manager.note(partner, .transferred, detail: consultation.callID)
            try Self.wrap { () throws(TrunkError) in try manager.hangup(target.callID) }
            hub.publish(callEvent(.channelTransferred, partner, opID: t.opID, fields: [("to_call_id", .string(consultation.callID)), ("mode", "attended")]))
        case .number(let number):
            let group = manager.trunkGroups.first { $0.members.contains(target.address) }?.name ?? manager.trunkGroups.first?.name
            guard let group else { throw CTIBackendError(.unavailable, "no trunk group to place the transfer on") }
            let outbound = try Self.wrap { () throws(TrunkError) in try manager.originate(group: group, number: number, callerID: target.caller) }
            destroyBridge(bridgeID)
            try Self.wrap { () throws(TrunkError) in try manager.hangup(target.callID) }
            // The partner is bridged to the new call once it answers (see `publish`).
            state.withLockedValue { $0.blindTransfers[outbound.callID] = (partner, bridgeID, t.opID) }
        }
    }
}
