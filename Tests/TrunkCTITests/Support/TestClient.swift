import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
@testable import TrunkCTI

/// A CTI client over a real socket for the tests: sends lines, collects every line the server
/// sends (responses, events, notices) in arrival order, and can stop reading altogether to play
/// the client that does not keep up. Every line sent and received is also kept for the schema check.
final class TestClient: Sendable {
    struct Timeout: Error, CustomStringConvertible {
        var waitingFor: String
        var description: String { "timed out waiting for \(waitingFor)" }
    }

    private final class LineCollector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let lines: NIOLockedValueBox<(lines: [String], closed: Bool)>
        var paused: Bool

        init(lines: NIOLockedValueBox<(lines: [String], closed: Bool)>, paused: Bool) {
            self.lines = lines
            self.paused = paused
        }

        func channelActive(context: ChannelHandlerContext) {
            if !paused { context.read() }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let line = String(decoding: unwrapInboundIn(data).readableBytesView, as: UTF8.self)
            lines.withLockedValue { $0.lines.append(line) }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            if !paused { context.read() }
        }

        func channelInactive(context: ChannelHandlerContext) {
            lines.withLockedValue { $0.closed = true }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }

        func resume(context: ChannelHandlerContext) {
            paused = false
            context.read()
        }
    }

    let channel: any Channel
    private let received: NIOLockedValueBox<(lines: [String], closed: Bool)>
    private let consumed = NIOLockedValueBox(0)
    private let collector: LineCollector
    private let nextID = NIOLockedValueBox(0)
    let sent = NIOLockedValueBox<[String]>([])

    private init(channel: any Channel, received: NIOLockedValueBox<(lines: [String], closed: Bool)>, collector: LineCollector) {
        self.channel = channel
        self.received = received
        self.collector = collector
    }

    enum Endpoint {
        case tcp(Int)
        case unix(String)
    }

    /// `startPaused`: read nothing until `resumeReading()`; `receiveBuffer` shrinks SO_RCVBUF so
    /// a paused client fills up after little data.
    static func connect(_ endpoint: Endpoint, startPaused: Bool = false, receiveBuffer: Int? = nil) async throws -> TestClient {
        let received = NIOLockedValueBox<(lines: [String], closed: Bool)>(([], false))
        let collector = LineCollector(lines: received, paused: startPaused)
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(CTILineDecoder(maximumLength: 1 << 24)))
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
        if let receiveBuffer {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
        }
        let channel: any Channel
        switch endpoint {
        case .tcp(let port): channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
        case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
        }
        return TestClient(channel: channel, received: received, collector: collector)
    }

    /// Issues no further reads from the socket: what arrives after stays in the kernel's buffers.
    func pauseAfterCurrentRead() async throws {
        let collector = self.collector
        try await channel.eventLoop.submit { collector.paused = true }.get()
    }

    func resumeReading() {
        let collector = self.collector
        let channel = self.channel
        channel.eventLoop.execute {
            guard let context = try? channel.pipeline.syncOperations.context(handlerType: LineCollector.self) else { return }
            collector.resume(context: context)
        }
    }

    /// Sends bytes as they are (a newline is not added).
    func sendRaw(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    func send(_ message: JSONValue) async throws {
        let line = message.serialized
        sent.withLockedValue { $0.append(line) }
        try await sendRaw(Array((line + "\n").utf8))
    }

    /// The next line from the server, parsed; nil once the server has closed and all is read.
    func next(timeout: Duration = .seconds(10), waitingFor: String = "a message") async throws -> JSONValue? {
        guard let line = try await nextLine(timeout: timeout, waitingFor: waitingFor) else { return nil }
        return try JSONParser.parse(line)
    }

    func nextLine(timeout: Duration = .seconds(10), waitingFor: String = "a line") async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let index = consumed.withLockedValue { $0 }
            let (line, closed): (String?, Bool) = received.withLockedValue { state in
                (index < state.lines.count ? state.lines[index] : nil, state.closed)
            }
            if let line {
                consumed.withLockedValue { $0 += 1 }
                return line
            }
            if closed { return nil }
            if ContinuousClock.now > deadline { throw Timeout(waitingFor: waitingFor) }
            try await Task.sleep(for: .microseconds(500))
        }
    }

    /// Sends a request and returns its response, collecting anything else that arrives before it.
    @discardableResult
    func call(_ method: String, _ params: JSONValue = .object([]), id: JSONValue? = nil, skipped: inout [JSONValue]) async throws -> JSONValue {
        let id = id ?? .int(nextID.withLockedValue { $0 += 1; return $0 })
        try await send(.object([("jsonrpc", "2.0"), ("id", id), ("method", .string(method)), ("params", params)]))
        while true {
            guard let message = try await next(waitingFor: "the response to \(method)") else {
                throw Timeout(waitingFor: "the response to \(method) (connection closed)")
            }
            if message["id"] == id && message["method"] == nil { return message }
            skipped.append(message)
        }
    }

    @discardableResult
    func call(_ method: String, _ params: JSONValue = .object([]), id: JSONValue? = nil) async throws -> JSONValue {
        var skipped: [JSONValue] = []
        return try await call(method, params, id: id, skipped: &skipped)
    }

    /// Logs in with the given token; returns the response.
    @discardableResult
    func login(_ token: String, client: String = "swift-test") async throws -> JSONValue {
        try await call("session.login", ["token": .string(token), "version": 1, "client": .string(client)])
    }

    var allReceivedLines: [String] { received.withLockedValue { $0.lines } }
    var isClosed: Bool { received.withLockedValue { $0.closed } }

    func close() async {
        try? await channel.close()
    }
}

extension JSONValue {
    var errorCode: Int64? { self["error"]?["code"]?.intValue }
}
