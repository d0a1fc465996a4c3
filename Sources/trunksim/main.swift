import ArgumentParser
import Logging
import ServiceLifecycle
import TrunkCore
import TrunkGateway
import TrunkHardware

/// trunksim: the carrier and the exchange in a process of their own. It owns the network side
/// of the E1 lab (span 1) and the FXS card (span 3), times everything, and carries the lines
/// to a trunkd started with `--sim-connect`, which then runs exactly as it would on real cards.
@main
struct Trunksim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trunksim",
        abstract: "Trunkline line simulator as a separate process (the carrier side of the lab).",
        discussion: """
            Examples:
              trunksim --data /tmp/lab &
              trunkd --data /tmp/lab --sim-connect &
              trunkctl --data /tmp/lab status                 # trunkd's side: spans 2 and 4
              trunkctl --socket /tmp/lab/sim-control.sock status   # the carrier's side: spans 1 and 3
            """)

    @Option(name: .long, help: "Data folder shared with trunkd (default: $TRUNKLINE_DATA or ~/.local/state/trunkline).")
    var data: String?

    @Option(name: .long, help: "Link socket trunkd connects to (default: <data>/sim.sock).")
    var socket: String?

    @Option(name: .long, help: "Log level.")
    var logLevel: String = "info"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "trunksim")
        do {
            let folder = DataFolder.resolve(data)
            try folder.create()
            let lock = try folder.lock(role: "trunksim", file: "trunksim.lock")
            defer { withExtendedLifetime(lock) {} }
            let topology = SimulatorTopology.embeddedDefault
            let simulator = try LineSimulator(topology: topology, localSpans: topology.carrierSpans)
            let link = try SimulatorLinkMaster(path: socket ?? folder.simulatorSocketPath, simulator: simulator)
            defer { link.close() }
            let clock = SimulatorClock(simulator: simulator)
            let pri = try PRILab(simulator: simulator, logger: logger)
            // The carrier's exchange: it has no call records of its own, the gateway keeps those.
            let calls = try CallService(pri: pri, store: nil, media: CallMediaEngine.lab(simulator: simulator), logger: logger)
            let node = GatewayNode(simulator: simulator, clock: clock, pri: pri, calls: calls, logger: logger)
            let control = ControlServer(path: folder.path + "/sim-control.sock", logger: logger) { await node.handle(line: $0) }
            logger.info("carrier side up: spans \(topology.carrierSpans.sorted())", metadata: ["link": "\(socket ?? folder.simulatorSocketPath)"])
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: SimulatorClockService(clock: clock, realtime: false, logger: logger)), .init(service: control)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
            try await group.run()
        } catch let error as TrunkError {
            FileHandleStandardError.write("trunksim: \(error.message)\n")
            throw ExitCode.failure
        }
    }
}
