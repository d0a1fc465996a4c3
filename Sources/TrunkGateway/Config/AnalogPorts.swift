import TrunkHardware

/// Echo canceller settings of a span's B-channels or of an analog port, kept for the media layer.
public struct EchoSettings: Sendable, Equatable, Codable {
    public var enabled = true
    /// Tail length: the longest echo path the canceller covers (G.168 allows up to 128 ms).
    public var tailMs = 64

    public init(enabled: Bool = true, tailMs: Int = 64) {
        self.enabled = enabled
        self.tailMs = tailMs
    }
}

/// One analog port, `[[analog]]`: which hardware port, its kind and how it signals.
public struct AnalogPortConfig: Sendable, Equatable, Codable {
    /// The port's hardware: an FXS port feeds a phone (battery, ringing); an FXO port sits on
    /// an exchange line (answers, seizes). DAHDI names the signalling after the far end, so an
    /// FXO port runs `fxsks` in system.conf; this file names the port itself.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case fxs
        case fxo
    }

    public enum Start: String, Sendable, CaseIterable, Codable {
        case loopstart
        case kewlstart
    }

    public enum CallerID: String, Sendable, CaseIterable, Codable {
        case fsk
        case dtmf
        /// FXO only: detect whichever the exchange sends (both are in use in China).
        case auto
        case off
    }

    public var channel: Int
    public var backend: TrunklineConfig.Backend
    public var kind: Kind
    public var start: Start
    public var callerID: CallerID
    /// On/off pairs in ms, FXS only (China: 1 s on, 4 s off).
    public var ringCadenceMs: [Int]
    public var rxGainDB: Double
    public var txGainDB: Double
    public var echo: EchoSettings
    public var line: Int
    public var column: Int

    public var position: SourcePosition { SourcePosition(line: line, column: column) }
}

/// What kind of analog port each channel number is on the hardware, where that is known.
public struct HardwarePorts: Sendable {
    public var source: String
    public var kinds: [Int: AnalogPortConfig.Kind]

    public init(source: String, kinds: [Int: AnalogPortConfig.Kind]) {
        self.source = source
        self.kinds = kinds
    }

    /// Channel numbers run across the topology's spans in order, as the simulator numbers them.
    public init(topology: SimulatorTopology, source: String) {
        var kinds: [Int: AnalogPortConfig.Kind] = [:]
        var next = 1
        for span in topology.spans {
            for channel in next..<(next + span.ports) {
                switch span.kind {
                case .fxs: kinds[channel] = .fxs
                case .fxo: kinds[channel] = .fxo
                case .e1: break
                }
            }
            next += span.ports
        }
        self.init(source: source, kinds: kinds)
    }

    /// From the signalling DAHDI reports for each discovered channel: a channel running fxoks
    /// is an FXS port, one running fxsks an FXO port.
    public init(dahdiSpans: [DAHDISpan]) {
        var kinds: [Int: AnalogPortConfig.Kind] = [:]
        for span in dahdiSpans {
            for channel in span.channels {
                switch channel.signalling {
                case .fxoKewlStart: kinds[channel.channel] = .fxs
                case .fxsKewlStart: kinds[channel.channel] = .fxo
                default: break
                }
            }
        }
        self.init(source: "the DAHDI devices", kinds: kinds)
    }

    public static let embeddedDefault = HardwarePorts(topology: .embeddedDefault, source: "the simulator's embedded default")
}

extension ConfigReader {
    static let analogKeys = ["channel", "channels", "backend", "port", "start", "callerid", "ring_cadence",
                             "rx_gain_db", "tx_gain_db", "echo_canceller", "echo_tail_ms"]

    mutating func echoSettings(_ table: ConfigTable) -> EchoSettings {
        EchoSettings(enabled: boolean(table, "echo_canceller", default: true),
                     tailMs: integer(table, "echo_tail_ms", in: 32...128, default: 64) ?? 64)
    }

    /// One [[analog]] table: `channel = 63` or `channels = "63-66"` for several alike ports.
    mutating func analogPorts(_ table: ConfigTable) -> [AnalogPortConfig] {
        checkKeys(table, allowed: Self.analogKeys)
        let errorsBefore = errors.count
        var channels: [Int] = []
        switch (value(table, "channel"), value(table, "channels")) {
        case (nil, nil): fail(table.position, "[[analog]] needs channel (or channels = \"FIRST-LAST\")")
        case (_?, _?): fail(value(table, "channels")!.position, "give channel or channels, not both")
        case (_?, nil): if let channel = integer(table, "channel", in: 1...1024) { channels = [channel] }
        case (nil, _?): channels = channelList(table, "channels") ?? []
        }
        let backend: TrunklineConfig.Backend? = choice(table, "backend", default: .virtual)
        let kind: AnalogPortConfig.Kind? = choice(table, "port")
        let start: AnalogPortConfig.Start? = choice(table, "start", default: .kewlstart)
        let callerID: AnalogPortConfig.CallerID? = choice(table, "callerid", default: kind == .fxo ? .auto : .fsk)
        var cadence = [1000, 4000]
        if let entry = value(table, "ring_cadence") {
            if kind == .fxo {
                fail(entry.position, "ring_cadence applies to fxs ports (they ring the phone); an fxo port hears the exchange's cadence")
            } else if case .array(let items) = entry.kind, !items.isEmpty, items.count % 2 == 0,
                      items.allSatisfy({ if case .integer(let ms) = $0.kind { (50...10_000).contains(ms) } else { false } }) {
                cadence = items.map { if case .integer(let ms) = $0.kind { ms } else { 0 } }
            } else {
                fail(entry.position, "ring_cadence must be on/off pairs in ms, each 50…10000, like [1000, 4000]")
            }
        }
        if callerID == .auto, kind == .fxs, let entry = value(table, "callerid") {
            fail(entry.position, "callerid \"auto\" applies to fxo ports (detection); an fxs port sends \"fsk\" or \"dtmf\"")
        }
        let rxGain = gain(table, "rx_gain_db")
        let txGain = gain(table, "tx_gain_db")
        if backend == .alsa, let entry = value(table, "backend") {
            fail(entry.position, "analog ports run on \"dahdi\" or \"virtual\"; a sound card is a [[port]]")
        }
        let echo = echoSettings(table)
        guard errors.count == errorsBefore, let backend, let kind, let start, let callerID else { return [] }
        return channels.map {
            AnalogPortConfig(channel: $0, backend: backend, kind: kind, start: start, callerID: callerID, ringCadenceMs: cadence,
                             rxGainDB: rxGain, txGainDB: txGain, echo: echo, line: table.position.line, column: table.position.column)
        }
    }

    private mutating func gain(_ table: ConfigTable, _ key: String) -> Double {
        let gain = number(table, key, default: 0)
        if !(-24...12).contains(gain), let entry = value(table, key) {
            fail(entry.position, "\(key) must be -24…12 dB, not \(gain)")
            return 0
        }
        return gain
    }
}
