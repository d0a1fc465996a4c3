import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import TrunkAnalog
import TrunkCore
import TrunkISDN

/// The call side of a node, put together: the call manager, a trunk adapter per PRI span the
/// node owns, the lab's carrier on spans that play the network, an analog trunk per FXO span
/// and the lab's exchange on FXS spans wired to them, and the call records.
public final class CallService: Sendable {
    public let manager: CallManager
    public let trunks: [Int: PRITrunk]
    public let carriers: [Int: LabCarrier]
    /// FXO spans (the call centre's analog lines) and the lab exchange's FXS spans.
    public let analogTrunks: [Int: AnalogTrunk]
    public let exchanges: [Int: LabExchange]
    /// FXS spans with phones the gateway rings (`channel.ring`), and the lab's phones on them.
    public let stations: [Int: AnalogStations]
    public let phones: [Int: LabPhones]
    public let store: CDRStore?
    /// Plays, collects and records for calls; nil on a node without a media loop.
    public let media: CallMediaEngine?
    private let writes = DispatchQueue(label: "trunkline.cdr")
    private let logger: Logger
    private let traffic = NIOLockedValueBox<TrafficGenerator?>(nil)
    private let labMilliseconds: @Sendable () -> Int64

    public init(pri: PRILab, store: CDRStore?, media: CallMediaEngine? = nil,
                configuration: CallManager.Configuration = CallManager.Configuration(),
                groups: [TrunkGroup]? = nil, groupsFromFile: ((_ trunks: [Int: [Int]]) throws(TrunkError) -> [TrunkGroup]?)? = nil,
                analog: AnalogLabSetup? = nil, logger: Logger) throws(TrunkError) {
        let manager = CallManager(configuration: configuration, clock: { UInt64(max(0, pri.now.nanoseconds)) }, logger: logger)
        var trunks: [Int: PRITrunk] = [:]
        var carriers: [Int: LabCarrier] = [:]
        for (span, driver) in pri.drivers {
            if pri.carrierSpans.contains(span) {
                carriers[span] = LabCarrier(driver: driver, now: { pri.now })
            } else {
                let trunk = PRITrunk(driver: driver, manager: manager, channels: PRILab.e1BChannels, now: { pri.now })
                manager.register(trunk)
                trunks[span] = trunk
            }
        }
        let analogNow: @Sendable () -> AnalogInstant = { AnalogInstant(milliseconds: pri.now.nanoseconds / 1_000_000) }
        let built = try analog?.build(manager: manager, now: analogNow) ?? AnalogLabSetup.Built()
        let (analogTrunks, exchanges) = (built.trunks, built.exchanges)
        for trunk in analogTrunks.values {
            manager.register(trunk)
            media?.borrowChannels(span: trunk.span, from: trunk)
        }
        // Line tests on the exchange's FXS ports borrow their devices as calls borrow the FXO lines'.
        for exchange in exchanges.values { media?.borrowChannels(span: exchange.span, from: exchange) }
        for stations in built.stations.values {
            manager.register(stations)
            media?.borrowChannels(span: stations.span, from: stations)
        }
        var callChannels = trunks.mapValues(\.channels)
        for (span, trunk) in analogTrunks { callChannels[span] = trunk.channels }
        let fromFile = try groupsFromFile?(callChannels)
        for group in groups ?? fromFile ?? Self.defaultGroups(trunks: Array(trunks.values), analog: Array(analogTrunks.values)) {
            try manager.define(group)
        }
        self.analogTrunks = analogTrunks
        self.exchanges = exchanges
        self.stations = built.stations
        self.phones = built.phones
        self.manager = manager
        self.trunks = trunks
        self.carriers = carriers
        self.store = store
        self.media = media
        self.logger = logger
        if let media {
            media.connect(to: manager)
            for carrier in carriers.values {
                carrier.setDTMFSender { span, channel, digits in media.carrierDTMF(ChannelAddress(span: span, channel: channel), digits: digits) }
                carrier.onEvent { event in
                    if case .cleared(let call) = event, let channel = call.channel {
                        media.carrierReleased(ChannelAddress(span: carrier.span, channel: channel))
                    }
                }
            }
        }
        labMilliseconds = { pri.now.nanoseconds / 1_000_000 }
        if let store {
            let closed = try store.closeInterrupted()
            if closed > 0 { logger.warning("closed call records left active by an earlier run", metadata: ["calls": "\(closed)"]) }
            try store.heartbeat()
            manager.addObserver { [writes, logger] notification in
                let record: CallRecord
                switch notification {
                case .offered(let r), .originated(let r), .ended(let r): record = r
                case .stateChanged(let r, _) where r.state == .up: record = r
                default: return
                }
                writes.async {
                    do { try store.save(record) } catch { logger.error("call record not saved", metadata: ["call": "\(record.callID)", "error": "\(error)"]) }
                }
            }
        }
        let trunkList = Array(trunks.values)
        let carrierList = Array(carriers.values)
        let analogList = analogTrunks.values.sorted { $0.span < $1.span }
        let exchangeList = exchanges.values.sorted { $0.span < $1.span }
        let stationList = built.stations.values.sorted { $0.span < $1.span }
        let phoneList = built.phones.values.sorted { $0.span < $1.span }
        let heartbeatEvery: Int64 = 5_000_000_000
        let lastHeartbeat = IntervalGate(pri.now.nanoseconds)
        let traffic = self.traffic
        pri.onTick { [writes] in
            for trunk in trunkList { trunk.service() }
            for trunk in analogList { trunk.service() }
            for stations in stationList { stations.service() }
            media?.pump()
            manager.service()
            traffic.withLockedValue { $0 }?.service()
            for carrier in carrierList { carrier.service() }
            for exchange in exchangeList { exchange.service() }
            for phones in phoneList { phones.service() }
            if let store, lastHeartbeat.advance(to: pri.now.nanoseconds, every: heartbeatEvery) {
                writes.async { try? store.heartbeat() }
            }
        }
    }

