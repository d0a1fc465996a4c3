import TrunkHardware

extension TrunklineConfig {
    /// The spans a file can refer to: those it declares, or the embedded default's.
    public var knownSpans: [Int] {
        spans.isEmpty ? SimulatorTopology.embeddedDefault.spans.map(\.number) : spans.map(\.number)
    }

    /// DAHDI channel numbers of an E1 span's 31 timeslots: given for dahdi spans, numbered in
    /// file order for virtual ones (as the simulator numbers them), the lab's with no spans.
    public func channelNumbers(ofSpan number: Int) -> [Int] {
        if spans.isEmpty {
            let lab = HardwarePortsNumbering(topology: .embeddedDefault)
            return lab.channels[number] ?? []
        }
        guard let span = spans.first(where: { $0.number == number }) else { return [] }
        if span.backend == .dahdi { return span.channels }
        let index = spans.filter { $0.backend == .virtual }.firstIndex { $0.number == number } ?? 0
        return Array((index * 31 + 1)...(index * 31 + 31))
    }

    /// The analog ports `backend = "virtual"` refers to: the lab's FXS/FXO cards, numbered after
    /// this file's virtual E1 spans as trunkd builds them, or the embedded default's.
    public var virtualHardwarePorts: HardwarePorts {
        let virtual = spans.filter { $0.backend == .virtual }
        guard !virtual.isEmpty else { return .embeddedDefault }
        var topology = SimulatorTopology(spans: virtual.map { SimulatorTopology.Span(number: $0.number, kind: .e1) }, cables: [])
        topology.addLabAnalogCards(if: true)
        return HardwarePorts(topology: topology, source: "this file's virtual lab")
    }

    /// The channel carrying span `number`'s D-channel (timeslot 16).
    public func dChannel(ofSpan number: Int) -> Int? {
        let channels = channelNumbers(ofSpan: number)
        return channels.count == 31 ? channels[15] : nil
    }
}

extension SimulatorTopology {
    /// A virtual lab with analog ports gets the embedded default's cards: 4 FXS ports wired to
    /// 4 FXO ports, numbered after the E1 spans.
    mutating func addLabAnalogCards(if wanted: Bool) {
        guard wanted else { return }
        let next = (spans.map(\.number).max() ?? 0) + 1
        spans += [Span(number: next, kind: .fxs, ports: 4), Span(number: next + 1, kind: .fxo, ports: 4)]
        cables.append(Cable(next, next + 1))
    }
}

/// Channel numbers per span as the simulator assigns them: consecutive, in topology order.
struct HardwarePortsNumbering {
    var channels: [Int: [Int]] = [:]

    init(topology: SimulatorTopology) {
        var next = 1
        for span in topology.spans {
            channels[span.number] = Array(next..<(next + span.ports))
            next += span.ports
        }
    }
}

extension ConfigReader {
    /// Checks across the sections: timing, analog ports against spans and hardware, trunk
    /// groups, routes and CTI scopes referring to what exists.
    mutating func crossCheckSections(_ config: TrunklineConfig, hardware: HardwarePorts?) {
        checkTiming(config)
        checkAnalogPorts(config, hardware: hardware)
        checkTrunkGroups(config)
        checkRoutes(config)
        checkTokens(config)
    }

    private mutating func checkTiming(_ config: TrunklineConfig) {
        var priorities: [Int: Int] = [:]
        for span in config.spans where span.timing > 0 {
            if let first = priorities[span.timing] {
                fail(span.position, "span \(span.number): timing priority \(span.timing) is already given to span \(first); each span that may time the system needs its own priority")
            } else {
                priorities[span.timing] = span.number
            }
        }
        // Virtual spans are cabled in pairs in file order; if both ends recover their clock
        // from the line, each waits on the other and nothing is the master.
        let virtual = config.spans.filter { $0.backend == .virtual }
        for index in stride(from: 0, to: virtual.count - 1, by: 2) where virtual[index].timing > 0 && virtual[index + 1].timing > 0 {
            let a = virtual[index], b = virtual[index + 1]
            fail(b.position, "span \(b.number): spans \(a.number) and \(b.number) are cabled to each other and both take timing from the line, a timing loop with no clock master; set timing = 0 on the network side")
        }
    }

