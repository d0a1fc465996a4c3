import Foundation

/// Converts an existing DAHDI/Asterisk setup (`/etc/dahdi/system.conf`, optionally
/// `/etc/asterisk/chan_dahdi.conf`) into a Trunkline configuration file.
///
/// What DAHDI and chan_dahdi say about spans, channels, signalling, echo cancellation, tone
/// zones and groups carries over; what has no meaning here (Asterisk dialplan contexts) is kept
/// as a comment so the technician sees it was not lost silently.
public struct DAHDIImport: Sendable {
    public struct Source: Sendable {
        public var file: String
        public var text: String
        public init(file: String, text: String) {
            self.file = file
            self.text = text
        }
    }

    /// The configuration text, and notes on what did not carry over exactly.
    public struct Result: Sendable {
        public var toml: String
        public var notes: [String]
    }

    struct SpanLine {
        var number: Int, timing: Int, lineBuildOut: Int, framing: String, lineCode: String, crc4: Bool, line: Int
    }

    struct AnalogLine {
        var channel: Int, kind: AnalogPortConfig.Kind, start: AnalogPortConfig.Start, line: Int
    }

    /// Settings chan_dahdi gave one channel (the ones in force at its `channel =>` line).
    struct ChannelSettings {
        var signalling: String?
        var switchType: String?
        var echoCancel: String?
        var group: String?
        var context: String?
        var callerID: AnalogPortConfig.CallerID?
        var rxGain: Double?
        var txGain: Double?
        var line: Int
    }

    public static func convert(systemConf: Source, chanDahdi: Source? = nil) throws(ConfigErrors) -> Result {
        var importer = DAHDIImport()
        try importer.readSystemConf(systemConf)
        if let chanDahdi { try importer.readChanDahdi(chanDahdi) }
        return try importer.render(systemFile: systemConf.file, chanFile: chanDahdi?.file)
    }

    var spans: [SpanLine] = []
    var bearer: [Int] = []
    var dChannels: [Int] = []
    var analog: [AnalogLine] = []
    var echoChannels = Set<Int>()
    var zones: [String] = []
    var defaultZone: String?
    var channelSettings: [Int: ChannelSettings] = [:]
    var notes: [String] = []

    private static func error(_ file: String, _ line: Int, _ column: Int, _ message: String) -> ConfigErrors {
        ConfigErrors(errors: [ConfigError(file: file, position: SourcePosition(line: line, column: column), message: message)])
    }

