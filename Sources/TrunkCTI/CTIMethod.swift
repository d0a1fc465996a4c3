/// Every method name the socket knows, with the permission it needs. The names and permissions
/// are the protocol (docs/cti-protocol.md); the parse step turns `params` into a `CTIRequest`.
public enum CTIMethod: String, Sendable, CaseIterable {
    // Served by the protocol layer itself.
    case ping
    case sessionLogin = "session.login"
    case sessionLogout = "session.logout"
    case sessionInfo = "session.info"
    case sessionsList = "sessions.list"
    case eventsSubscribe = "events.subscribe"
    case eventsUnsubscribe = "events.unsubscribe"
    // Carried out by the gateway (CTIBackend).
    case channelAnswer = "channel.answer"
    case channelHangup = "channel.hangup"
    case channelOriginate = "channel.originate"
    case channelRing = "channel.ring"
    case channelDTMFSend = "channel.dtmf.send"
    case channelPlay = "channel.play"
    case channelStopMedia = "channel.stop_media"
    case channelCollect = "channel.collect"
    case recordStart = "channel.record.start"
    case recordStop = "channel.record.stop"
    case recordPause = "channel.record.pause"
    case recordResume = "channel.record.resume"
    case bridgeCreate = "bridge.create"
    case bridgeAdd = "bridge.add"
    case bridgeRemove = "bridge.remove"
    case bridgeDestroy = "bridge.destroy"
    case conferenceCreate = "conference.create"
    case conferenceAdd = "conference.add"
    case conferenceRemove = "conference.remove"
    case conferenceMute = "conference.mute"
    case conferenceDestroy = "conference.destroy"
    case channelSnoop = "channel.snoop"
    case snoopStop = "snoop.stop"
    case channelHold = "channel.hold"
    case channelUnhold = "channel.unhold"
    case channelTransfer = "channel.transfer"
    case channelForceRelease = "channel.force_release"
    case callsClaim = "calls.claim"
    case callsUnclaim = "calls.unclaim"
    case spanStatus = "span.status"
    case stateSnapshot = "state.snapshot"

    /// nil: any logged-in session may call it.
    public var permission: CTIPermission? {
        switch self {
        case .ping, .sessionLogin, .sessionLogout, .sessionInfo, .eventsSubscribe, .eventsUnsubscribe, .spanStatus,
            .stateSnapshot:
            nil
        case .sessionsList: .admin
        case .channelAnswer, .channelHangup, .channelOriginate, .channelRing, .bridgeCreate, .bridgeAdd, .bridgeRemove,
            .bridgeDestroy, .conferenceCreate, .conferenceAdd, .conferenceRemove, .conferenceMute, .conferenceDestroy,
            .channelHold, .channelUnhold, .channelTransfer, .callsClaim, .callsUnclaim:
            .call
        case .channelDTMFSend, .channelPlay, .channelStopMedia, .channelCollect: .media
        case .recordStart, .recordStop, .recordPause, .recordResume: .record
        case .channelSnoop, .snoopStop, .channelForceRelease: .supervise
        }
    }

    /// Allowed before `session.login`.
    var allowedBeforeLogin: Bool { self == .ping || self == .sessionLogin }

    /// Supervision starts go to the audit file even when they succeed.
    var isAudited: Bool { self == .channelSnoop || self == .channelForceRelease }
}

/// Generates ids for objects the client did not name: unique per node lifetime, readable in logs.
struct CTIIdentifierSource {
    let session: String
    private var next = 0
    init(session: String) { self.session = session }
    mutating func make(_ kind: String) -> String {
        next += 1
        return "\(kind)-\(session)-\(next)"
    }
}