    private mutating func checkAnalogPorts(_ config: TrunklineConfig, hardware: HardwarePorts?) {
        var spanOwner: [Int: Int] = [:]
        for span in config.knownSpans { for channel in config.channelNumbers(ofSpan: span) { spanOwner[channel] = span } }
        var seen: [Int: Int] = [:]
        for port in config.analogPorts {
            if let line = seen[port.channel] {
                fail(port.position, "channel \(port.channel) is declared twice as an analog port (first at line \(line))")
                continue
            }
            seen[port.channel] = port.line
            let ports = port.backend == .virtual ? config.virtualHardwarePorts : hardware
            if let ports {
                if let kind = ports.kinds[port.channel] {
                    if kind != port.kind {
                        fail(port.position, "channel \(port.channel) is declared \(port.kind.rawValue), but on \(ports.source) it is an \(kind.rawValue.uppercased()) port")
                    }
                } else if let span = spanOwner[port.channel] {
                    fail(port.position, "channel \(port.channel) is already used by span \(span), not an analog port")
                } else {
                    let analog = ports.kinds.keys.sorted()
                    let range = analog.isEmpty ? "none" : "\(analog.first!)–\(analog.last!)"
                    fail(port.position, "channel \(port.channel) is not an analog port on \(ports.source) (analog ports: \(range))")
                }
            } else if let span = spanOwner[port.channel] {
                fail(port.position, "channel \(port.channel) is already used by span \(span), not an analog port")
            }
        }
    }

    private mutating func checkTrunkGroups(_ config: TrunklineConfig) {
        var names: [String: Int] = [:]
        var member: [Int: String] = [:]
        let known = Set(config.knownSpans)
        let dChannels = Dictionary(config.knownSpans.compactMap { span in config.dChannel(ofSpan: span).map { ($0, span) } }) { first, _ in first }
        for group in config.trunkGroups {
            if let line = names[group.name] { fail(group.position, "trunk group \(group.name) is defined twice (first at line \(line))") }
            names[group.name] = group.line
            var channels = group.channels
            for span in group.spans {
                guard known.contains(span) else {
                    fail(group.spansPosition ?? group.position, "trunk group \(group.name): span \(span) is not declared (spans: \(config.knownSpans.map(String.init).joined(separator: ", ")))")
                    continue
                }
                let dChannel = config.dChannel(ofSpan: span)
                channels += config.channelNumbers(ofSpan: span).filter { $0 != dChannel }
            }
            for channel in group.channels {
                if let span = dChannels[channel] {
                    fail(group.channelsPosition ?? group.position, "trunk group \(group.name): channel \(channel) is span \(span)'s D-channel (timeslot 16), not a B-channel")
                }
            }
            for channel in channels {
                if let other = member[channel], other != group.name {
                    fail(group.position, "trunk group \(group.name): channel \(channel) is already in trunk group \(other)")
                    break
                }
                member[channel] = group.name
            }
        }
    }

    private mutating func checkRoutes(_ config: TrunklineConfig) {
        let groups = Set(config.trunkGroups.map(\.name))
        let known = Set(config.knownSpans)
        for route in config.routes {
            if case .trunkGroup(let name) = route.action, !groups.contains(name) {
                let declared = groups.isEmpty ? "none declared" : "declared: " + groups.sorted().joined(separator: ", ")
                fail(route.trunkGroupPosition ?? route.position, "route: unknown trunk group \"\(name)\" (\(declared))")
            }
            if let span = route.span, !known.contains(span) {
                fail(route.spanPosition ?? route.position, "route: span \(span) is not declared (spans: \(config.knownSpans.map(String.init).joined(separator: ", ")))")
            }
        }
    }

    private mutating func checkTokens(_ config: TrunklineConfig) {
        var secrets: [String: String] = [:]
        var names = Set<String>()
        let known = Set(config.knownSpans)
        for token in config.cti.tokens {
            if !names.insert(token.name).inserted { fail(token.position, "token \(token.name) is defined twice") }
            if let other = secrets[token.token] {
                fail(token.position, "token \(token.name) has the same secret as token \(other); give each client its own")
            }
            secrets[token.token] = token.name
            for span in token.spans where !known.contains(span) {
                fail(token.spansPosition ?? token.position, "token \(token.name): span \(span) is not declared (spans: \(config.knownSpans.map(String.init).joined(separator: ", ")))")
            }
        }
    }
}
