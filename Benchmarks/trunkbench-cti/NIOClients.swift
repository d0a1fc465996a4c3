#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// The harness before plain sockets (`--nio-clients`): each subscriber a NIO channel on a
/// 2-thread client group, checked by the same `Tally`. Kept to show what the instrument itself
/// costs: with 120 channels it spends about as much CPU as the server it measures.
final class NIOSubscriber: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let filter: String
    let tally: Tally
    private var partial: ByteBuffer?

    init(filter: String, tally: Tally) {
        self.filter = filter
        self.tally = tally
    }

    func channelActive(context: ChannelHandlerContext) {
        let login = #"{"jsonrpc":"2.0","id":1,"method":"session.login","params":{"token":"bench","version":1,"client":"bench"}}"#
        let request = #"{"jsonrpc":"2.0","id":2,"method":"events.subscribe","params":"# + filter + "}"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: login + "\n" + request + "\n")), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var pending = partial {
            pending.writeBuffer(&buffer)
            buffer = pending
            partial = nil
        }
        let now = monotonicNanoseconds()
        let consumed = buffer.withUnsafeReadableBytes { tally.takeLines($0, now: now) }
        buffer.moveReaderIndex(forwardBy: consumed)
        if buffer.readableBytes > 0 { partial = buffer }
    }

    func channelInactive(context: ChannelHandlerContext) {
        tally.closedByServer = true
    }
}

/// Connects the subscribers as NIO channels and waits until each has its subscription answered.
func connectNIOSubscribers(port: Int, group: MultiThreadedEventLoopGroup, clients: [(filter: String, tally: Tally)]) async throws -> [any Channel] {
    var channels: [any Channel] = []
    for client in clients {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65536, maximum: 262_144))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSubscriber(filter: client.filter, tally: client.tally))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        channels.append(channel)
    }
    for (channel, client) in zip(channels, clients) {
        let tally = client.tally
        let deadline = monotonicNanoseconds() + 5_000_000_000
        while try await channel.eventLoop.submit({ tally.responses }).get() < 2 {
            guard monotonicNanoseconds() < deadline else { throw BenchError("\(tally.label): no answer to login/subscribe within 5 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
    return channels
}

/// Waits (at most 10 s) until every NIO subscriber has received everything published.
func awaitNIOSubscribers(_ channels: [any Channel], _ tallies: [Tally], published: Int64) async throws {
    let deadline = monotonicNanoseconds() + 10_000_000_000
    for (channel, tally) in zip(channels, tallies) {
        while monotonicNanoseconds() < deadline {
            let done = try await channel.eventLoop.submit { tally.closedByServer || tally.isComplete(through: published) }.get()
            if done { break }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
