import Foundation
import Logging
import NIOCore
import TrunkCore
import TrunkHardware

/// The running gateway as the control plane sees it: its backends and clock, and the answers
/// to trunkctl's requests. Later layers (signalling, media, calls) hang off this node.
public final class GatewayNode: Sendable {
    public static let version = "0.1.0"

    public let simulator: LineSimulator?
    public let dahdi: DAHDIBackend?
    public let clock: SimulatorClock?
    public let pri: PRILab?
    public let calls: CallService?
    public let lineTaps: [LineTapService]
    /// The alarm history and monitor (nil: this node keeps none, as in unit tests).
    public let alarms: AlarmMonitor?
    /// The running configuration and live apply (nil: this node takes no `config apply`).
    public let configuration: LiveConfiguration?
    /// Test tone, level and listening on channels (nil: this node runs no media loop).
    public let lineTests: LineTests?
    let logger: Logger
    let node: String
    private let startedAt = SimulatorClock.now()

    public init(simulator: LineSimulator?, dahdi: DAHDIBackend? = nil, clock: SimulatorClock?, pri: PRILab?,
                calls: CallService? = nil, lineTaps: [LineTapService] = [], alarms: AlarmMonitor? = nil,
                configuration: LiveConfiguration? = nil, logger: Logger) {
        self.simulator = simulator
        self.dahdi = dahdi
        self.clock = clock
        self.pri = pri
        self.calls = calls
        self.lineTaps = lineTaps
        self.alarms = alarms
        self.configuration = configuration
        self.logger = logger
        lineTests = calls?.media.map { LineTests(engine: $0, logger: logger) }
        node = ProcessInfo.processInfo.hostName
    }

    // MARK: reports

    public func status() -> StatusReport {
        var spans: [SpanReport] = []
        var backends: [BackendReport] = []
        var syncSource = 0
        if let simulator {
            spans += simulator.spanStatuses().map(report(for:))
            backends.append(BackendReport(name: "virtual", detail: simulatorDetail(simulator)))
            syncSource = simulator.syncSource
        }
        if let dahdi {
            let discovered = (try? dahdi.discover()) ?? []
            spans += discovered.map { SpanReport(status: $0.status, channelsOpen: 0, impairments: nil) }
            syncSource = discovered.first?.syncSource ?? syncSource
            backends.append(BackendReport(name: "dahdi", detail: "\(discovered.count) span(s) from the DAHDI kernel devices"))
        } else {
            backends.append(BackendReport(name: "dahdi", detail: DAHDIPresence.describe()))
        }
        for tap in lineTaps { backends.append(BackendReport(name: "alsa", detail: tap.summary)) }
        return StatusReport(node: node, version: Self.version, syncSource: syncSource, spans: spans,
                            backends: backends, uptimeSeconds: Double(SimulatorClock.now() - startedAt) / 1e9,
                            ticks: simulator?.tickCount ?? 0, maintenance: Self.nilIfEmpty(maintenanceSummary()))
    }

    private static func nilIfEmpty<T>(_ items: [T]) -> [T]? { items.isEmpty ? nil : items }

    /// The simulator, for commands that only make sense on one.
    func lab() throws(TrunkError) -> LineSimulator {
        guard let simulator else { throw TrunkError(.unavailable, "this node drives real hardware: simulator controls do not apply") }
        return simulator
    }

    private func simulatorDetail(_ simulator: LineSimulator) -> String {
        let spans = simulator.localSpanNumbers.map(String.init).joined(separator: ", ")
        if simulator.hasRemoteEnds { return "line simulator, spans \(spans) here, their far ends in another process over the simulator link" }
        return "line simulator (embedded default), spans \(spans)"
    }

    private func report(for status: SpanStatus) -> SpanReport {
        let open = (try? simulator?.channelParameters(span: status.span).filter(\.isOpen).count) ?? 0
        let impairments = try? simulator?.impairments(span: status.span)
        return SpanReport(status: status, channelsOpen: open, impairments: impairments?.isClean == true ? nil : impairments)
    }

