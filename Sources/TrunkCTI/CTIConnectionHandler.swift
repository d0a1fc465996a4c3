#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// One CTI connection: greeting, login, permission and scope checks, the local methods, the
/// hand-over of verbs to the backend, the event subscription, idle timeout and closing with a
/// reason. Loop-confined, like every channel handler.
final class CTIConnectionHandler: ChannelInboundHandler, EventSink {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let shared: CTIServerShared
    private let isUnixSocket: Bool
    private let connectionID: String
    private var context: ChannelHandlerContext?
    private var logger: Logger

    private var identity = CTIPeer.unknown
    private var peer: String { identity.description }
    private var rateLimitKey: String { identity.rateLimitKey }
    private var peerUID: UInt32? { identity.uid }
    private var peerUser: String? { identity.user }

    private var session: CTISessionInfo?
    private var ids: CTIIdentifierSource
    private var inFlight = 0
    private var subscriber: EventSubscriber?
    private var fanout: EventFanout?
    private var closing = false

    init(shared: CTIServerShared, isUnixSocket: Bool) {
        self.shared = shared
        self.isUnixSocket = isUnixSocket
        self.connectionID = shared.makeConnectionID()
        self.ids = CTIIdentifierSource(session: connectionID)
        self.logger = shared.logger
        self.logger[metadataKey: "cti.connection"] = "\(connectionID)"
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        identity = CTIPeer.identify(context.channel, isUnixSocket: isUnixSocket)
        shared.connections.withLockedValue { $0[connectionID] = context.channel }
        logger.debug("CTI connection opened", metadata: ["peer": "\(peer)"])
        send(
            notification: "session.greeting",
            .object([
                ("protocol", .string(CTIServer.protocolName)),
                ("versions", .array(CTIServer.supportedVersions.map { .int($0) })),
                ("node", .string(shared.configuration.nodeName)),
                ("epoch", .int(shared.hub.epoch)),
                ("capabilities", .array(CTIServer.capabilities.map { .string($0) })),
                ("auth", .array(["token"])),
                ("max_line_bytes", .int(shared.configuration.maximumLineBytes)),
                ("idle_timeout_ms", .int(shared.configuration.idleTimeoutMilliseconds)),
            ]))
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        detachSubscriber()
        shared.connections.withLockedValue { $0[connectionID] = nil }
        if let session {
            shared.sessions.withLockedValue { $0[session.sessionID] = nil }
            logger.info("CTI session ended", metadata: ["session": "\(session.sessionID)", "token": "\(session.tokenName)"])
            let backend = shared.backend
            Task { await backend.sessionEnded(session) }
        }
        session = nil
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        guard !closing else { return }
        handle(line: line)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // A client that does not take its responses may not keep sending requests: their answers
        // would pile up in memory. Reading resumes when the socket drains.
        let writable = context.channel.isWritable
        try? context.channel.syncOptions?.setOption(.autoRead, value: writable)
        if writable { subscriber?.socketWritable() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            logger.info("CTI connection idle: closing", metadata: ["session": "\(session?.sessionID ?? "-")"])
            close(
                notice: "session.closed",
                .object([
                    ("reason", .string(CTIError.Code.idleTimeout.name)),
                    ("code", .int(Int64(CTIError.Code.idleTimeout.rawValue))),
                    ("message", .string("nothing received for \(shared.configuration.idleTimeoutMilliseconds) ms")),
                ]))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let tooLong = error as? CTILineDecoder.LineTooLong {
            logger.notice("CTI request line over the limit: closing", metadata: ["peer": "\(peer)", "limit": "\(tooLong.limit)"])
            guard !closing else { return }
            let error = CTIError(
                .lineTooLong, "\(tooLong.description): closing the connection",
                data: [("limit", .int(tooLong.limit))])
            closing = true
            detachSubscriber()
            let bytes = encodeResponse(id: .null, error: error)
            finishClosing(after: bytes)
            return
        }
        logger.debug("CTI connection error", metadata: ["peer": "\(peer)", "error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: EventSink

    var canTakeEvents: Bool { !closing && (context?.channel.isWritable ?? false) }

    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    func writeEvent(_ bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(bytes), promise: nil)
    }

    func flushEvents() {
        context?.flush()
    }

    func eventsOverflowed(lostFrom: UInt64, lostTo: UInt64) {
        logger.warning(
            "CTI client not reading its events: disconnecting",
            metadata: ["session": "\(session?.sessionID ?? "-")", "lost_from": "\(lostFrom)", "lost_to": "\(lostTo)"])
        close(
            notice: "events.overflow",
            .object([
                ("lost_from", .int(Int64(lostFrom))), ("lost_to", .int(Int64(lostTo))),
                ("queue_limit", .int(shared.configuration.clientQueueEvents)),
            ]))
    }

    // MARK: Requests

    private func handle(line: ByteBuffer) {
        let message: JSONValue
        do {
            message = try JSONParser.parse(line.readableBytesView)
        } catch {
            send(id: .null, error: CTIError(.parseError, "not valid JSON: \(error)", data: [("offset", .int(error.offset))]))
            return
        }
        guard case .object = message else {
            send(id: .null, error: CTIError(.invalidRequest, "a request must be a JSON object, got \(message.typeName)"))
            return
        }
        let id = message["id"] ?? .null
        switch id {
        case .string, .int: break
        default:
            send(
                id: .null,
                error: CTIError(
                    .invalidRequest, "every request needs an id (a string or an integer)",
                    data: [("field", "id")]))
            return
        }
        guard message["jsonrpc"] == .string("2.0") else {
            send(id: id, error: CTIError(.invalidRequest, "jsonrpc must be \"2.0\"", data: [("field", "jsonrpc")]))
            return
        }
        guard let name = message["method"]?.stringValue else {
            send(id: id, error: CTIError(.invalidRequest, "method must be a string", data: [("field", "method")]))
            return
        }
        guard let method = CTIMethod(rawValue: name) else {
            send(id: id, error: CTIError(.methodNotFound, "unknown method \"\(name)\"", data: [("method", .string(name))]))
            return
        }
        guard let session = session else {
            if method.allowedBeforeLogin {
                dispatch(method, id: id, params: message["params"], session: nil)
            } else {
                send(
                    id: id,
                    error: CTIError(.notLoggedIn, "\(name) needs a session: call session.login first", data: [("method", .string(name))]))
            }
            return
        }
        if let permission = method.permission, !session.permissions.contains(permission), !session.permissions.contains(.admin) {
            audit(
                "denied",
                [("method", .string(name)), ("permission", .string(permission.rawValue)), ("reason", "permission")])
            logger.notice(
                "CTI request denied", metadata: ["session": "\(session.sessionID)", "method": "\(name)", "permission": "\(permission.rawValue)"])
            send(
                id: id,
                error: CTIError(
                    .permissionDenied, "\(name) needs the \(permission.rawValue) permission, which token \(session.tokenName) does not grant",
                    data: [("permission", .string(permission.rawValue)), ("method", .string(name))]))
            return
        }
        dispatch(method, id: id, params: message["params"], session: session)
    }

    private func dispatch(_ method: CTIMethod, id: JSONValue, params raw: JSONValue?, session: CTISessionInfo?) {
        do throws(CTIError) {
            let params = try CTIParams(raw)
            switch method {
            case .ping:
                send(
                    id: id,
                    result: .object([
                        ("pong", true), ("time", .string(CTIClock.rfc3339(CTIClock.wallMicroseconds()))),
                        ("seq", .int(Int64(shared.hub.latestSeq))),
                    ]))
            case .sessionLogin:
                try login(id: id, params)
            case .sessionLogout:
                send(id: id, result: .object([]))
                closing = true
                detachSubscriber()
                context?.close(promise: nil)
            case .sessionInfo:
                send(id: id, result: sessionJSON(session!))
            case .sessionsList:
                let all = shared.sessions.withLockedValue { Array($0.values) }.sorted { $0.sessionID < $1.sessionID }
                send(id: id, result: .object([("sessions", .array(all.map(sessionJSON)))]))
            case .eventsSubscribe:
                try subscribe(id: id, params, session: session!)
            case .eventsUnsubscribe:
                detachSubscriber()
                send(id: id, result: .object([]))
            default:
                try perform(method, id: id, params, session: session!)
            }
        } catch {
            send(id: id, error: error)
        }
    }

    private func login(id: JSONValue, _ params: CTIParams) throws(CTIError) {
        guard session == nil else {
            throw CTIError(.alreadyLoggedIn, "this connection is already logged in as \(session!.sessionID)")
        }
        let token = try params.requiredString("token", maxLength: 4096)
        let version = try params.requiredInt("version", in: 0...1_000_000)
        let client = try params.requiredString("client", maxLength: 128)
        guard CTIServer.supportedVersions.contains(version) else {
            throw CTIError(
                .unsupportedVersion, "protocol version \(version) is not spoken here; supported: \(CTIServer.supportedVersions)",
                data: [("supported", .array(CTIServer.supportedVersions.map { .int($0) }))])
        }
        let now = CTIClock.monotonicNanoseconds() / 1_000_000
        let key = rateLimitKey
        if let wait = shared.rateLimiter.withLockedValue({ $0.retryAfter(peer: key, now: now) }) {
            audit("login_refused", [("client", .string(client)), ("retry_after_ms", .int(wait))])
            logger.warning("CTI login refused: too many failures", metadata: ["peer": "\(peer)", "retry_after_ms": "\(wait)"])
            throw CTIError(
                .rateLimited, "too many failed logins from \(key); try again in \(wait) ms",
                data: [("retry_after_ms", .int(wait))])
        }
        guard let granted = shared.token(matching: token), granted.requiredUID == nil || granted.requiredUID == peerUID else {
            shared.rateLimiter.withLockedValue { $0.recordFailure(peer: key, now: now) }
            audit("login_failed", [("client", .string(client))])
            logger.warning("CTI login failed", metadata: ["peer": "\(peer)", "client": "\(client)"])
            throw CTIError(.loginFailed, "the token was not accepted")
        }
        shared.rateLimiter.withLockedValue { $0.recordSuccess(peer: key) }
        let info = CTISessionInfo(
            sessionID: connectionID, tokenName: granted.name, client: client, permissions: granted.permissions,
            scope: granted.scope, peer: peer, uid: peerUID, user: peerUser)
        session = info
        shared.sessions.withLockedValue { $0[info.sessionID] = info }
        logger[metadataKey: "cti.session"] = "\(info.sessionID)"
        audit("login", [("version", .int(version))])
        logger.info("CTI login", metadata: ["token": "\(granted.name)", "client": "\(client)", "peer": "\(peer)"])
        var result = sessionJSON(info)
        if case .object(var members) = result {
            members.append(("version", .int(version)))
            members.append(("head_seq", .int(Int64(shared.hub.latestSeq))))
            members.append(("epoch", .int(shared.hub.epoch)))
            result = .object(members)
        }
        send(id: id, result: result)
    }

    private func subscribe(id: JSONValue, _ params: CTIParams, session: CTISessionInfo) throws(CTIError) {
        var filter = CTIEventFilter(scope: session.scope)
        if let names = try params.optionalStringArray("types", maxCount: 64, maxLength: 64) {
            let (mask, unknown) = CTIEventFilter.typeMask(names)
            if let unknown {
                throw CTIError.invalidParam("types", "event type names, \"family.*\" or \"*\"", got: .string(unknown))
            }
            filter.types = mask
        }
        if let channels = try params.optionalIntArray("chans", in: 1...1024, maxCount: 1024) { filter.channels = CTIEventFilter.ChannelSet(channels) }
        if let calls = try params.optionalIDArray("calls", maxCount: 1024) { filter.calls = Set(calls) }
        let since = try params.optionalUInt64("since_seq")
        let window = shared.hub.window()
        var cursor = window.head
        var gone: JSONValue = .null
        if let since {
            if since > window.head {
                throw CTIError(
                    .invalidParams,
                    "params.since_seq: \(since) is after the latest event \(window.head): the seq is from another node lifetime; take state.snapshot",
                    data: [("field", "since_seq"), ("head_seq", .int(Int64(window.head))), ("epoch", .int(shared.hub.epoch))])
            }
            if since + 1 < window.oldest {
                gone = .object([("from", .int(Int64(since + 1))), ("to", .int(Int64(window.oldest - 1)))])
                cursor = window.oldest - 1
            } else {
                cursor = since
            }
        }
        detachSubscriber()
        let fanout = shared.hub.fanout(for: context!.eventLoop)
        let subscriber = EventSubscriber(filter: filter, cursor: cursor, queueLimit: shared.configuration.clientQueueEvents, sink: self,
                                         replayThrough: since == nil ? 0 : window.head)
        send(
            id: id,
            result: .object([
                ("head_seq", .int(Int64(window.head))), ("epoch", .int(shared.hub.epoch)),
                ("replay_from", since == nil ? .null : .int(Int64(cursor + 1))), ("gone", gone),
            ]))
        self.subscriber = subscriber
        self.fanout = fanout
        fanout.add(subscriber)
    }

    private func perform(_ method: CTIMethod, id: JSONValue, _ params: CTIParams, session: CTISessionInfo) throws(CTIError) {
        guard let request = try CTIRequest.parse(method, params, ids: &ids) else {
            throw CTIError(.internalError, "\(method.rawValue) has no parser")
        }
        guard inFlight < shared.configuration.maximumRequestsInFlight else {
            throw CTIError(
                .tooManyRequests, "\(inFlight) requests are already waiting on the gateway; wait for their answers",
                data: [("limit", .int(shared.configuration.maximumRequestsInFlight))])
        }
        switch request {
        case .spanStatus, .snapshot:
            let seq = shared.hub.latestSeq
            if let result = shared.backend.answerImmediately(request, session: session) {
                send(id: id, result: Self.resultJSON(request, result, scope: session.scope, seq: seq, epoch: shared.hub.epoch))
                return
            }
        default:
            break
        }
        inFlight += 1
        launch(method, request, id: id, session: session)
    }

    private func launch(_ method: CTIMethod, _ request: CTIRequest, id: JSONValue, session: CTISessionInfo) {
        let backend = shared.backend
        let hub = shared.hub
        let handler = NIOLoopBound(self, eventLoop: context!.eventLoop)
        let job = PendingRequest(method: method, request: request, id: id, session: session, backend: backend, hub: hub, handler: handler)
        Task { await job.run() }
    }

    private struct PendingRequest: Sendable {
        let method: CTIMethod
        let request: CTIRequest
        let id: JSONValue
        let session: CTISessionInfo
        let backend: any CTIBackend
        let hub: CTIEventHub
        let handler: NIOLoopBound<CTIConnectionHandler>

        func run() async {
            await CTIConnectionHandler.carryOut(method, request, id: id, session: session, backend: backend, hub: hub, replyTo: handler)
        }
    }

    fileprivate static func carryOut(
        _ method: CTIMethod, _ request: CTIRequest, id: JSONValue, session: CTISessionInfo, backend: any CTIBackend,
        hub: CTIEventHub, replyTo handler: NIOLoopBound<CTIConnectionHandler>
    ) async {
        let outcome = await carryOut(request, session: session, backend: backend, hub: hub)
        handler.eventLoop.execute { handler.value.finish(method, request, id: id, outcome: outcome) }
    }

    private static func carryOut(_ request: CTIRequest, session: CTISessionInfo, backend: any CTIBackend, hub: CTIEventHub) async -> Result<JSONValue, CTIError> {
        if !session.scope.isUnrestricted, let denied = await scopeViolation(request, session: session, backend: backend) {
            return .failure(denied)
        }
        let seqBefore = hub.latestSeq
        let outcome = await perform(request, session: session, backend: backend)
        return outcome.map { resultJSON(request, $0, scope: session.scope, seq: seqBefore, epoch: hub.epoch) }
    }

    private static func perform(_ request: CTIRequest, session: CTISessionInfo, backend: any CTIBackend) async -> Result<CTIResult, CTIError> {
        do {
            return .success(try await backend.perform(request, session: session))
        } catch {
            return .failure(error.ctiError)
        }
    }

    private static func locate(_ target: CTITarget, backend: any CTIBackend) async -> Result<CTILocation, CTIError> {
        do {
            return .success(try await backend.locate(target))
        } catch {
            return .failure(error.ctiError)
        }
    }

    /// nil when every target of the request is in the token's scope; otherwise the error to answer.
    private static func scopeViolation(_ request: CTIRequest, session: CTISessionInfo, backend: any CTIBackend) async -> CTIError? {
        let scope = session.scope
        func outside(_ what: String, span: Int?, channel: Int?) -> CTIError {
            CTIError(
                .outOfScope, "\(what) is outside token \(session.tokenName)'s scope",
                data: [("permission", "scope"), ("span", span.map { .int($0) } ?? .null), ("channel", channel.map { .int($0) } ?? .null)])
        }
        switch request {
        case .originate(let originate):
            if case .trunkGroup(let group) = originate.route {
                return CTIError(
                    .outOfScope, "trunk group \(group): a token limited to spans or channels originates on a channel of its own",
                    data: [("permission", "scope"), ("span", .null), ("channel", .null)])
            }
        case .claim(let claim):
            for span in claim.spans where !scope.spans.contains(span) {
                return outside("span \(span)", span: span, channel: nil)
            }
        default:
            break
        }
        for target in request.targets {
            switch await locate(target, backend: backend) {
            case .failure(let error):
                return error
            case .success(let location):
                if !scope.allows(span: location.span, channel: location.channel) {
                    return outside("span \(location.span) channel \(location.channel)", span: location.span, channel: location.channel)
                }
            }
        }
        return nil
    }

    private static func resultJSON(_ request: CTIRequest, _ result: CTIResult, scope: CTIScope, seq: UInt64, epoch: Int64) -> JSONValue {
        switch result {
        case .spanStatus(let spans):
            let visible = spans.filter { scope.isUnrestricted || scope.spans.contains($0.span) }
            return .object([("spans", .array(visible.map(\.json)))])
        case .snapshot(let snapshot):
            let spans = snapshot.spans.filter { scope.isUnrestricted || scope.spans.contains($0.span) }
            let calls = snapshot.calls.filter { scope.allows(span: $0.span, channel: $0.channel) }
            let visibleCalls = Set(calls.map(\.callID))
            let bridges = snapshot.bridges.filter { scope.isUnrestricted || $0.calls.allSatisfy(visibleCalls.contains) }
            return .object([
                ("seq", .int(Int64(seq))), ("epoch", .int(epoch)), ("spans", .array(spans.map(\.json))),
                ("calls", .array(calls.map(\.json))), ("bridges", .array(bridges.map(\.json))),
            ])
        case .recording(let recordingID):
            let opID: String = if case .recordStart(let r) = request { r.opID } else { "" }
            return .object([("op_id", .string(opID)), ("recording_id", .string(recordingID))])
        case .done:
            switch request {
            case .originate(let o): return .object([("op_id", .string(o.opID)), ("call_id", .string(o.callID))])
            case .ring(let r): return .object([("op_id", .string(r.opID)), ("call_id", .string(r.callID))])
            case .play(let p): return .object([("op_id", .string(p.opID))])
            case .collect(let c): return .object([("op_id", .string(c.opID))])
            case .transfer(let t): return .object([("op_id", .string(t.opID))])
            case .recordStart(let r): return .object([("op_id", .string(r.opID)), ("recording_id", .string(r.recordingID))])
            case .bridgeCreate(let bridgeID, _): return .object([("bridge_id", .string(bridgeID))])
            case .conferenceCreate(let conferenceID): return .object([("conference_id", .string(conferenceID))])
            case .snoop(let s): return .object([("snoop_id", .string(s.snoopID))])
            case .claim(let c): return .object([("claim_id", .string(c.claimID))])
            default: return .object([])
            }
        }
    }

    private func finish(_ method: CTIMethod, _ request: CTIRequest, id: JSONValue, outcome: Result<JSONValue, CTIError>) {
        inFlight -= 1
        switch outcome {
        case .success(let result):
            if method.isAudited { audit(method == .channelSnoop ? "snoop" : "force_release", auditDetails(request)) }
            send(id: id, result: result)
        case .failure(let error):
            if error.code == .outOfScope {
                audit("denied", [("method", .string(method.rawValue)), ("reason", "scope")] + error.data)
                logger.notice("CTI request out of scope", metadata: ["method": "\(method.rawValue)"])
            }
            send(id: id, error: error)
        }
    }

    private func auditDetails(_ request: CTIRequest) -> [(String, JSONValue)] {
        switch request {
        case .snoop(let snoop):
            return snoop.target.json + [
                ("spy", .string(snoop.spy.rawValue)), ("whisper", .string(snoop.whisper.rawValue)),
                ("snoop_id", .string(snoop.snoopID)),
            ]
        case .forceRelease(let target, let cause):
            return target.json + [("cause", .int(cause))]
        default:
            return []
        }
    }

    // MARK: Output

    private func sessionJSON(_ info: CTISessionInfo) -> JSONValue {
        .object([
            ("session_id", .string(info.sessionID)), ("token", .string(info.tokenName)), ("client", .string(info.client)),
            ("permissions", .array(info.permissions.sorted().map { .string($0.rawValue) })), ("scope", info.scope.json),
            ("peer", .string(info.peer)), ("uid", info.uid.map { .int(Int64($0)) } ?? .null), ("user", .string(info.user)),
        ])
    }

    private func encodeResponse(id: JSONValue, result: JSONValue? = nil, error: CTIError? = nil) -> ByteBuffer {
        var writer = JSONWriter()
        writer.raw("{\"jsonrpc\":\"2.0\",\"id\":")
        writer.write(id)
        if let error {
            writer.raw(",\"error\":")
            writer.write(error.json)
        } else {
            writer.raw(",\"result\":")
            writer.write(result ?? .object([]))
        }
        writer.raw("}\n")
        return ByteBuffer(bytes: writer.bytes)
    }

    private func send(id: JSONValue, result: JSONValue) {
        write(encodeResponse(id: id, result: result))
    }

    private func send(id: JSONValue, error: CTIError) {
        logger.debug("CTI error reply", metadata: ["code": "\(error.code.rawValue)", "message": "\(error.message)"])
        write(encodeResponse(id: id, error: error))
    }

    private func encodeNotification(_ method: String, _ params: JSONValue) -> ByteBuffer {
        var writer = JSONWriter()
        writer.write(.object([("jsonrpc", "2.0"), ("method", .string(method)), ("params", params)]))
        writer.bytes.append(UInt8(ascii: "\n"))
        return ByteBuffer(bytes: writer.bytes)
    }

    private func send(notification method: String, _ params: JSONValue) {
        write(encodeNotification(method, params))
    }

    private func write(_ buffer: ByteBuffer) {
        guard let context, context.channel.isActive else { return }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// Stops reading and events, sends the notice, and closes once it is out, or after the
    /// grace period if the client does not take it.
    private func close(notice method: String, _ params: JSONValue) {
        guard !closing else { return }
        closing = true
        detachSubscriber()
        finishClosing(after: encodeNotification(method, params))
    }

    private func finishClosing(after bytes: ByteBuffer) {
        guard let context else { return }
        let channel = context.channel
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(bytes), promise: promise)
        promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
        let grace = TimeAmount.milliseconds(shared.configuration.closeGraceMilliseconds)
        let deadline = NIODeadline.now() + max(grace, .milliseconds(shared.configuration.idleTimeoutMilliseconds))
        Self.closeUnlessDraining(channel, grace: grace, deadline: deadline, lastBuffered: .max)
    }

    /// Closes `channel` once a grace period passes in which the client took none of what is
    /// still on its way to it, in NIO or the kernel (or at `deadline`): a client that reads slowly still reaches its
    /// closing notice behind the events it had been sent; one that has stopped is let go.
    private static func closeUnlessDraining(_ channel: any Channel, grace: TimeAmount, deadline: NIODeadline, lastBuffered: Int) {
        channel.eventLoop.scheduleTask(in: grace) {
            let unread = UnreadBytes.count(channel)
            if unread > 0, unread < lastBuffered, NIODeadline.now() < deadline {
                closeUnlessDraining(channel, grace: grace, deadline: deadline, lastBuffered: unread)
            } else {
                channel.close(promise: nil)
            }
        }
    }

    private func detachSubscriber() {
        if let subscriber, let fanout { fanout.remove(subscriber) }
        subscriber = nil
        fanout = nil
    }

    private func audit(_ event: String, _ details: [(String, JSONValue)]) {
        guard let audit = shared.audit else { return }
        var fields: [(String, JSONValue)] = [("connection", .string(connectionID)), ("peer", .string(peer))]
        if let peerUID { fields.append(("uid", .int(Int64(peerUID)))) }
        if let peerUser { fields.append(("user", .string(peerUser))) }
        if let session {
            fields.append(("session", .string(session.sessionID)))
            fields.append(("token", .string(session.tokenName)))
            fields.append(("client", .string(session.client)))
        }
        audit.record(event, fields + details)
    }
}
