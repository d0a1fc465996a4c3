@testable import TrunkCTI

/// A small backend that keeps channel and call state in memory and publishes the events a
/// verb causes. It exists to exercise the protocol layer (ids, results, errors, events with
/// op_ids); it does not pretend to be the gateway, whose behaviour is tested with trunkd itself.
/// Numbering follows the embedded default: span 1 = 1–31, span 2 = 32–62, span 3 = 63–66, span 4 = 67–70.
actor InMemoryBackend: CTIBackend {
    struct Call {
        var id: String
        var channel: Int
        var state: String
        var direction: String
        var ani: String?
        var dnis: String?
        var bridgeID: String?
    }

    let hub: CTIEventHub
    private(set) var calls: [String: Call] = [:]
    private(set) var bridges: [String: [String]] = [:]
    private(set) var claims: [String: (session: String, claim: CTIClaim)] = [:]
    private(set) var performed: [CTIRequest] = []
    private(set) var endedSessions: [String] = []
    /// Digits the "caller" has pressed, taken by the next collect on that call.
    private var pressed: [String: String] = [:]
    private var nextCall = 0

    init(hub: CTIEventHub) { self.hub = hub }

    static func span(of channel: Int) -> Int? {
        switch channel {
        case 1...31: 1
        case 32...62: 2
        case 63...66: 3
        case 67...70: 4
        default: nil
        }
    }

    /// A call arrives on a channel: the caller side of a test.
    @discardableResult
    func offer(channel: Int, ani: String, dnis: String) -> String {
        nextCall += 1
        let id = "in-\(nextCall)"
        calls[id] = Call(id: id, channel: channel, state: "offered", direction: "in", ani: ani, dnis: dnis)
        let claimedBy = claims.values.first { claim in
            claim.claim.channels.contains(channel) || claim.claim.spans.contains(Self.span(of: channel) ?? 0)
                || claim.claim.dnisPattern.map { Self.dnis(dnis, matches: $0) } == true
        }
        hub.publish(
            CTIEvent(
                .channelOffered, callID: id, channel: channel, span: Self.span(of: channel),
                fields: [
                    ("ani", .string(ani)), ("dnis", .string(dnis)), ("redirecting", .null),
                    ("trunk_type", .string(channel <= 62 ? "pri" : "analog")),
                    ("claimed_by", .string(claimedBy?.session)),
                ]))
        return id
    }

    func press(_ digits: String, on callID: String) { pressed[callID, default: ""] += digits }

    /// Just enough of the DNIS pattern language for claims in tests: digits, X, and a final '.'.
    static func dnis(_ dnis: String, matches pattern: String) -> Bool {
        var digits = Array(dnis)[...]
        for symbol in pattern {
            if symbol == "." { return !digits.isEmpty }
            guard let digit = digits.popFirst() else { return false }
            if symbol == "X" { continue }
            if symbol != digit { return false }
        }
        return digits.isEmpty
    }

    /// All spans' status is kept current and answered at once; one span's goes through `perform`,
    /// so both paths of the server are exercised.
    nonisolated func answerImmediately(_ request: CTIRequest, session: CTISessionInfo) -> CTIResult? {
        if case .spanStatus(nil) = request { return .spanStatus(Self.spans) }
        return nil
    }

    func locate(_ target: CTITarget) async throws(CTIBackendError) -> CTILocation {
        let channel: Int
        switch target {
        case .channel(let c): channel = c
        case .call(let id):
            guard let call = calls[id] else { throw CTIBackendError(.notFound, "no call \(id)", data: ["call_id": .string(id)]) }
            channel = call.channel
        }
        guard let span = Self.span(of: channel) else {
            throw CTIBackendError(.notFound, "no channel \(channel)", data: ["channel": .int(channel)])
        }
        return CTILocation(span: span, channel: channel)
    }

    func sessionEnded(_ session: CTISessionInfo) async {
        endedSessions.append(session.sessionID)
        claims = claims.filter { $0.value.session != session.sessionID }
    }

    private func call(_ target: CTITarget) throws(CTIBackendError) -> Call {
        switch target {
        case .call(let id):
            guard let call = calls[id] else { throw CTIBackendError(.notFound, "no call \(id)", data: ["call_id": .string(id)]) }
            return call
        case .channel(let channel):
            guard let call = calls.values.first(where: { $0.channel == channel }) else {
                throw CTIBackendError(.notFound, "no call on channel \(channel)", data: ["channel": .int(channel)])
            }
            return call
        }
    }

    private func publish(_ type: CTIEventType, _ call: Call, opID: String? = nil, _ fields: [(String, JSONValue)] = []) {
        hub.publish(CTIEvent(type, callID: call.id, channel: call.channel, span: Self.span(of: call.channel), opID: opID, fields: fields))
    }

    func perform(_ request: CTIRequest, session: CTISessionInfo) async throws(CTIBackendError) -> CTIResult {
        performed.append(request)
        switch request {
        case .answer(let target):
            var call = try call(target)
            guard call.state == "offered" || call.state == "ringing" else {
                throw CTIBackendError(.invalidState, "call \(call.id) is \(call.state), not offered", data: ["state": .string(call.state)])
            }
            call.state = "answered"
            calls[call.id] = call
            publish(.channelAnswered, call)
        case .hangup(let target, let cause):
            let call = try call(target)
            calls[call.id] = nil
            publish(.channelHangup, call, [("cause", .int(cause)), ("cause_txt", "Normal Clearing"), ("side", "local"), ("tech_cause", .null)])
        case .forceRelease(let target, let cause):
            let call = try call(target)
            calls[call.id] = nil
            publish(.channelHangup, call, [("cause", .int(cause)), ("cause_txt", "Normal Clearing"), ("side", "supervisor"), ("tech_cause", .null)])
        case .originate(let originate):
            guard case .channel(let channel) = originate.route else {
                throw CTIBackendError(.unavailable, "no trunk groups in the in-memory backend")
            }
            guard calls[originate.callID] == nil else {
                throw CTIBackendError(.conflict, "call id \(originate.callID) is in use", data: ["call_id": .string(originate.callID)])
            }
            let call = Call(id: originate.callID, channel: channel, state: "dialing", direction: "out", ani: originate.callerID, dnis: originate.number)
            calls[call.id] = call
            publish(.channelState, call, [("state", "dialing")])
        case .play(let play):
            let call = try call(play.target)
            publish(.playbackStarted, call, opID: play.opID)
            publish(.playbackFinished, call, opID: play.opID, [("reason", "done")])
        case .collect(let collect):
            let call = try call(collect.target)
            let digits = String((pressed[call.id] ?? "").prefix(collect.maximumDigits))
            pressed[call.id] = nil
            publish(.collectDone, call, opID: collect.opID, [("digits", .string(digits)), ("reason", digits.isEmpty ? "timeout" : "max_digits")])
        case .recordStart(let record):
            let call = try call(record.target)
            publish(.recordingStarted, call, opID: record.opID, [("recording_id", .string(record.recordingID)), ("format", .string(record.format.rawValue))])
        case .recordStop(let target):
            let call = try call(target)
            publish(.recordingFinished, call, [("reason", "stopped")])
        case .bridgeCreate(let bridgeID, let members):
            guard bridges[bridgeID] == nil else { throw CTIBackendError(.conflict, "bridge \(bridgeID) exists") }
            var ids: [String] = []
            for member in members { ids.append(try call(member).id) }
            bridges[bridgeID] = ids
            hub.publish(CTIEvent(.bridgeCreated, fields: [("bridge_id", .string(bridgeID)), ("calls", .array(ids.map { .string($0) }))]))
        case .bridgeDestroy(let bridgeID):
            guard bridges.removeValue(forKey: bridgeID) != nil else { throw CTIBackendError(.notFound, "no bridge \(bridgeID)") }
            hub.publish(CTIEvent(.bridgeDestroyed, fields: [("bridge_id", .string(bridgeID))]))
        case .snoop(let snoop):
            let call = try call(snoop.target)
            publish(.snoopStarted, call, [("snoop_id", .string(snoop.snoopID)), ("spy", .string(snoop.spy.rawValue)), ("whisper", .string(snoop.whisper.rawValue))])
        case .claim(let claim):
            claims[claim.claimID] = (session.sessionID, claim)
        case .unclaim(let claimID):
            guard claims.removeValue(forKey: claimID) != nil else { throw CTIBackendError(.notFound, "no claim \(claimID)") }
        case .spanStatus(let span):
            let all = Self.spans
            if let span {
                guard let one = all.first(where: { $0.span == span }) else { throw CTIBackendError(.notFound, "no span \(span)") }
                return .spanStatus([one])
            }
            return .spanStatus(all)
        case .snapshot:
            return .snapshot(
                CTISnapshot(
                    spans: Self.spans,
                    calls: calls.values.sorted { $0.id < $1.id }.map {
                        CTICallState(
                            callID: $0.id, span: Self.span(of: $0.channel) ?? 0, channel: $0.channel, state: $0.state,
                            direction: $0.direction, ani: $0.ani, dnis: $0.dnis, bridgeID: $0.bridgeID)
                    },
                    bridges: bridges.sorted { $0.key < $1.key }.map { CTIBridgeState(bridgeID: $0.key, calls: $0.value) }))
        default:
            // Accepted without modelled effects: the protocol layer's part (parse, check, answer) is what is tested.
            break
        }
        return .done
    }

    static let spans = [
        CTISpanStatus(span: 1, kind: "e1", signalling: "pri_net", alarms: [], dchannel: "up", channels: 31, channelsInUse: 0),
        CTISpanStatus(span: 2, kind: "e1", signalling: "pri_cpe", alarms: [], dchannel: "up", channels: 31, channelsInUse: 0),
        CTISpanStatus(span: 3, kind: "fxs", signalling: "fxo_ks", alarms: [], dchannel: nil, channels: 4, channelsInUse: 0),
        CTISpanStatus(span: 4, kind: "fxo", signalling: "fxs_ks", alarms: [], dchannel: nil, channels: 4, channelsInUse: 0),
    ]
}