    func spanShow(_ span: Int) throws(TrunkError) -> SpanShowReport {
        if let dahdi {
            guard let found = try dahdi.discover().first(where: { $0.number == span }) else {
                throw TrunkError(.notFound, "span \(span) does not exist on the DAHDI devices")
            }
            return SpanShowReport(span: SpanReport(status: found.status, channelsOpen: 0, impairments: nil), channels: found.channels)
        }
        let simulator = try lab()
        let status = try simulator.spanStatus(span)
        return SpanShowReport(span: report(for: status), channels: try simulator.channelParameters(span: span))
    }

    func impair(_ params: ImpairParams) throws(TrunkError) -> SpanReport {
        let simulator = try lab()
        var impairments = params.clear == true ? Impairments() : try simulator.impairments(span: params.span)
        if let value = params.bitErrorRate { impairments.bitErrorRate = value }
        if let value = params.dChannelOnly { impairments.bitErrorsOnDChannelOnly = value }
        if let value = params.delayMs { impairments.delayMs = value }
        if let value = params.slipEveryMs { impairments.slipEveryMs = value }
        if let value = params.alarmIndicationSignal { impairments.alarmIndicationSignal = value }
        if let value = params.echoModel { impairments.echoModel = value }
        if let value = params.echoReturnLossDB { impairments.echoReturnLossDB = value }
        if let value = params.echoDelayMs { impairments.echoDelayMs = value }
        try simulator.setImpairments(impairments, span: params.span)
        if let frames = params.corruptFrames { try simulator.corruptOutgoingFrames(span: params.span, count: frames) }
        logger.notice("simulator impairments changed", metadata: ["span": "\(params.span)", "impairments": "\(impairments)"])
        return report(for: try simulator.spanStatus(params.span))
    }

    func timing(seconds: Double) async throws(TrunkError) -> TimingReport {
        guard let clock else { throw TrunkError(.unavailable, "this node's clock comes from the line (trunksim); run the timing test there") }
        guard seconds >= 1 && seconds <= 600 else { throw TrunkError(.invalidArgument, "sample length must be 1…600 s") }
        let before = clock.statistics
        let started = SimulatorClock.now()
        try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        // Lateness over the sample only, so a technician (or a test) sees what happened while it ran.
        let after = clock.statistics.since(before)
        let elapsedMs = Double(SimulatorClock.now() - started) / 1e6
        let ticks = Double(after.ticks)
        return TimingReport(ticks: after.ticks, skippedTicks: after.skippedTicks, realtime: after.realtime,
                            latenessP50Microseconds: after.latenessPercentile(0.5),
                            latenessP99Microseconds: after.latenessPercentile(0.99),
                            latenessP999Microseconds: after.latenessPercentile(0.999),
                            latenessMaxMicroseconds: after.maximumLatenessMicroseconds,
                            accuracyPercent: 100 - abs(ticks - elapsedMs) / elapsedMs * 100, sampleSeconds: elapsedMs / 1000)
    }

    // MARK: the control protocol

