#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

/// The CTI socket server: listens on the configured TCP addresses and Unix sockets and runs one
/// `CTIConnectionHandler` per connection.
///
/// Channel handlers rather than `NIOAsyncChannel`: the event fan-out writes the same encoded
/// bytes to many sockets per event, and must see each socket's writability at the moment it
/// writes, on the socket's own loop, without a task hop per event per client. Requests that
/// need the gateway do hop to a task (the backend is async) and come back to the loop to answer.
/// Each connection is isolated: its errors close it and are logged, nothing else.
public final class CTIServer: Sendable {
    public static let protocolName = "trunkline-cti"
    public static let supportedVersions = [1]
    public static let capabilities = [
        "events.resume", "events.filters", "events.overflow", "calls.claim", "bridge", "conference", "snoop",
        "record", "unix.peercred",
    ]

    let shared: CTIServerShared
    private let group: any EventLoopGroup
    private let loadTLS: CTITLSLoader?
    private let channels = NIOLockedValueBox<[any Channel]>([])
    private let unixPaths = NIOLockedValueBox<[String]>([])

    /// - Parameter tls: reads a TLS listener's files (TrunkCTITLS provides one); without it a
    ///   `.tls` listener fails to start.
    public init(
        configuration: CTIConfiguration, backend: any CTIBackend, hub: CTIEventHub, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, tls: CTITLSLoader? = nil
    ) throws {
        let audit = try configuration.auditLogPath.map { try CTIAuditLog(path: $0) }
        self.shared = CTIServerShared(configuration: configuration, backend: backend, hub: hub, logger: logger, audit: audit)
        self.group = group
        self.loadTLS = tls
    }

    /// Binds every listener; returns their addresses in configuration order (a TCP port of 0
    /// in the configuration is the port the system chose).
    @discardableResult
    public func start() async throws -> [SocketAddress] {
        var addresses: [SocketAddress] = []
        for listener in shared.configuration.listeners {
            let channel: any Channel
            switch listener {
            case .tcp(let host, let port):
                channel = try await bootstrap(tcp: true).bind(host: host, port: port).get()
            case .tls(let host, let port, let files):
                guard let loadTLS else {
                    throw CTIServerError(listener: "\(host):\(port)", problem: "TLS is configured but this server has no TLS support loaded")
                }
                // Read and checked before binding: a listener with bad files never accepts anyone.
                let security = try loadTLS(files)
                channel = try await bootstrap(tcp: true, security: security).bind(host: host, port: port).get()
            case .unix(let path, let mode):
                channel = try await bootstrap(tcp: false).bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
                if chmod(path, mode_t(mode)) != 0 {
                    shared.logger.warning("cannot set the CTI socket's mode", metadata: ["path": "\(path)", "mode": "\(String(mode, radix: 8))"])
                }
                unixPaths.withLockedValue { $0.append(path) }
            }
            channels.withLockedValue { $0.append(channel) }
            if let address = channel.localAddress { addresses.append(address) }
            shared.logger.info("CTI socket listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        }
        return addresses
    }

    /// Stops listening and closes every connection.
    public func stop() async {
        let listening = channels.withLockedValue { channels in
            defer { channels = [] }
            return channels
        }
        for channel in listening { try? await channel.close() }
        for connection in shared.connections.withLockedValue({ Array($0.values) }) {
            try? await connection.close()
        }
        for path in unixPaths.withLockedValue({ $0 }) { unlink(path) }
    }

    /// Runs until the task is cancelled (the gateway's service group does this on shutdown).
    public func run() async throws {
        try await start()
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(3600)) } catch { break }
        }
        await stop()
    }

    /// Sessions currently logged in.
    public var sessions: [CTISessionInfo] { shared.sessions.withLockedValue { Array($0.values) } }

    private func bootstrap(tcp: Bool, security: (any CTITransportSecurity)? = nil) -> ServerBootstrap {
        let shared = self.shared
        let configuration = shared.configuration
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: configuration.clientSocketBufferBytes / 2, high: configuration.clientSocketBufferBytes))
            .childChannelOption(.maxMessagesPerRead, value: 16)
        if tcp { bootstrap = bootstrap.childChannelOption(.socketOption(.tcp_nodelay), value: 1) }
        if let bytes = configuration.socketSendBufferBytes {
            bootstrap = bootstrap.childChannelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(bytes))
        }
        return bootstrap.childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let sync = channel.pipeline.syncOperations
                try security?.addServerHandlers(to: sync)
                try sync.addHandler(ByteToMessageHandler(CTILineDecoder(maximumLength: configuration.maximumLineBytes)))
                try sync.addHandler(IdleStateHandler(readTimeout: .milliseconds(configuration.idleTimeoutMilliseconds)))
                try sync.addHandler(CTIConnectionHandler(shared: shared, isUnixSocket: !tcp))
            }
        }
    }
}

/// A listener that cannot be opened, with what is wrong.
public struct CTIServerError: Error, CustomStringConvertible {
    public var listener: String
    public var problem: String
    public var description: String { "CTI listener \(listener): \(problem)" }
}

/// What every connection of one server shares. Its mutable parts are behind locks and touched
/// only on logins, logouts and denials, never per event.
final class CTIServerShared: Sendable {
    let configuration: CTIConfiguration
    let backend: any CTIBackend
    let hub: CTIEventHub
    let logger: Logger
    let audit: CTIAuditLog?
    let rateLimiter: NIOLockedValueBox<LoginRateLimiter>
    let sessions = NIOLockedValueBox<[String: CTISessionInfo]>([:])
    let connections = NIOLockedValueBox<[String: any Channel]>([:])
    private let nextConnection = Atomic<Int>(0)

    init(configuration: CTIConfiguration, backend: any CTIBackend, hub: CTIEventHub, logger: Logger, audit: CTIAuditLog?) {
        self.configuration = configuration
        self.backend = backend
        self.hub = hub
        self.logger = logger
        self.audit = audit
        self.rateLimiter = NIOLockedValueBox(
            LoginRateLimiter(allowed: configuration.loginFailuresAllowed, windowMilliseconds: configuration.loginFailureWindowMilliseconds))
    }

    func makeConnectionID() -> String {
        "c\(nextConnection.add(1, ordering: .relaxed).newValue)"
    }

    /// The configured token whose secret matches, compared in constant time per token so the
    /// time taken does not reveal how much of a secret was right.
    func token(matching presented: String) -> CTIConfiguration.Token? {
        let presentedBytes = Array(presented.utf8)
        var found: CTIConfiguration.Token?
        for token in configuration.tokens {
            let secret = Array(token.secret.utf8)
            var difference = UInt8(secret.count == presentedBytes.count ? 0 : 1)
            for i in 0..<secret.count {
                difference |= secret[i] ^ (i < presentedBytes.count ? presentedBytes[i] : 0)
            }
            if difference == 0 && found == nil { found = token }
        }
        return found
    }
}
