#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// A CTI client on trunkd's Unix socket, written with plain sockets so that it shares nothing
/// with the server's code: sends JSON-RPC lines, and (unless told to stay silent) reads every
/// line the server sends on a thread of its own, keeping them in arrival order.
final class CTISocketClient: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let fd: Int32
    private let lock = NSLock()
    private var received: [String] = []
    private var messages: [[String: Any]] = []
    private var sent: [String] = []
    private var closed = false
    private var nextID = 0
    private var reader: Thread?
    private var paused = false
    private var throttle: (bytes: Int, pauseMicroseconds: UInt32)?

    /// `receiveBuffer` shrinks SO_RCVBUF (before connecting, so the TCP-like window is small too);
    /// `reading: false` leaves every byte the server sends in the socket until `startReading()`.
    init(unixPath: String, receiveBuffer: Int? = nil, reading: Bool = true) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(unixPath.utf8CString)
        guard path.count <= MemoryLayout.size(ofValue: address.sun_path) else { throw Failure(description: "socket path too long: \(unixPath)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            path.withUnsafeBytes { raw.copyMemory(from: $0) }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw Failure(description: "connect \(unixPath): \(reason)")
        }
        if reading { startReading() }
    }

    deinit { Glibc.close(fd) }

    func startReading() {
        let thread = Thread { [self] in readLoop() }
        reader = thread
        thread.start()
    }

    private func readLoop() {
        var pending = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            if lock.withLock({ paused }) {
                usleep(1_000)
                continue
            }
            let limit = lock.withLock { throttle }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, limit?.bytes ?? $0.count)) }
            if let limit { usleep(limit.pauseMicroseconds) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            pending += buffer[0..<count]
            var lines: [String] = []
            while let newline = pending.firstIndex(of: 10) {
                lines.append(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
            let parsed = lines.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? ["unparsable": $0] }
            lock.withLock {
                received += lines
                messages += parsed
            }
        }
        lock.withLock { closed = true }
    }

    /// Stops taking bytes from the socket (after the read in progress): the server's data stays
    /// in the kernel's buffers, as with a client that has hung.
    func pauseReading() { lock.withLock { paused = true } }
    func resumeReading() { lock.withLock { paused = false } }

    /// Reads at most `bytes` at a time with a pause after each: a client that keeps reading, but
    /// slower than the events come.
    func readSlowly(bytes: Int, pauseMilliseconds: Int) { lock.withLock { throttle = (bytes, UInt32(pauseMilliseconds * 1000)) } }

    /// Sends bytes as they are.
    func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a server that has closed makes this fail with EPIPE, not kill the test.
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw Failure(description: "write: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    /// Sends one request and returns its id.
    @discardableResult
    func send(_ method: String, _ params: [String: Any]? = nil, id: Any? = nil) throws -> Any {
        let id = id ?? lock.withLock { nextID += 1; return nextID }
        var request: [String: Any] = ["jsonrpc": "2.0", "id": id, "method": method]
        if let params { request["params"] = params }
        let line = String(decoding: try JSONSerialization.data(withJSONObject: request, options: [.sortedKeys]), as: UTF8.self)
        lock.withLock { sent.append(line) }
        try sendRaw(Array((line + "\n").utf8))
        return id
    }

    /// Sends a request and waits for its response (events arriving meanwhile are kept).
    @discardableResult
    func request(_ method: String, _ params: [String: Any]? = nil, timeout: TimeInterval = 15) throws -> [String: Any] {
        let id = try send(method, params)
        let key = "\(id)"
        guard let response = wait(timeout: timeout, { $0["method"] == nil && "\($0["id"] ?? "")" == key }) else {
            throw Failure(description: "no response to \(method) within \(timeout) s")
        }
        return response
    }

    /// A request that must succeed: its result.
    @discardableResult
    func call(_ method: String, _ params: [String: Any]? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let response = try request(method, params)
        guard let result = response["result"] as? [String: Any] else {
            throw Failure(description: "\(method) \(params ?? [:]) failed: \(response["error"] ?? response)")
        }
        return result
    }

    /// The first message (in arrival order) that satisfies `matches`, waiting up to `timeout`.
    func wait(timeout: TimeInterval = 15, from start: Int = 0, _ matches: ([String: Any]) -> Bool) -> [String: Any]? {
        let deadline = Date().addingTimeInterval(timeout)
        var checked = start
        while true {
            let (batch, isClosed) = lock.withLock { (checked < messages.count ? Array(messages[checked...]) : [], closed) }
            if let found = batch.first(where: matches) { return found }
            checked += batch.count
            if isClosed || Date() > deadline { return nil }
            usleep(2_000)
        }
    }

    /// The first event of `type` (and matching `where`) with a seq above `after`.
    func event(_ type: String, after: Int = 0, timeout: TimeInterval = 15, where condition: ([String: Any]) -> Bool = { _ in true }) throws -> [String: Any] {
        let found = wait(timeout: timeout) { message in
            guard message["method"] as? String == "event", let params = message["params"] as? [String: Any] else { return false }
            return params["type"] as? String == type && (params["seq"] as? Int ?? 0) > after && condition(params)
        }
        guard let params = found?["params"] as? [String: Any] else {
            throw Failure(description: "no \(type) event after seq \(after) within \(timeout) s; events seen: \(eventSummary.suffix(12))")
        }
        return params
    }

    /// Waits until the server has closed the connection.
    func waitUntilClosed(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if lock.withLock({ closed }) { return true }
            usleep(5_000)
        }
        return false
    }

    var events: [[String: Any]] {
        lock.withLock { messages.filter { $0["method"] as? String == "event" }.compactMap { $0["params"] as? [String: Any] } }
    }

    var allMessages: [[String: Any]] { lock.withLock { messages } }
    var messageCount: Int { lock.withLock { messages.count } }
    var receivedLines: [String] { lock.withLock { received } }
    var sentLines: [String] { lock.withLock { sent } }
    var isClosed: Bool { lock.withLock { closed } }

    var eventSummary: [String] {
        events.map { "\($0["seq"] ?? "?") \($0["type"] ?? "?") \($0["call_id"] ?? "")" }
    }

    /// Shuts the socket both ways (the reader thread ends).
    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        _ = waitUntilClosed(timeout: 5)
    }
}

