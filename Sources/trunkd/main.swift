import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TrunkCore
import TrunkGateway
import TrunkHardware

/// trunkd: the gateway daemon. With no configuration it starts the embedded default, a
/// virtual lab of two E1 spans cabled back to back and four FXS/FXO pairs.
@main
struct Trunkd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trunkd",
        abstract: "Trunkline gateway daemon: telephony boards, media, ISDN PRI, CTI.",
        discussion: """
            With no configuration trunkd starts the embedded default: span 1 (E1, network side, \
            playing the carrier) cabled to span 2 (E1, user side: the call centre's trunk), and \
            FXS ports 1-4 (span 3) wired to FXO ports 1-4 (span 4). Watch it with `trunkctl status`.

            Examples:
              trunkd                                  # embedded default, state in ~/.local/state/trunkline
              trunkd --data /tmp/lab                  # another data folder (another instance)
              trunksim --data /tmp/lab & trunkd --data /tmp/lab --sim-connect
            """)

    @Option(name: .long, help: "Data folder for state and sockets (default: $TRUNKLINE_DATA or ~/.local/state/trunkline).")
    var data: String?

    @Option(name: .long, help: "Configuration file (default: /etc/trunkline/trunkline.toml if present, else the embedded default).")
    var config: String?

    @Flag(name: .long, help: "Leave the carrier side (spans 1 and 3) to a separate trunksim process and connect to it.")
    var simConnect = false

    @Option(name: .long, help: "trunksim's link socket (default: <data>/sim.sock).")
    var simSocket: String?

    @Flag(name: .long, help: "Ask for SCHED_FIFO and locked memory for the tick thread (needs CAP_SYS_NICE).")
    var realtime = false

    @Option(name: .long, help: "CTI socket's TCP port on loopback (0: any free port; the Unix socket <data>/cti.sock is always there).")
    var ctiPort: Int = 7420

    @Option(name: .long, help: "Serve Prometheus metrics on http://127.0.0.1:PORT/metrics (overrides [metrics] port).")
    var metricsPort: Int?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level \(logLevel)")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "trunkd")
        do {
            try await serve(logger: logger)
        } catch let error as TrunkError {
            printError("trunkd: \(error.message)")
            throw ExitCode.failure
        } catch let errors as ConfigErrors {
            for error in errors.errors { printError("trunkd: \(error)") }
            throw ExitCode.failure
        }
    }

    private func serve(logger: Logger) async throws {
        let folder = DataFolder.resolve(data)
        try folder.create()
        let lock = try folder.lock(role: "trunkd")
        defer { withExtendedLifetime(lock) {} }

        let configPath = config ?? (FileManager.default.fileExists(atPath: TrunklineConfig.defaultPath) ? TrunklineConfig.defaultPath : nil)
        let configuration = try configPath.map { try TrunklineConfig.load(path: $0) }
        if let configuration, !configuration.usesEmbeddedDefault {
            try await serveConfigured(configuration, folder: folder, logger: logger)
            return
        }

        let topology = SimulatorTopology.embeddedDefault
        var services: [any Service] = []
        let simulator: LineSimulator
        let clock: SimulatorClock?
        var follower: SimulatorLinkFollower?
        if simConnect {
            let local = Set(topology.spans.map(\.number)).subtracting(topology.carrierSpans)
            simulator = try LineSimulator(topology: topology, localSpans: local)
            let link = SimulatorLinkFollower(path: simSocket ?? folder.simulatorSocketPath, simulator: simulator)
            try link.start()
            follower = link
            clock = nil
            logger.info("virtual lab: spans \(local.sorted()) here, carrier side in trunksim", metadata: ["link": "\(simSocket ?? folder.simulatorSocketPath)"])
        } else {
            simulator = try LineSimulator(topology: topology)
            let simulatorClock = SimulatorClock(simulator: simulator)
            services.append(SimulatorClockService(clock: simulatorClock, realtime: realtime, logger: logger))
            clock = simulatorClock
            logger.info("embedded default: 2 E1 spans back to back, 4 FXS + 4 FXO ports paired", metadata: ["data": "\(folder.path)"])
        }
        let pri = try PRILab(simulator: simulator, logger: logger)
        let recorder = try NodeRecorder.open(folder: folder, configuration: configuration?.recording, logger: logger)
        defer { recorder.shutdown() }
        // The analog pairs carry calls too: the gateway's FXO lines (span 4) on the call model, the
        // lab exchange on the FXS ports (span 3) ringing them (`trunkctl sim call --span 3`); or,
        // when the file declares the FXS ports, those are stations and the FXO side plays phones.
        var callConfiguration = CallManager.Configuration()
        if let flow = configuration?.flow { callConfiguration.flow = flow }
        let calls = try CallService(pri: pri, store: try CDRStore(path: folder.callRecordsPath),
                                    media: CallMediaEngine.lab(simulator: simulator, recorder: recorder),
                                    configuration: callConfiguration,
                                    analog: configuration?.analogLabSetup(simulator: simulator, logger: logger) ?? AnalogLabSetup(simulator: simulator),
                                    logger: logger)
        let alarms = try AlarmMonitor(store: AlarmStore(path: folder.alarmDatabasePath), settings: configuration?.alarms ?? AlarmSettings(), logger: logger)
        let live = try LiveConfiguration(running: configuration ?? .nothingDeclared(file: configPath ?? "(embedded default)"),
                                         simulator: simulator, pri: pri, alarms: alarms, heldByCalls: calls.stationChannelNumbers, logger: logger)
        let node = GatewayNode(simulator: simulator, clock: clock, pri: pri, calls: calls, alarms: alarms, configuration: live, logger: logger)
        services.append(AlarmService(node: node, monitor: alarms, storagePath: folder.path, logger: logger))
        if let port = metricsPort ?? configuration?.metrics.port {
            services.append(MetricsServer(port: port, logger: logger) { node.metricsText() })
        }
        try CTIService.installLabPrompts(folder: folder.promptsPath)
        let cti = CTIService(configuration: try CTIService.labConfiguration(folder: folder, port: ctiPort), calls: calls, pri: pri,
                             promptFolder: folder.promptsPath, node: { node }, logger: logger)
        cti.forwardAlarms(from: alarms)
        services.append(cti)
        services.append(ControlServer(path: folder.controlSocketPath, logger: logger, handleStreaming: { await node.handle(line: $0, peer: $1, stream: $2) }))

        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        follower?.stop()
        logger.info("trunkd stopped")
    }
}

