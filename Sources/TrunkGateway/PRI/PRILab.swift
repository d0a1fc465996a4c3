import NIOConcurrencyHelpers
import Logging
import TrunkCore
import TrunkHardware
import TrunkISDN

/// Runs PRI signalling on every local E1 span of a simulator: span roles come from the
/// topology (network side plays the carrier), drivers are serviced on every tick with the
/// tick count as their clock, so signalling runs the same at real time and in fast tests.
public final class PRILab: Sendable {
    public let drivers: [Int: PRISpanDriver]
    /// Spans that play the carrier in a lab: their calls are the far end's, not this node's.
    public let carrierSpans: Set<Int>
    private let clock: @Sendable () -> ISDNInstant
    /// Run after the drivers on every tick (the call manager's timers, the lab carrier).
    private let tickHandlers = NIOLockedValueBox<[@Sendable () -> Void]>([])

    /// PRI B-channel numbers of an E1 (ETSI: the timeslot number; TS16 is the D-channel).
    public static let e1BChannels: [UInt8] = Array(1...15) + Array(17...31)

    public init(simulator: LineSimulator, logger: Logger) throws(TrunkError) {
        clock = { Self.instant(tick: simulator.tickCount) }
        carrierSpans = simulator.topology.spans.count > 1 ? simulator.topology.carrierSpans : []
        var drivers: [Int: PRISpanDriver] = [:]
        let locals = Set(simulator.localSpanNumbers)
        var channelBase = 1
        for span in simulator.topology.spans {
            defer { channelBase += span.ports }
            guard span.kind == .e1, let role = span.role, locals.contains(span.number) else { continue }
            let dChannel = try simulator.openChannel(channelBase + E1Wire.dChannelTimeslot - 1)
            let driver = PRISpanDriver(span: span.number, role: role == .network ? .network : .user,
                                       dChannel: dChannel, bChannels: Self.e1BChannels)
            driver.onIndication { span, indication in
                if case .incomingCall(let call) = indication {
                    logger.info("incoming call", metadata: ["span": "\(span)", "channel": "\(call.channel)",
                                                             "caller": "\(call.callingNumber?.digits ?? "")", "called": "\(call.calledNumber?.digits ?? "")"])
                }
            }
            drivers[span.number] = driver
        }
        self.drivers = drivers
        let tickHandlers = self.tickHandlers
        simulator.addTickObserver { [drivers] tick in
            let now = Self.instant(tick: tick)
            for driver in drivers.values { driver.service(now: now) }
            for handler in tickHandlers.withLockedValue({ $0 }) { handler() }
        }
        let now = Self.instant(tick: simulator.tickCount)
        for driver in drivers.values { driver.start(now: now) }
    }

    /// The simulator's time as the signalling stacks see it: one tick is one millisecond.
    public static func instant(tick: UInt64) -> ISDNInstant { ISDNInstant(nanoseconds: Int64(tick) * 1_000_000) }

    /// PRI on real cards: one driver per configured span's D-channel, serviced on every
    /// expiry of a 1 ms DAHDI timer, with CLOCK_MONOTONIC as the stacks' clock.
    public init(dahdi: DAHDIBackend, spans: [TrunklineConfig.Span], logger: Logger) throws(TrunkError) {
        clock = { ISDNInstant(nanoseconds: Int64(SimulatorClock.now())) }
        carrierSpans = []
        var drivers: [Int: PRISpanDriver] = [:]
        let discovered = try dahdi.discover()
        for span in spans {
            guard let found = discovered.first(where: { $0.number == span.number }) else {
                throw TrunkError(.notFound, "span \(span.number) is configured but DAHDI has no such span (run dahdi_cfg, check `dahdi_scan`)")
            }
            guard span.channels.first == found.baseChannel else {
                throw TrunkError(.invalidArgument, "span \(span.number): configured channels start at \(span.channels.first ?? 0), DAHDI numbers them from \(found.baseChannel)")
            }
            let dChannel = try dahdi.openChannel(span.channels[span.dchannel - 1])
            let driver = PRISpanDriver(span: span.number, role: span.signalling == .priNet ? .network : .user,
                                       dChannel: dChannel, bChannels: Self.e1BChannels)
            driver.onIndication { span, indication in
                if case .incomingCall(let call) = indication {
                    logger.info("incoming call", metadata: ["span": "\(span)", "channel": "\(call.channel)"])
                }
            }
            drivers[span.number] = driver
        }
        self.drivers = drivers
        let timer = try DAHDITimer()
        let runner = PRIServiceThread(drivers: Array(drivers.values), timer: timer, clock: clock, tickHandlers: tickHandlers)
        try runner.start()
        let now = clock()
        for driver in drivers.values { driver.start(now: now) }
    }

    public var now: ISDNInstant { clock() }

    /// Runs `handler` on the signalling thread after the drivers, every tick.
    public func onTick(_ handler: @escaping @Sendable () -> Void) {
        tickHandlers.withLockedValue { $0.append(handler) }
    }

    public func driver(span: Int) throws(TrunkError) -> PRISpanDriver {
        guard let driver = drivers[span] else {
            let known = drivers.keys.sorted().map(String.init).joined(separator: ", ")
            throw TrunkError(.notFound, "span \(span) has no PRI signalling here (PRI spans: \(known.isEmpty ? "none" : known))")
        }
        return driver
    }
}
