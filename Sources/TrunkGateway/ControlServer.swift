#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The control socket: trunkctl's way in. A Unix socket in the data folder, mode 0600, one
/// JSON-RPC request per line, each connection served on its own so a stuck client never
/// holds up another.
public struct ControlServer: Service {
    public static let maximumLineLength = 1 << 20

    let path: String
    let logger: Logger
    let handle: @Sendable (ByteBuffer, ControlPeer?, ControlStream) async -> ByteBuffer

    public init(path: String, logger: Logger, handle: @escaping @Sendable (ByteBuffer) async -> ByteBuffer) {
        self.path = path
        self.logger = logger
        self.handle = { line, _, _ in await handle(line) }
    }

    /// A server whose handler learns who the client is (SO_PEERCRED), for requests that are logged per user.
    public init(path: String, logger: Logger, handleWithPeer: @escaping @Sendable (ByteBuffer, ControlPeer?) async -> ByteBuffer) {
        self.path = path
        self.logger = logger
        self.handle = { line, peer, _ in await handleWithPeer(line, peer) }
    }

    /// A server whose handler may send lines of its own before its reply (`ControlStream`):
    /// a streamed answer such as `chan monitor`'s audio.
    public init(path: String, logger: Logger,
                handleStreaming: @escaping @Sendable (ByteBuffer, ControlPeer?, ControlStream) async -> ByteBuffer) {
        self.path = path
        self.logger = logger
        self.handle = handleStreaming
    }

    public func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineFrameDecoder(maximumLength: Self.maximumLineLength)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        // Only the owner may cut lines or read the state.
        _ = chmod(path, 0o600)
        logger.info("control socket listening", metadata: ["path": "\(path)"])
        defer { unlink(path) }
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    try await server.executeThenClose { connections in
                        for try await connection in connections {
                            group.addTask { await serve(connection) }
                        }
                    }
                }
            }
        } catch is CancellationError {
            // Graceful shutdown: stop accepting, let the group finish.
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let peer = await ControlPeer.of(connection.channel)
        do {
            try await connection.executeThenClose { inbound, outbound in
                let stream = ControlStream { line in
                    var framed = line
                    framed.writeInteger(UInt8(ascii: "\n"))
                    try await outbound.write(framed)
                }
                for try await line in inbound {
                    var reply = await handle(line, peer, stream)
                    reply.writeInteger(UInt8(ascii: "\n"))
                    try await outbound.write(reply)
                }
            }
        } catch {
            logger.debug("control connection ended", metadata: ["error": "\(error)"])
        }
    }
}

/// Lines a request's handler sends before its reply, on the same connection (JSON-RPC
/// notifications: a streamed answer). `send` waits while the client is not reading — NIO's
/// back-pressure — and throws once the client has gone, which is how a stream learns to stop.
public struct ControlStream: Sendable {
    private let write: @Sendable (ByteBuffer) async throws -> Void
    /// Whether lines reach a client (false: `discarding`).
    public let reachesClient: Bool

    init(reachesClient: Bool = true, write: @escaping @Sendable (ByteBuffer) async throws -> Void) {
        self.reachesClient = reachesClient
        self.write = write
    }

    public func send(_ line: ByteBuffer) async throws { try await write(line) }

    /// A stream that goes nowhere (a server without streaming, requests handled outside a connection).
    public static let discarding = ControlStream(reachesClient: false) { _ in }
}