    /// Answers one request line; every failure is a JSON-RPC error, never a dropped connection.
    public func handle(line: ByteBuffer, peer: ControlPeer? = nil, stream: ControlStream = .discarding) async -> ByteBuffer {
        let data = Data(line.readableBytesView)
        let envelope: ControlEnvelope
        do {
            envelope = try JSONDecoder().decode(ControlEnvelope.self, from: data)
        } catch {
            return encodeError(id: nil, code: ControlErrorCode.parseError, message: "not a JSON object: \(error)")
        }
        guard let name = envelope.method else {
            return encodeError(id: envelope.id, code: ControlErrorCode.invalidRequest, message: "request has no method")
        }
        guard let method = ControlMethod(rawValue: name) else {
            return encodeError(id: envelope.id, code: ControlErrorCode.methodNotFound, message: "unknown method \(name)")
        }
        do {
            switch method {
            case .status:
                return encode(id: envelope.id, status())
            case .spanShow:
                let params = try decodeParams(SpanParams.self, from: data)
                return encode(id: envelope.id, try spanShow(params.span))
            case .spanResetCounters:
                let simulator = try lab()
                let params = try decodeParams(SpanParams.self, from: data)
                try simulator.resetCounters(span: params.span)
                return encode(id: envelope.id, report(for: try simulator.spanStatus(params.span)))
            case .simCut:
                let simulator = try lab()
                let params = try decodeParams(SpanParams.self, from: data)
                try simulator.cut(span: params.span)
                logger.notice("simulated cable cut", metadata: ["span": "\(params.span)"])
                return encode(id: envelope.id, report(for: try simulator.spanStatus(params.span)))
            case .simRestore:
                let simulator = try lab()
                let params = try decodeParams(SpanParams.self, from: data)
                try simulator.restore(span: params.span)
                logger.notice("simulated cable restored", metadata: ["span": "\(params.span)"])
                return encode(id: envelope.id, report(for: try simulator.spanStatus(params.span)))
            case .simImpair:
                return encode(id: envelope.id, try impair(try decodeParams(ImpairParams.self, from: data)))
            case .timing:
                let params = try decodeParams(TimingParams.self, from: data)
                return encode(id: envelope.id, try await timing(seconds: params.seconds))
            case .calls:
                let manager = calls?.manager
                return encode(id: envelope.id, CallsReport(live: manager?.live ?? [], recentlyEnded: manager?.recentlyEnded ?? []))
            case .simCall, .simTrafficStart, .simTrafficStatus, .simTrafficStop:
                return try handleSimCalls(method, id: envelope.id, data: data)
            case .simListen:
                return encode(id: envelope.id, try await simListen(try decodeParams(SimListenParams.self, from: data)))
            case .alarms:
                return try handleAlarms(id: envelope.id, data: data)
            case .configApply:
                return try handleConfigApply(id: envelope.id, data: data, peer: peer)
            case .spanLoopback:
                return try handleLoopback(id: envelope.id, data: data)
            case .chanState, .chanBlock, .chanUnblock:
                return try handleChannelMaintenance(method, id: envelope.id, data: data)
            case .chanTone, .chanLevel, .chanMonitor:
                return try await handleLineTest(method, id: envelope.id, data: data, stream: stream)
            case .priSpans, .priSpan, .priCall, .priHangup, .priRestart, .priTrace, .priDebug, .priBlock, .priUnblock:
                return try await handlePRI(method, id: envelope.id, data: data)
            }
        } catch let error as TrunkError {
            return encodeError(id: envelope.id, code: ControlErrorCode.code(for: error.code), message: error.message)
        } catch {
            return encodeError(id: envelope.id, code: ControlErrorCode.invalidParams, message: "\(error)")
        }
    }

    func decodeParams<P: Codable & Sendable>(_ type: P.Type, from data: Data) throws -> P {
        do {
            return try JSONDecoder().decode(ControlRequestParams<P>.self, from: data).params
        } catch {
            throw TrunkError(.invalidArgument, "bad parameters: \(Self.describe(error))")
        }
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "\(error)"
        }
    }

    func encode<R: Codable & Sendable>(id: Int?, _ result: R) -> ByteBuffer {
        let response = ControlResponse(id: id, result: result, error: nil)
        return ByteBuffer(bytes: (try? JSONEncoder().encode(response)) ?? Data())
    }

    private func encodeError(id: Int?, code: Int, message: String) -> ByteBuffer {
        let response = ControlResponse<NoParams>(id: id, result: nil, error: ControlErrorBody(code: code, message: message))
        return ByteBuffer(bytes: (try? JSONEncoder().encode(response)) ?? Data())
    }
}

private struct ControlRequestParams<P: Codable & Sendable>: Codable {
    var params: P
}
