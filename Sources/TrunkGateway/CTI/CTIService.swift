#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import ServiceLifecycle
import TrunkCore
import TrunkCTI
import TrunkCTITLS
import TrunkMedia

/// The CTI socket as one of trunkd's services: the event hub, the gateway backend and the
/// server. With no configured tokens (the embedded default) a random admin token is made once
/// and kept in the data folder, readable by its owner only, so a newcomer's client can log in.
public final class CTIService: Service, Sendable {
    public let hub: CTIEventHub
    public let backend: GatewayCTIBackend
    private let configuration: CTIConfiguration
    private let logger: Logger

    public init(configuration: CTIConfiguration, calls: CallService, pri: PRILab?, promptFolder: String? = nil,
                node: @escaping @Sendable () -> GatewayNode?, logger: Logger) {
        hub = CTIEventHub(configuration: configuration)
        backend = GatewayCTIBackend(calls: calls, hub: hub, promptFolder: promptFolder, status: { node()?.ctiSpanStatus() ?? [] },
                                    tick: { handler in pri?.onTick(handler) })
        self.configuration = configuration
        self.logger = logger
    }

    /// The embedded default's CTI: TCP on loopback, a Unix socket and an audit log in the data
    /// folder, and the folder's admin token.
    public static func labConfiguration(folder: DataFolder, port: Int = 7420) throws(TrunkError) -> CTIConfiguration {
        var configuration = CTIConfiguration()
        configuration.listeners = [.tcp(host: "127.0.0.1", port: port), .unix(path: folder.path + "/cti.sock", mode: 0o600)]
        configuration.auditLogPath = folder.path + "/cti-audit.jsonl"
        configuration.tokens = [CTIConfiguration.Token(secret: try labToken(folder: folder), name: "lab-admin",
                                                       permissions: Set(CTIPermission.allCases))]
        return configuration
    }

    /// The data folder's admin token (`cti-token`), made on first use.
    public static func labToken(folder: DataFolder) throws(TrunkError) -> String {
        let path = folder.path + "/cti-token"
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !existing.isEmpty {
            return existing
        }
        var random = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(UInt8.random(in: 0...255, using: &random), radix: 16).leftPadded(2) }.joined()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TrunkError(.permissionDenied, "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let line = token + "\n"
        guard line.withCString({ write(fd, $0, strlen($0)) }) == line.utf8.count else {
            throw TrunkError(.deviceError, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return token
    }

    /// Writes the lab's `welcome` prompt (a generated chime, 8 kHz A-law WAV) into `folder` once.
    public static func installLabPrompts(folder: String) throws(TrunkError) {
        let path = folder + "/welcome.wav"
        guard !FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw TrunkError(.permissionDenied, "cannot create \(folder): \(error.localizedDescription)")
        }
        guard case .tones(let steps) = CallAudio.defaultPrompt else { return }
        let source = ToneSequence(steps: steps.map { .init(frequencies: $0.frequencies, levelDBm0: $0.levelDBm0, durationMs: $0.durationMs) })
        var samples = [Int16](repeating: 0, count: steps.reduce(0) { $0 + $1.durationMs * 8 })
        let count = samples.withUnsafeMutableBufferPointer { source.fill($0) }
        let format = WAVFormat(encoding: .alaw)
        let bytes = format.header(dataBytes: count) + samples.prefix(count).map { G711.linearToAlaw($0) }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw TrunkError(.permissionDenied, "cannot write \(path)")
        }
    }

    /// Reads and checks the TLS files of every TLS listener, so a bad certificate or key stops
    /// trunkd at start with the file named, before any service runs.
    public static func checkTLS(_ configuration: CTIConfiguration, source: String) throws(TrunkError) {
        for listener in configuration.listeners {
            guard case .tls(let host, let port, let files) = listener else { continue }
            do {
                _ = try CTITLSServerSecurity(files: files)
            } catch {
                throw TrunkError(.invalidArgument, "\(source) [cti] tls \(host):\(port): \(error)")
            }
        }
    }

    public func run() async throws {
        let tls = CTITLSServerSecurity.loader
        var server = try CTIServer(configuration: configuration, backend: backend, hub: hub, logger: logger, tls: tls)
        do {
            try await server.start()
        } catch let error as CTITLSError {
            // Bad TLS files are a configuration mistake, not a busy port: nothing falls back.
            await server.stop()
            throw error
        } catch {
            // A TCP port taken (another node on this machine) must not take the node down:
            // the Unix socket in the data folder still serves local clients.
            var local = configuration
            local.listeners = configuration.listeners.filter { if case .unix = $0 { true } else { false } }
            logger.error("CTI listener failed; serving the Unix socket only", metadata: ["error": "\(error)"])
            guard !local.listeners.isEmpty else { throw error }
            await server.stop()
            server = try CTIServer(configuration: local, backend: backend, hub: hub, logger: logger, tls: tls)
            try await server.start()
        }
        let running = server
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: .seconds(3600)) } catch { break }
            }
        }
        await running.stop()
    }
}