    /// The global channel numbers of the station ports (held open by the stations themselves).
    public var stationChannelNumbers: Set<Int> {
        Set(stations.values.flatMap { span in span.channels.compactMap { media?.numbering.number(of: ChannelAddress(span: span.span, channel: $0)) } })
    }

    /// The embedded default's trunk groups: every B-channel of the node's PRI spans ("pri") and
    /// every analog line ("analog"), each hunted upwards.
    static func defaultGroups(trunks: [PRITrunk], analog: [AnalogTrunk] = []) -> [TrunkGroup] {
        let members = trunks.flatMap { trunk in trunk.channels.map { ChannelAddress(span: trunk.span, channel: $0) } }
        let lines = analog.sorted { $0.span < $1.span }.flatMap { trunk in trunk.channels.map { ChannelAddress(span: trunk.span, channel: $0) } }
        return (members.isEmpty ? [] : [TrunkGroup(name: "pri", members: members, hunt: .ascending)])
            + (lines.isEmpty ? [] : [TrunkGroup(name: "analog", members: lines, hunt: .ascending)])
    }

    /// Starts offered traffic from the carrier on `span` (one run at a time).
    @discardableResult
    public func startTraffic(_ profile: TrafficGenerator.Profile, span: Int) throws(TrunkError) -> TrafficGenerator {
        guard let carrier = carriers[span] else {
            let known = carriers.keys.sorted().map(String.init).joined(separator: ", ")
            throw TrunkError(.notFound, "span \(span) does not play the carrier here (carrier spans: \(known.isEmpty ? "none" : known))")
        }
        guard profile.erlangPerChannel > 0, profile.erlangPerChannel <= 1, profile.channels > 0, profile.durationMs > 0, profile.meanHoldMs > 0 else {
            throw TrunkError(.invalidArgument, "traffic needs 0 < erlang ≤ 1, channels > 0, a duration and a mean holding time")
        }
        let generator = TrafficGenerator(profile: profile, carrier: carrier, now: labMilliseconds)
        let result: TrunkError? = traffic.withLockedValue { current in
            if let current, current.report().running { return TrunkError(.busy, "a traffic run is already going; stop it first") }
            current = generator
            return nil
        }
        if let result { throw result }
        logger.notice("traffic started", metadata: ["span": "\(span)", "erlang": "\(profile.erlangPerChannel)", "minutes": "\(Double(profile.durationMs) / 60_000)"])
        return generator
    }

    /// The current (or last) traffic run.
    public var trafficRun: TrafficGenerator? { traffic.withLockedValue { $0 } }

    /// Waits until every queued record write is done (tests, shutdown).
    public func flush() { writes.sync {} }
}
