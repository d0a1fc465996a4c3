/// Which side of a call centre conversation a party is on. Only agents hear a whisper.
public enum ConferenceSide: Sendable, Equatable {
    /// The caller, on the trunk (the far end).
    case trunk
    /// The agent (the near end).
    case agent
    /// A supervisor or another observer; what it hears and who hears it follow its mode.
    case supervisor
}

/// How a party takes part in a conference (the vocabulary of ARI's snoop: spy, whisper, both).
public enum ConferenceMode: Sendable, Equatable {
    /// Hears everyone, heard by everyone: an ordinary party.
    case talk
    /// Hears everyone, heard by no one: silent monitoring.
    case listen
    /// Hears everyone, heard only by agent-side parties: coaching.
    case whisper
    /// Hears everyone, heard by everyone: a supervisor joining the conversation.
    case barge

    /// Whether the party's audio reaches trunk-side and supervisor parties.
    var speaksToAll: Bool { self == .talk || self == .barge }
    /// Whether the party's audio reaches agent-side parties.
    var speaksToAgents: Bool { self != .listen }
}
