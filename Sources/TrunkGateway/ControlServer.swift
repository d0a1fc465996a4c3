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
    let handle: @Sendable (ByteBuffer, ControlPeer?) async -> ByteBuffer

    public init(path: String, logger: Logger, handle: @escaping @Sendable (ByteBuffer) async -> ByteBuffer) {
        self.path = path
        self.logger = logger
        self.handle = { line, _ in await handle(line) }
    }

    /// A server whose handler learns who the client is (SO_PEERCRED), for requests that are logged per user.
    public init(path: String, logger: Logger, handleWithPeer: @escaping @Sendable (ByteBuffer, ControlPeer?) async -> ByteBuffer) {
        self.path = path
        self.logger = logger
        self.handle = handleWithPeer
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
                for try await line in inbound {
                    var reply = await handle(line, peer)
                    reply.writeInteger(UInt8(ascii: "\n"))
                    try await outbound.write(reply)
                }
            }
        } catch {
            logger.debug("control connection ended", metadata: ["error": "\(error)"])
        }
    }
}