extension Trunkd {
    /// A node built from a configuration file: virtual spans in a simulator of their own,
    /// DAHDI spans on the kernel devices, ALSA ports as line taps.
    private func serveConfigured(_ configuration: TrunklineConfig, folder: DataFolder, logger: Logger) async throws {
        var services: [any Service] = []
        var simulator: LineSimulator?
        var clock: SimulatorClock?
        var pri: PRILab?
        var dahdi: DAHDIBackend?
        if let topology = try configuration.virtualTopology() {
            let lab = try LineSimulator(topology: topology)
            let labClock = SimulatorClock(simulator: lab)
            services.append(SimulatorClockService(clock: labClock, realtime: realtime, logger: logger))
            pri = try PRILab(simulator: lab, logger: logger)
            simulator = lab
            clock = labClock
        }
        let dahdiSpans = configuration.spans.filter { $0.backend == .dahdi }
        if !dahdiSpans.isEmpty {
            let backend = DAHDIBackend()
            guard backend.devicesPresent else {
                let span = dahdiSpans[0]
                throw TrunkError(.unavailable, "\(configuration.file):\(span.position.line):\(span.position.column): span \(span.number) uses backend dahdi, but no DAHDI devices were found (/dev/dahdi/ctl is missing: load the DAHDI kernel modules and run dahdi_cfg)")
            }
            pri = try PRILab(dahdi: backend, spans: dahdiSpans, logger: logger)
            dahdi = backend
        }
        let recorder = try NodeRecorder.open(folder: folder, configuration: configuration.recording, logger: logger)
        defer { recorder.shutdown() }
        var taps: [LineTapService] = []
        for port in configuration.ports where port.backend == .alsa && port.use == .lineTap {
            do {
                taps.append(try LineTapService(port: port, recorder: recorder, logger: logger))
            } catch {
                throw TrunkError(error.code, "\(configuration.file):\(port.position.line):\(port.position.column): port \(port.name): \(error.message)")
            }
        }
        services += taps.map { $0 as any Service }
        let numbering = ChannelNumbering(statuses: (simulator?.spanStatuses() ?? []) + ((try? dahdi?.discover().map(\.status)) ?? []))
        let media = simulator.map { CallMediaEngine.lab(simulator: $0, recorder: recorder) }
        let calls = try pri.map { pri in
            try CallService(pri: pri, store: try CDRStore(path: folder.callRecordsPath), media: media,
                            configuration: try configuration.callManagerConfiguration(),
                            groupsFromFile: { (trunks) throws(TrunkError) in try configuration.callTrunkGroups(trunks: trunks, numbering: numbering) },
                            analog: simulator.flatMap { configuration.analogLabSetup(simulator: $0, logger: logger) },
                            logger: logger)
        }
        let alarms = try AlarmMonitor(store: AlarmStore(path: folder.alarmDatabasePath), settings: configuration.alarms, logger: logger)
        let live = try LiveConfiguration(running: configuration, simulator: simulator, dahdi: dahdi, pri: pri, alarms: alarms,
                                         heldByCalls: calls?.stationChannelNumbers ?? [], logger: logger)
        let node = GatewayNode(simulator: simulator, dahdi: dahdi, clock: clock, pri: pri, calls: calls, lineTaps: taps, alarms: alarms,
                               configuration: live, logger: logger)
        services.append(AlarmService(node: node, monitor: alarms, storagePath: folder.path, logger: logger))
        if let port = metricsPort ?? configuration.metrics.port {
            services.append(MetricsServer(port: port, logger: logger) { node.metricsText() })
        }
        if let calls, let cti = configuration.ctiConfiguration(folder: folder) {
            try CTIService.checkTLS(cti, source: configuration.file)
            let service = CTIService(configuration: cti, calls: calls, pri: pri, promptFolder: folder.promptsPath, node: { node }, logger: logger)
            service.forwardAlarms(from: alarms)
            services.append(service)
        }
        services.append(ControlServer(path: folder.controlSocketPath, logger: logger, handleStreaming: { await node.handle(line: $0, peer: $1, stream: $2) }))
        logger.info("configured from \(configuration.file)", metadata: ["spans": "\(configuration.spans.count)", "ports": "\(configuration.ports.count)"])
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.info("trunkd stopped")
    }
}

func printError(_ message: String) {
    FileHandleStandardError.write(message + "\n")
}
