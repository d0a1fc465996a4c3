import Dispatch
import Foundation
import Logging
import TrunkCore
import TrunkISDN

/// The call side of a node, put together: the call manager, a trunk adapter per PRI span the
/// node owns, the lab's carrier on spans that play the network, and the call records.
public final class CallService: Sendable {
    public let manager: CallManager
    public let trunks: [Int: PRITrunk]
    public let carriers: [Int: LabCarrier]
    public let store: CDRStore?
    private let writes = DispatchQueue(label: "trunkline.cdr")
    private let logger: Logger

    public init(pri: PRILab, store: CDRStore?, configuration: CallManager.Configuration = CallManager.Configuration(),
                groups: [TrunkGroup]? = nil, logger: Logger) throws(TrunkError) {
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
        for group in groups ?? Self.defaultGroups(trunks: Array(trunks.values)) { try manager.define(group) }
        self.manager = manager
        self.trunks = trunks
        self.carriers = carriers
        self.store = store
        self.logger = logger
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
        let heartbeatEvery: Int64 = 5_000_000_000
        let lastHeartbeat = NIOLockedValueBoxInt64(pri.now.nanoseconds)
        pri.onTick { [writes] in
            for trunk in trunkList { trunk.service() }
            manager.service()
            for carrier in carrierList { carrier.service() }
            if let store, lastHeartbeat.advance(to: pri.now.nanoseconds, every: heartbeatEvery) {
                writes.async { try? store.heartbeat() }
            }
        }
    }

    /// The embedded default's trunk group: every B-channel of the node's PRI spans, hunted upwards.
    static func defaultGroups(trunks: [PRITrunk]) -> [TrunkGroup] {
        let members = trunks.flatMap { trunk in trunk.channels.map { ChannelAddress(span: trunk.span, channel: $0) } }
        return members.isEmpty ? [] : [TrunkGroup(name: "pri", members: members, hunt: .ascending)]
    }

    /// Waits until every queued record write is done (tests, shutdown).
    public func flush() { writes.sync {} }
}
