/// The event types a node publishes. The raw values are the protocol's names; new types may be
/// added in a protocol version (clients ignore types they do not know), none is ever renamed.
public enum CTIEventType: String, Sendable, CaseIterable {
    case channelOffered = "channel.offered"
    case channelState = "channel.state"
    case channelProgress = "channel.progress"
    case channelAnswered = "channel.answered"
    case channelDTMF = "channel.dtmf"
    case channelHangup = "channel.hangup"
    case channelHeld = "channel.held"
    case channelUnheld = "channel.unheld"
    case channelTransferred = "channel.transferred"
    case bridgeCreated = "bridge.created"
    case bridgeJoined = "bridge.joined"
    case bridgeLeft = "bridge.left"
    case bridgeDestroyed = "bridge.destroyed"
    case conferenceJoined = "conference.joined"
    case conferenceLeft = "conference.left"
    case conferenceMuted = "conference.muted"
    case playbackStarted = "playback.started"
    case playbackFinished = "playback.finished"
    case recordingStarted = "recording.started"
    case recordingPaused = "recording.paused"
    case recordingResumed = "recording.resumed"
    case recordingFinished = "recording.finished"
    case collectDone = "collect.done"
    case snoopStarted = "snoop.started"
    case snoopStopped = "snoop.stopped"
    case opFailed = "op.failed"
    case spanAlarm = "span.alarm"
    case spanCleared = "span.cleared"
    case dchanUp = "dchan.up"
    case dchanDown = "dchan.down"
    /// Alarms of the node rather than of a span: storage, the recorder, configuration applies.
    case nodeAlarm = "node.alarm"
    case nodeCleared = "node.cleared"

    /// One bit per type, for filters checked per event per subscriber without hashing.
    var bit: UInt64 { 1 << UInt64(Self.allCases.firstIndex(of: self)!) }

    static let allBits: UInt64 = allCases.reduce(0) { $0 | $1.bit }
}

/// One thing that happened, as the gateway hands it to `CTIEventHub.publish`. The hub adds the
/// sequence number and both timestamps; `fields` are the type's own (ani, dnis, cause, digit …).
public struct CTIEvent: Sendable {
    public var type: CTIEventType
    public var callID: String?
    public var channel: Int?
    public var span: Int?
    /// The operation this event ends or reports on (play, collect, record, originate, transfer).
    public var opID: String?
    public var fields: [(String, JSONValue)]

    public init(_ type: CTIEventType, callID: String? = nil, channel: Int? = nil, span: Int? = nil, opID: String? = nil, fields: [(String, JSONValue)] = []) {
        self.type = type
        self.callID = callID
        self.channel = channel
        self.span = span
        self.opID = opID
        self.fields = fields
    }

    /// The part of the notification after the hub's own fields: `"type":…,"call_id":…,…}}\n`.
    func encodeBody() -> [UInt8] {
        var writer = JSONWriter(capacity: 160)
        writer.raw(",\"type\":")
        writer.write(type.rawValue)
        if let callID {
            writer.raw(",\"call_id\":")
            writer.write(callID)
        }
        if let channel {
            writer.raw(",\"channel\":")
            writer.write(channel)
        }
        if let span {
            writer.raw(",\"span\":")
            writer.write(span)
        }
        if let opID {
            writer.raw(",\"op_id\":")
            writer.write(opID)
        }
        for (key, value) in fields {
            writer.raw(",")
            writer.key(key)
            writer.write(value)
        }
        writer.raw("}}\n")
        return writer.bytes
    }
}