    /// "1-15,17-31" → channel numbers.
    static func channels(_ text: Substring) -> [Int]? {
        var out: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            // DAHDI numbers at most 1024 channels; anything beyond is a typo, not a range to build.
            guard (1...2).contains(bounds.count), let first = bounds[0], let last = bounds[bounds.count - 1], first >= 1, first <= last,
                  last <= 1024 else { return nil }
            out += Array(first...last)
        }
        return out.isEmpty ? nil : out
    }

    /// Lines without comments, with their number and the column where the value starts.
    static func lines(_ text: String) -> [(number: Int, key: String, value: Substring, valueColumn: Int)] {
        var out: [(Int, String, Substring, Int)] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            guard let equals = line.firstIndex(of: "=") else {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if !trimmed.isEmpty { out.append((index + 1, trimmed, "", 1)) }
                continue
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var valueStart = line.index(after: equals)
            if valueStart < line.endIndex, line[valueStart] == ">" { valueStart = line.index(after: valueStart) }   // channel => 1-15
            while valueStart < line.endIndex, line[valueStart] == " " || line[valueStart] == "\t" { valueStart = line.index(after: valueStart) }
            let value = line[valueStart...].trimmingCharacters(in: .whitespaces)
            out.append((index + 1, key, Substring(value), line.distance(from: line.startIndex, to: valueStart) + 1))
        }
        return out
    }

    mutating func readSystemConf(_ source: Source) throws(ConfigErrors) {
        let file = source.file
        for (number, key, value, column) in Self.lines(source.text) {
            switch key {
            case "span":
                let fields = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                guard fields.count >= 5, let span = Int(fields[0]), let timing = Int(fields[1]), let lbo = Int(fields[2]) else {
                    throw Self.error(file, number, column, "span= must be SPAN,TIMING,LBO,FRAMING,CODING[,crc4][,yellow], not \"\(value)\"")
                }
                guard ["ccs", "cas"].contains(fields[3]) else {
                    throw Self.error(file, number, column, "span \(span): framing \(fields[3]) is T1 framing; Trunkline drives E1 spans (ccs or cas)")
                }
                guard ["hdb3", "ami"].contains(fields[4]) else {
                    throw Self.error(file, number, column, "span \(span): line code \(fields[4]) is not an E1 line code (hdb3 or ami)")
                }
                spans.append(SpanLine(number: span, timing: timing, lineBuildOut: lbo, framing: fields[3], lineCode: fields[4],
                                      crc4: fields.dropFirst(5).contains("crc4"), line: number))
            case "bchan", "dchan", "hardhdlc", "fxoks", "fxols", "fxsks", "fxsls":
                guard let list = Self.channels(value) else {
                    throw Self.error(file, number, column, "\(key)= must be channel numbers like 1-15,17-31, not \"\(value)\"")
                }
                switch key {
                case "bchan": bearer += list
                case "dchan", "hardhdlc": dChannels += list
                case "fxoks": analog += list.map { AnalogLine(channel: $0, kind: .fxs, start: .kewlstart, line: number) }
                case "fxols": analog += list.map { AnalogLine(channel: $0, kind: .fxs, start: .loopstart, line: number) }
                case "fxsks": analog += list.map { AnalogLine(channel: $0, kind: .fxo, start: .kewlstart, line: number) }
                default: analog += list.map { AnalogLine(channel: $0, kind: .fxo, start: .loopstart, line: number) }
                }
            case "echocanceller":
                // echocanceller=MODULE,CHANNELS: which channels get the kernel's canceller.
                guard let comma = value.firstIndex(of: ","), let list = Self.channels(value[value.index(after: comma)...]) else {
                    throw Self.error(file, number, column, "echocanceller= must be MODULE,CHANNELS like oslec,1-15,17-31, not \"\(value)\"")
                }
                echoChannels.formUnion(list)
            case "loadzone": zones.append(String(value))
            case "defaultzone": defaultZone = String(value)
            default:
                notes.append("\(file):\(number): \(key)= has no Trunkline equivalent and was not imported")
            }
        }
        guard !spans.isEmpty || !analog.isEmpty else {
            throw Self.error(file, 1, 1, "no span= or analog (fxoks=/fxsks=/fxols=/fxsls=) lines: nothing to import")
        }
    }

    mutating func readChanDahdi(_ source: Source) throws(ConfigErrors) {
        var current = ChannelSettings(line: 0)
        var inChannels = false
        for (number, key, value, column) in Self.lines(source.text) {
            if key.hasPrefix("[") {
                inChannels = key == "[channels]"
                continue
            }
            guard inChannels else { continue }
            switch key {
            case "signalling", "signaling": current.signalling = String(value)
            case "switchtype": current.switchType = String(value)
            case "echocancel": current.echoCancel = String(value)
            case "group": current.group = String(value)
            case "context": current.context = String(value)
            case "usecallerid": if value == "no" { current.callerID = .off }
            case "cidsignalling":
                switch value {
                case "dtmf": current.callerID = .dtmf
                case "bell", "v23", "v23_jp": current.callerID = .fsk
                default: throw Self.error(source.file, number, column, "cidsignalling must be bell, v23 or dtmf, not \"\(value)\"")
                }
            case "rxgain": current.rxGain = Double(value)
            case "txgain": current.txGain = Double(value)
            case "channel":
                guard let list = Self.channels(value) else {
                    throw Self.error(source.file, number, column, "channel => must be channel numbers like 1-15,17-31, not \"\(value)\"")
                }
                current.line = number
                for channel in list { channelSettings[channel] = current }
            default:
                notes.append("\(source.file):\(number): \(key)= is Asterisk's and was not imported")
            }
        }
    }

    private func echo(for channels: [Int], settings: [ChannelSettings?]) -> (enabled: Bool, tailMs: Int, note: String?) {
        let inKernel = channels.filter { echoChannels.contains($0) }.count
        let declined = settings.contains { $0?.echoCancel == "no" }
        let taps = settings.compactMap { $0?.echoCancel.flatMap { Int($0) } }.max()
        var tail = 64
        var note: String?
        if let taps {
            // chan_dahdi counts the tail in taps at 8 kHz; Trunkline's canceller covers 32-128 ms.
            tail = min(128, max(32, taps / 8))
            if taps / 8 != tail { note = "echocancel=\(taps) taps is \(taps / 8) ms; Trunkline's tail runs 32-128 ms, set to \(tail)" }
        }
        if inKernel > 0 && inKernel < channels.count {
            note = "system.conf enables the echo canceller on \(inKernel) of \(channels.count) channels; Trunkline sets it per span or port, so all get it"
        }
        return (inKernel > 0 && !declined, tail, note)
    }

    func render(systemFile: String, chanFile: String?) throws(ConfigErrors) -> Result {
        var out = "# Imported by `trunkctl config import-dahdi` from \(systemFile)\(chanFile.map { " and \($0)" } ?? "").\n"
        out += "# Check it with `trunkctl config check FILE` before use.\n"
        var notes = self.notes
        // DAHDI numbers E1 channels span by span in the order of span= lines, 31 each.
        let e1 = Set(bearer + dChannels).sorted()
        guard e1.count == spans.count * 31 else {
            let line = spans.first?.line ?? 1
            throw Self.error(systemFile, line, 1, "\(spans.count) E1 span(s) need \(spans.count * 31) bchan/dchan channels, found \(e1.count)")
        }
        for (index, span) in spans.enumerated() {
            let channels = Array(e1[(index * 31)..<(index * 31 + 31)])
            guard channels.last! - channels.first! == 30 else {
                throw Self.error(systemFile, span.line, 1, "span \(span.number): its channels \(channels.first!)-\(channels.last!) are not 31 consecutive numbers")
            }
            let dChannel = channels[15]
            guard dChannels.contains(dChannel), dChannels.filter(channels.contains) == [dChannel] else {
                throw Self.error(systemFile, span.line, 1, "span \(span.number): an E1 PRI needs its D-channel (dchan=/hardhdlc=) on timeslot 16, channel \(dChannel)")
            }
            let settings = channels.filter { $0 != dChannel }.map { channelSettings[$0] }
            let signalling = settings.compactMap { $0?.signalling }.first ?? "pri_cpe"
            guard ["pri_cpe", "pri_net"].contains(signalling) else {
                throw Self.error(chanFile ?? systemFile, settings.compactMap { $0?.line }.first ?? 1, 1,
                                 "span \(span.number): signalling=\(signalling) on an E1 span; Trunkline runs pri_cpe or pri_net")
            }
            if chanFile == nil { notes.append("span \(span.number): no chan_dahdi.conf, so signalling = \"pri_cpe\" is assumed") }
            let switchType = settings.compactMap { $0?.switchType }.first ?? "euroisdn"
            guard switchType == "euroisdn" else {
                throw Self.error(chanFile ?? systemFile, settings.compactMap { $0?.line }.first ?? 1, 1,
                                 "span \(span.number): switchtype=\(switchType); Trunkline speaks euroisdn (ETSI DSS1)")
            }
            let echo = echo(for: channels.filter { $0 != dChannel }, settings: settings)
            if let note = echo.note { notes.append("span \(span.number): \(note)") }
            out += "\n[[span]]\nspan = \(span.number)\nbackend = \"dahdi\"\nchannels = \"\(channels.first!)-\(channels.last!)\"\n"
            out += "signalling = \"\(signalling)\"\nswitch_type = \"\(switchType)\"\nframing = \"\(span.framing)\"\n"
            out += "crc4 = \(span.crc4)\nlinecode = \"\(span.lineCode)\"\ntiming = \(span.timing)\nline_build_out = \(span.lineBuildOut)\n"
            out += "echo_canceller = \(echo.enabled)\necho_tail_ms = \(echo.tailMs)\n"
        }
        for port in analog.sorted(by: { $0.channel < $1.channel }) {
            let settings = channelSettings[port.channel]
            // chan_dahdi names the signalling after the far end: an FXS port runs fxo_ks.
            let expected = (port.kind == .fxs ? "fxo_" : "fxs_") + (port.start == .kewlstart ? "ks" : "ls")
            if let signalling = settings?.signalling, signalling != expected {
                throw Self.error(chanFile ?? systemFile, settings?.line ?? 1, 1,
                                 "channel \(port.channel): signalling=\(signalling) in chan_dahdi.conf, but system.conf makes it an \(port.kind.rawValue.uppercased()) port (expects \(expected))")
            }
            let echo = echo(for: [port.channel], settings: [settings])
            out += "\n[[analog]]\nchannel = \(port.channel)\nbackend = \"dahdi\"\nport = \"\(port.kind.rawValue)\"\nstart = \"\(port.start.rawValue)\"\n"
            if let callerID = settings?.callerID, !(port.kind == .fxs && callerID == .auto) { out += "callerid = \"\(callerID.rawValue)\"\n" }
            if let gain = settings?.rxGain, gain != 0 { out += "rx_gain_db = \(gain)\n" }
            if let gain = settings?.txGain, gain != 0 { out += "tx_gain_db = \(gain)\n" }
            out += "echo_canceller = \(echo.enabled)\necho_tail_ms = \(echo.tailMs)\n"
        }
        if let zone = defaultZone ?? zones.first {
            guard ToneZone.supported.contains(zone) else {
                throw Self.error(systemFile, 1, 1, "tone zone \(zone): Trunkline carries the tone plans \(ToneZone.supported.joined(separator: ", "))")
            }
            out += "\n[tones]\nzone = \"\(zone)\"\n"
        }
        // chan_dahdi groups become trunk groups; D-channels are never members.
        var groups: [String: [Int]] = [:]
        for (channel, settings) in channelSettings where !dChannels.contains(channel) {
            for group in (settings.group ?? "").split(separator: ",") {
                groups["group" + group.trimmingCharacters(in: .whitespaces), default: []].append(channel)
            }
        }
        for name in groups.keys.sorted() {
            out += "\n[[trunk_group]]\nname = \"\(name)\"\nchannels = \"\(Self.ranges(groups[name]!.sorted()))\"\nhunt = \"ascending\"\n"
        }
        let contexts = Set(channelSettings.values.compactMap(\.context)).sorted()
        if !contexts.isEmpty {
            out += "\n# Asterisk contexts \(contexts.joined(separator: ", ")) are dialplan, not imported: write [[route]] tables for them.\n"
        }
        return Result(toml: out, notes: notes)
    }

    /// [1, 2, 3, 5] → "1-3,5".
    static func ranges(_ numbers: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        while index < numbers.count {
            var end = index
            while end + 1 < numbers.count && numbers[end + 1] == numbers[end] + 1 { end += 1 }
            parts.append(end == index ? "\(numbers[index])" : "\(numbers[index])-\(numbers[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}
