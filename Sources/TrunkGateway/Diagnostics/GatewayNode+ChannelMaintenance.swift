import Foundation
import NIOCore
import TrunkCore
import TrunkISDN

/// `chan.block` / `chan.unblock`.
public struct ChannelBlockParams: Codable, Sendable, Equatable {
    public var span: Int
    public var channel: Int
    /// Block now: clear a call on the channel (cause 8, preemption) instead of waiting for its end.
    public var force: Bool

    public init(span: Int, channel: Int, force: Bool = false) {
        self.span = span
        self.channel = channel
        self.force = force
    }
}

/// `chan.state`.
public struct ChannelAddressParams: Codable, Sendable, Equatable {
    public var span: Int
    public var channel: Int
    public init(span: Int, channel: Int) {
        self.span = span
        self.channel = channel
    }
}

public enum MaintenanceState: String, Codable, Sendable, Equatable {
    case inService = "in_service"
    case blocked
    /// Blocked while a call is up: it takes effect when the call ends.
    case blockingPending = "blocking_pending"

    public var text: String {
        switch self {
        case .inService: "in service"
        case .blocked: "blocked"
        case .blockingPending: "blocking pending"
        }
    }
}

/// One channel's maintenance state, as `chan show`, `chan block` and `status` report it.
public struct ChannelMaintenanceReport: Codable, Sendable, Equatable {
    public var address: String
    /// pri (a B-channel of the node's trunk), pri_carrier (the lab carrier's side), fxo, fxs.
    public var kind: String
    public var maintenance: MaintenanceState
    /// The call model's state of the channel (nil: the channel is not on the call model).
    public var state: ChannelState?
    /// The call on the channel, if any.
    public var call: String?
    /// FXO: the line is held off hook so the exchange sees it busy.
    public var busiedOut: Bool?
    /// The call `--force` cleared (cause 8).
    public var clearedCall: String?
    /// A test tone playing on the channel.
    public var testTone: ChannelToneReport?
}

/// Maintenance blocking of any channel that carries calls: a PRI B-channel (local blocking in
/// the span driver), an FXO line (busied out: held off hook), an FXS port (never rung). The
/// call model marks it blocked as well, so hunting skips it and `ChannelState` shows it.
extension GatewayNode {
    func handleChannelMaintenance(_ method: ControlMethod, id: Int?, data: Data) throws -> ByteBuffer {
        switch method {
        case .chanState:
            let params = try decodeParams(ChannelAddressParams.self, from: data)
            return encode(id: id, try channelMaintenance(ChannelAddress(span: params.span, channel: params.channel)))
        case .chanBlock, .chanUnblock:
            let params = try decodeParams(ChannelBlockParams.self, from: data)
            let address = ChannelAddress(span: params.span, channel: params.channel)
            return encode(id: id, try setBlocked(address, method == .chanBlock, force: params.force))
        default:
            throw TrunkError(.internal, "\(method.rawValue) is not a channel maintenance method")
        }
    }

    func setBlocked(_ address: ChannelAddress, _ blocked: Bool, force: Bool) throws(TrunkError) -> ChannelMaintenanceReport {
        guard let calls else { throw TrunkError(.unavailable, "no call service runs on this node: nothing to block") }
        let span = address.span, position = address.channel
        if let driver = pri?.drivers[span] {
            guard position != 16 else { throw TrunkError(.invalidArgument, "\(address) is the D-channel; block B-channels (1-15, 17-31)") }
            guard let channel = try Self.bChannel(position) else { throw TrunkError(.invalidArgument, "blocking needs a channel: SPAN/CHANNEL") }
            try driver.setBlocked(channel, blocked)
        } else if let trunk = calls.analogTrunks[span] {
            try trunk.setBlocked(position, blocked)
        } else if let exchange = calls.exchanges[span] {
            try exchange.setBlocked(position, blocked)
        } else {
            throw TrunkError(.notFound, "span \(span) has no channels that carry calls on this node (spans: \(callSpans.map(String.init).joined(separator: ", ")))")
        }
        calls.manager.setBlocked(address, blocked)
        logger.notice(blocked ? "channel blocked" : "channel unblocked", metadata: ["channel": "\(address)", "force": "\(force)"])
        var cleared: String?
        if blocked && force { cleared = try clearForBlocking(address) }
        var report = try channelMaintenance(address)
        if let cleared {
            report.clearedCall = cleared
            // The clearing is under way (RELEASE, on hook): the channel is blocked from here on.
            report.maintenance = .blocked
        }
        return report
    }

