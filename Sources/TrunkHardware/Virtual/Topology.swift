import TrunkCore

/// The spans a simulator builds and how they are cabled. Both the in-process simulator and a
/// split one (carrier in `trunksim`, call centre in trunkd) are built from the same description,
/// so channel numbers and cabling agree on both sides.
public struct SimulatorTopology: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// An E1 PRI span: 31 channels, TS16 the D-channel.
        case e1
        /// An analog card of FXS ports (they feed lines: ring, battery).
        case fxs
        /// An analog card of FXO ports (they sit on lines: answer, seize).
        case fxo
    }

    public struct Span: Sendable, Hashable, Codable {
        public var number: Int
        public var kind: Kind
        public var ports: Int
        public var role: LineRole?
        public var timingPriority: Int
        public var law: AudioLaw
        public var crc4: Bool

        public init(number: Int, kind: Kind, ports: Int = 0, role: LineRole? = nil, timingPriority: Int = 0,
                    law: AudioLaw = .alaw, crc4: Bool = true) {
            self.number = number
            self.kind = kind
            self.ports = kind == .e1 ? 31 : ports
            self.role = role
            self.timingPriority = timingPriority
            self.law = law
            self.crc4 = crc4
        }
    }

    /// Two spans joined: E1 end to E1 end, or an FXS card's port k to an FXO card's port k.
    public struct Cable: Sendable, Hashable, Codable {
        public var a: Int
        public var b: Int
        public init(_ a: Int, _ b: Int) {
            self.a = a
            self.b = b
        }
    }

    public var spans: [Span]
    public var cables: [Cable]

    public init(spans: [Span], cables: [Cable]) {
        self.spans = spans
        self.cables = cables
    }

    /// The lab trunkd starts with no configuration: span 1 plays the carrier (network side)
    /// cabled to span 2, the call centre's PRI trunk (user side); FXS ports 1–4 (span 3) are
    /// wired to FXO ports 1–4 (span 4).
    public static let embeddedDefault = SimulatorTopology(
        spans: [
            Span(number: 1, kind: .e1, role: .network, timingPriority: 0),
            Span(number: 2, kind: .e1, role: .user, timingPriority: 1),
            Span(number: 3, kind: .fxs, ports: 4),
            Span(number: 4, kind: .fxo, ports: 4),
        ],
        cables: [Cable(1, 2), Cable(3, 4)]
    )

    /// The spans that play the carrier and the exchange: what `trunksim` owns when split off.
    public var carrierSpans: Set<Int> {
        Set(spans.filter { $0.role == .network || $0.kind == .fxs }.map(\.number))
    }

    /// Checks that the description can be built; every problem is named.
    public func validate() throws(TrunkError) {
        var seen = Set<Int>()
        for span in spans {
            guard span.number >= 1 && span.number <= 128 else { throw TrunkError(.invalidArgument, "span \(span.number): span numbers run from 1 to 128") }
            guard seen.insert(span.number).inserted else { throw TrunkError(.invalidArgument, "span \(span.number) is defined twice") }
            if span.kind != .e1 && !(1...24).contains(span.ports) {
                throw TrunkError(.invalidArgument, "span \(span.number): an analog card has 1 to 24 ports, not \(span.ports)")
            }
        }
        var cabled = Set<Int>()
        for cable in cables {
            guard let a = spans.first(where: { $0.number == cable.a }), let b = spans.first(where: { $0.number == cable.b }) else {
                throw TrunkError(.invalidArgument, "cable \(cable.a)–\(cable.b) names a span that does not exist")
            }
            guard cabled.insert(a.number).inserted, cabled.insert(b.number).inserted else {
                throw TrunkError(.invalidArgument, "cable \(cable.a)–\(cable.b): a span can be cabled only once")
            }
            switch (a.kind, b.kind) {
            case (.e1, .e1): break
            case (.fxs, .fxo), (.fxo, .fxs):
                guard a.ports == b.ports else { throw TrunkError(.invalidArgument, "cable \(cable.a)–\(cable.b): the cards have different port counts") }
            default:
                throw TrunkError(.invalidArgument, "cable \(cable.a)–\(cable.b): an E1 joins an E1, an FXS card joins an FXO card")
            }
        }
    }
}