/// Checks CTI messages against docs/cti-schema.json with Python's jsonschema (Draft 2020-12), an
/// implementation the project did not write, so our messages and our schema cannot agree by
/// sharing a bug. Each invalid message is named: its method, event type or id, and the first
/// error.
enum CTISchema {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/cti-schema.json").path

    /// `kind`: "server" (anything the server sends) or "client" (requests).
    static func problems(_ lines: [String], kind: String) throws -> [String] {
        let folder = temporaryDataFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/messages.jsonl"
        try lines.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let script = """
            import json, sys
            from jsonschema import Draft202012Validator
            schema = json.load(open(sys.argv[1]))
            ref = {"server": "#/$defs/server_message", "client": "#/$defs/client_request"}[sys.argv[3]]
            validator = Draft202012Validator({"$ref": ref, "$defs": schema["$defs"]})
            for number, line in enumerate(open(sys.argv[2]), 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    message = json.loads(line)
                except ValueError as error:
                    print(f"message {number} is not JSON ({error}): {line[:200]}")
                    continue
                errors = list(validator.iter_errors(message))
                if errors:
                    params = message.get("params") if isinstance(message.get("params"), dict) else {}
                    name = message.get("method", "response")
                    if name == "event":
                        name = f"event {params.get('type')} seq {params.get('seq')}"
                    elif "id" in message and "method" not in message:
                        name = f"response id {message.get('id')}"
                    deepest = max(errors, key=lambda e: len(list(e.absolute_path)))
                    print(f"{name} (message {number}) does not validate: {deepest.message} at {list(deepest.absolute_path)}: {line[:300]}")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, path, input, kind]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var problems = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        if process.terminationStatus != 0 { problems.append("python3 exited with \(process.terminationStatus)") }
        return problems
    }

    /// Records one issue per message that does not validate.
    static func expectValid(_ lines: [String], kind: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            for problem in try problems(lines, kind: kind) { Issue.record("schema: \(problem)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("the schema check could not run: \(error)", sourceLocation: sourceLocation)
        }
    }
}