    /// `--force`: clears the call on a channel being blocked with cause 8 (preemption): the call
    /// gives way to maintenance. Not 16 (no one hung up), nor 41/38 (nothing failed, and call
    /// statistics would count a line fault), nor 9 (the circuit is not being reused for a call).
    private func clearForBlocking(_ address: ChannelAddress) throws(TrunkError) -> String? {
        guard let calls else { return nil }
        if let call = calls.manager.channelStates().first(where: { $0.address == address })?.call {
            try calls.manager.hangup(call, cause: .preemption)
            logger.notice("call cleared for maintenance blocking", metadata: ["channel": "\(address)", "call": "\(call)", "cause": "8"])
            return call
        }
        if calls.carriers[address.span] != nil, let lab = pri, let driver = lab.drivers[address.span],
           let call = driver.call(onChannel: UInt8(clamping: address.channel)) {
            let now = lab.now
            driver.callControl(now: now) { $0.disconnect(call, cause: .preemption, now: now) }
            return "\(call)"
        }
        if let exchange = calls.exchanges[address.span], let call = exchange.maintenance(address.channel)?.call {
            try exchange.hangup(reference: call.reference)
            return call.reference
        }
        return nil
    }

    private var callSpans: [Int] {
        guard let calls else { return [] }
        return Set(Array(pri?.drivers.keys ?? [:].keys) + Array(calls.analogTrunks.keys) + Array(calls.exchanges.keys)).sorted()
    }

    /// Where `address` stands: blocked or not, and the call on it.
    func channelMaintenance(_ address: ChannelAddress) throws(TrunkError) -> ChannelMaintenanceReport {
        guard let calls else { throw TrunkError(.unavailable, "no call service runs on this node") }
        let modelEntry = calls.manager.channelStates().first { $0.address == address }
        let modelBlocked = calls.manager.blockedChannels.contains(address)
        var kind: String
        var blocked: Bool
        var call = modelEntry?.call
        var busiedOut: Bool?
        if let driver = pri?.drivers[address.span] {
            guard let channel = try Self.bChannel(address.channel) else { throw TrunkError(.invalidArgument, "a channel is SPAN/CHANNEL") }
            guard driver.report().channels.contains(where: { $0.channel == Int(channel) }) else {
                throw TrunkError(.notFound, "span \(address.span) has no B-channel \(address.channel)")
            }
            kind = calls.carriers[address.span] != nil ? "pri_carrier" : "pri"
            blocked = driver.isBlocked(channel)
            if call == nil, let id = driver.call(onChannel: channel) { call = "\(id)" }
        } else if let trunk = calls.analogTrunks[address.span] {
            guard let state = trunk.maintenance(address.channel) else {
                throw TrunkError(.notFound, "span \(address.span) has no FXO port \(address.channel) (ports: \(trunk.channels.map(String.init).joined(separator: ", ")))")
            }
            kind = "fxo"
            blocked = state.blocked
            busiedOut = state.busiedOut
        } else if let exchange = calls.exchanges[address.span] {
            guard let state = exchange.maintenance(address.channel) else {
                throw TrunkError(.notFound, "span \(address.span) has no FXS port \(address.channel) (ports: \(exchange.positions.map(String.init).joined(separator: ", ")))")
            }
            kind = "fxs"
            blocked = state.blocked
            call = state.call?.reference
        } else {
            throw TrunkError(.notFound, "span \(address.span) has no channels that carry calls on this node (spans: \(callSpans.map(String.init).joined(separator: ", ")))")
        }
        blocked = blocked || modelBlocked
        let maintenance: MaintenanceState = !blocked ? .inService : (call == nil ? .blocked : .blockingPending)
        return ChannelMaintenanceReport(address: address.description, kind: kind, maintenance: maintenance, state: modelEntry?.state,
                                        call: call, busiedOut: busiedOut, clearedCall: nil, testTone: lineTests?.tone(on: address))
    }

    /// Every channel out of service by maintenance (blocked or blocking pending), for `status`.
    func maintenanceSummary() -> [ChannelMaintenanceReport] {
        guard let calls else { return [] }
        var addresses = calls.manager.blockedChannels
        for (span, driver) in pri?.drivers ?? [:] {
            for channel in driver.report().channels where driver.isBlocked(UInt8(channel.channel)) {
                addresses.insert(ChannelAddress(span: span, channel: channel.channel))
            }
        }
        for (span, exchange) in calls.exchanges {
            for position in exchange.positions where exchange.maintenance(position)?.blocked == true {
                addresses.insert(ChannelAddress(span: span, channel: position))
            }
        }
        return addresses.sorted().compactMap { try? channelMaintenance($0) }.filter { $0.maintenance != .inService }
    }
}