extension CTIRequest {
    /// Parses a backend verb's params. Local methods (ping, session.*, events.*) are not handled here.
    static func parse(_ method: CTIMethod, _ params: CTIParams, ids: inout CTIIdentifierSource) throws(CTIError) -> CTIRequest? {
        switch method {
        case .ping, .sessionLogin, .sessionLogout, .sessionInfo, .sessionsList, .eventsSubscribe, .eventsUnsubscribe:
            return nil
        case .channelAnswer: return .answer(try params.target())
        case .channelHangup:
            return .hangup(try params.target(), cause: try params.int("cause", in: 1...127, default: 16))
        case .channelOriginate:
            let trunkGroup = try params.optionalID("trunk_group")
            let channel = try params.optionalInt("channel", in: 1...1024)
            let route: CTIOriginate.Route
            switch (trunkGroup, channel) {
            case (let group?, nil): route = .trunkGroup(group)
            case (nil, let channel?): route = .channel(channel)
            default:
                throw CTIError(
                    .invalidParams, "params: give exactly one of trunk_group or channel",
                    data: [("field", "trunk_group|channel"), ("expected", "exactly one of trunk_group, channel")])
            }
            return .originate(
                CTIOriginate(
                    route: route, number: try params.dialString("number"),
                    callerID: try params.optionalDialString("caller_id"),
                    timeoutMilliseconds: try params.int("timeout_ms", in: 1_000...600_000, default: 30_000),
                    callID: try params.optionalID("call_id") ?? ids.make("call"),
                    opID: try params.optionalID("op_id") ?? ids.make("op")))
        case .channelRing:
            return .ring(
                CTIRing(
                    channel: try params.requiredInt("channel", in: 1...1024),
                    callerID: try params.optionalDialString("caller_id"),
                    timeoutMilliseconds: try params.int("timeout_ms", in: 1_000...600_000, default: 60_000),
                    callID: try params.optionalID("call_id") ?? ids.make("call"),
                    opID: try params.optionalID("op_id") ?? ids.make("op")))
        case .channelDTMFSend:
            let digits = try params.requiredString("digits", maxLength: 64)
            guard !digits.isEmpty, digits.utf8.allSatisfy({ CTIParams.dtmfDigits.contains($0) }) else {
                throw CTIError.invalidParam("digits", "1-64 DTMF digits (0-9 * # A-D)", got: .string(digits))
            }
            return .sendDTMF(
                try params.target(), digits: digits,
                durationMilliseconds: try params.int("duration_ms", in: 40...2_000, default: 100))
        case .channelPlay:
            let files = try params.optionalStringArray("files", maxCount: 64, maxLength: 255)
            let tones = try params.optionalStringArray("tones", maxCount: 64, maxLength: 64)
            let source: CTIPlay.Source
            switch (files, tones) {
            case (let files?, nil) where !files.isEmpty: source = .files(files)
            case (nil, let tones?) where !tones.isEmpty: source = .tones(tones)
            default:
                throw CTIError(
                    .invalidParams, "params: give exactly one of files or tones, not empty",
                    data: [("field", "files|tones"), ("expected", "a non-empty array in exactly one of files, tones")])
            }
            return .play(
                CTIPlay(
                    target: try params.target(), source: source, bargeIn: try params.bool("barge_in", default: false),
                    opID: try params.optionalID("op_id") ?? ids.make("op")))
        case .channelStopMedia: return .stopMedia(try params.target())
        case .channelCollect:
            let terminators = try params.optionalString("term_digits", maxLength: 16) ?? "#"
            guard terminators.utf8.allSatisfy({ CTIParams.dtmfDigits.contains($0) }) else {
                throw CTIError.invalidParam("term_digits", "DTMF digits (0-9 * # A-D), may be empty", got: .string(terminators))
            }
            return .collect(
                CTICollect(
                    target: try params.target(), maximumDigits: try params.requiredInt("max_digits", in: 1...64),
                    terminatingDigits: terminators,
                    firstTimeoutMilliseconds: try params.int("first_timeout_ms", in: 0...600_000, default: 5_000),
                    interDigitTimeoutMilliseconds: try params.int("inter_timeout_ms", in: 0...600_000, default: 3_000),
                    opID: try params.optionalID("op_id") ?? ids.make("op")))
        case .recordStart:
            return .recordStart(
                CTIRecordStart(
                    target: try params.target(),
                    format: try params.enumValue("format", default: CTIRecordingFormat.wavAlawStereo),
                    maximumMilliseconds: try params.int("max_ms", in: 1_000...86_400_000, default: 3_600_000),
                    beep: try params.bool("beep", default: false),
                    recordingID: try params.optionalID("recording_id") ?? ids.make("rec"),
                    opID: try params.optionalID("op_id") ?? ids.make("op")))
        case .recordStop: return .recordStop(try params.target())
        case .recordPause: return .recordPause(try params.target())
        case .recordResume: return .recordResume(try params.target())
        case .bridgeCreate:
            let channels = try params.optionalIntArray("channels", in: 1...1024, maxCount: 32) ?? []
            let calls = try params.optionalIDArray("calls", maxCount: 32) ?? []
            return .bridgeCreate(
                bridgeID: try params.optionalID("bridge_id") ?? ids.make("bridge"),
                members: channels.map { .channel($0) } + calls.map { .call($0) })
        case .bridgeAdd: return .bridgeAdd(bridgeID: try params.requiredID("bridge_id"), try params.target())
        case .bridgeRemove: return .bridgeRemove(bridgeID: try params.requiredID("bridge_id"), try params.target())
        case .bridgeDestroy: return .bridgeDestroy(bridgeID: try params.requiredID("bridge_id"))
        case .conferenceCreate:
            return .conferenceCreate(conferenceID: try params.optionalID("conference_id") ?? ids.make("conf"))
        case .conferenceAdd:
            return .conferenceAdd(
                conferenceID: try params.requiredID("conference_id"), try params.target(),
                moderator: try params.bool("moderator", default: false), muted: try params.bool("muted", default: false))
        case .conferenceRemove:
            return .conferenceRemove(conferenceID: try params.requiredID("conference_id"), try params.target())
        case .conferenceMute:
            return .conferenceMute(
                conferenceID: try params.requiredID("conference_id"), try params.target(),
                muted: try params.requiredBool("muted"))
        case .conferenceDestroy: return .conferenceDestroy(conferenceID: try params.requiredID("conference_id"))
        case .channelSnoop:
            let spy: CTIAudioDirection = try params.enumValue("spy", default: .none)
            let whisper: CTIAudioDirection = try params.enumValue("whisper", default: .none)
            if spy == .none && whisper == .none {
                throw CTIError(
                    .invalidParams, "params: spy and whisper are both none: nothing to snoop",
                    data: [("field", "spy|whisper"), ("expected", "at least one of spy, whisper other than none")])
            }
            return .snoop(
                CTISnoop(
                    target: try params.target(), spy: spy, whisper: whisper,
                    supervisor: try params.optionalTarget(channelField: "supervisor_channel", callField: "supervisor_call_id"),
                    snoopID: try params.optionalID("snoop_id") ?? ids.make("snoop")))
        case .snoopStop: return .snoopStop(snoopID: try params.requiredID("snoop_id"))
        case .channelHold: return .hold(try params.target())
        case .channelUnhold: return .unhold(try params.target())
        case .channelTransfer:
            let mode: CTITransferMode = try params.requiredEnum("mode")
            let destination: CTITransfer.Destination
            switch mode {
            case .blind: destination = .number(try params.dialString("number"))
            case .attended:
                guard let consult = try params.optionalTarget(channelField: "consult_channel", callField: "consult_call_id") else {
                    throw CTIError.invalidParam("consult_call_id", "the consultation call (consult_call_id or consult_channel)", got: nil)
                }
                destination = .consultation(consult)
            }
            return .transfer(
                CTITransfer(
                    target: try params.target(), mode: mode, destination: destination,
                    opID: try params.optionalID("op_id") ?? ids.make("op")))
        case .channelForceRelease:
            return .forceRelease(try params.target(), cause: try params.int("cause", in: 1...127, default: 16))
        case .callsClaim:
            let spans = try params.optionalIntArray("spans", in: 1...128, maxCount: 128) ?? []
            let channels = try params.optionalIntArray("channels", in: 1...1024, maxCount: 1024) ?? []
            let pattern = try params.optionalString("dnis", maxLength: 64)
            if let pattern, !CTIParams.isDNISPattern(pattern) {
                throw CTIError.invalidParam("dnis", "a DNIS pattern: digits, X, Z, N, [a-b], trailing . or !", got: .string(pattern))
            }
            if spans.isEmpty && channels.isEmpty && pattern == nil {
                throw CTIError(
                    .invalidParams, "params: claim at least one of spans, channels or dnis",
                    data: [("field", "spans|channels|dnis"), ("expected", "at least one of spans, channels, dnis")])
            }
            return .claim(
                CTIClaim(
                    spans: spans, channels: channels, dnisPattern: pattern,
                    claimID: try params.optionalID("claim_id") ?? ids.make("claim")))
        case .callsUnclaim: return .unclaim(claimID: try params.requiredID("claim_id"))
        case .spanStatus: return .spanStatus(span: try params.optionalInt("span", in: 1...128))
        case .stateSnapshot: return .snapshot
        }
    }
}
