import Foundation
import Testing

/// Bad input on a real trunkd's CTI socket: each mistake gets its JSON-RPC error and the
/// connection stays usable, except a line over the limit, which is answered and closed.
@Suite("CTI bad input on a real trunkd", .serialized)
struct CTIBadInputCommandLineTests {
    static func code(_ response: [String: Any]) -> Int? { (response["error"] as? [String: Any])?["code"] as? Int }
    static func data(_ response: [String: Any]) -> [String: Any] { (response["error"] as? [String: Any])?["data"] as? [String: Any] ?? [:] }

    /// The next message after `start` (a response to a raw line has no id to wait for).
    static func next(_ client: CTISocketClient, after start: Int) throws -> [String: Any] {
        guard let message = client.wait(timeout: 10, from: start, { $0["method"] as? String != "event" }) else {
            throw CTISocketClient.Failure(description: "no answer")
        }
        return message
    }

    static func raw(_ client: CTISocketClient, _ line: String) throws -> [String: Any] {
        let start = client.messageCount
        try client.sendRaw(Array(line.utf8))
        return try next(client, after: start)
    }

    @Test("invalid JSON, not a request, unknown method, wrong types, before login: the right error each, and the connection goes on")
    func mistakesKeepTheConnection() throws {
        let lab = try CTILab()
        defer { lab.stop() }
        let client = try CTISocketClient(unixPath: lab.socketPath)
        defer { client.close() }
        _ = client.wait(timeout: 10) { $0["method"] as? String == "session.greeting" }

        let parse = try Self.raw(client, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\n")
        #expect(Self.code(parse) == -32700 && parse["id"] is NSNull)
        #expect(Self.code(try Self.raw(client, "[1,2,3]\n")) == -32600)
        #expect(Self.code(try Self.raw(client, "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}\n")) == -32600)
        #expect(Self.code(try Self.raw(client, "\u{FF}\u{FE}garbage\n")) == -32700)

        // Before login: verbs are refused and named; ping is allowed.
        let early = try client.request("channel.answer", ["channel": 33])
        #expect(Self.code(early) == -32001 && Self.data(early)["method"] as? String == "channel.answer")
        #expect(try client.call("ping")["pong"] as? Bool == true)

        try client.call("session.login", ["token": lab.token, "version": 1, "client": "bad-input"])
        let unknown = try client.request("channel.teleport", ["channel": 33])
        #expect(Self.code(unknown) == -32601 && Self.data(unknown)["method"] as? String == "channel.teleport")
        let wrongType = try client.request("channel.collect", ["channel": 33, "max_digits": "ten"])
        #expect(Self.code(wrongType) == -32602 && Self.data(wrongType)["field"] as? String == "max_digits")
        let outOfRange = try client.request("channel.hangup", ["channel": 33, "cause": 300])
        #expect(Self.code(outOfRange) == -32602 && Self.data(outOfRange)["field"] as? String == "cause")
        let noSuchChannel = try client.request("channel.answer", ["channel": 2000])
        #expect(Self.code(noSuchChannel) == -32602)
        let noTarget = try client.request("channel.answer", [:])
        #expect(Self.code(noTarget) == -32602)
        // The gateway's own refusals: no call there, no such call.
        #expect(Self.code(try client.request("channel.answer", ["channel": 40])) == -32010)
        #expect(Self.code(try client.request("channel.hangup", ["call_id": "nope"])) == -32010)
        #expect(Self.code(try client.request("session.login", ["token": lab.token, "version": 1, "client": "again"])) == -32007)

        #expect(try client.call("ping")["pong"] as? Bool == true)
        #expect(!client.isClosed)
        CTISchema.expectValid(client.receivedLines, kind: "server")
    }

    @Test("a line over 1 MiB is answered with line_too_long naming the limit, then closed; trunkd serves on")
    func overLimitLineCloses() throws {
        let lab = try CTILab()
        defer { lab.stop() }
        let client = try lab.client(name: "long-line")
        defer { client.close() }
        let limit = 1_048_576
        let line = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\",\"params\":{\"pad\":\"" + String(repeating: "x", count: limit) + "\"}}\n"
        let start = client.messageCount
        try? client.sendRaw(Array(line.utf8))  // the server may close before it has read it all
        let error = try Self.next(client, after: start)
        #expect(Self.code(error) == -32020)
        #expect(Self.data(error)["limit"] as? Int == limit)
        #expect(client.waitUntilClosed(timeout: 10))
        let other = try lab.client(name: "after")
        defer { other.close() }
        #expect(try other.call("ping")["pong"] as? Bool == true)
        CTISchema.expectValid(client.receivedLines, kind: "server")
    }

    @Test("randomly damaged requests each get one answer and trunkd keeps serving")
    func fuzzedLines() throws {
        let lab = try CTILab()
        defer { lab.stop() }
        let client = try lab.client(name: "fuzz")
        defer { client.close() }
        let seeds = [
            ##"{"jsonrpc":"2.0","id":1,"method":"channel.collect","params":{"channel":33,"max_digits":4,"term_digits":"#"}}"##,
            ##"{"jsonrpc":"2.0","id":"a","method":"channel.snoop","params":{"call_id":"x","spy":"both","whisper":"in","supervisor_channel":35}}"##,
            ##"{"jsonrpc":"2.0","id":3,"method":"events.subscribe","params":{"types":["channel.*"],"since_seq":0}}"##,
            ##"{"jsonrpc":"2.0","id":4,"method":"bridge.create","params":{"bridge_id":"b","calls":["p","q"]}}"##,
            ##"{"jsonrpc":"2.0","id":5,"method":"channel.originate","params":{"trunk_group":"carrier","number":"123","timeout_ms":5000}}"##,
            ##"{"jsonrpc":"2.0","id":6,"method":"span.status","params":{"span":2}}"##,
        ]
        var generator = SystemRandomNumberGenerator()
        let count = 600
        var lines: [String] = []
        for _ in 0..<count {
            var bytes = Array(seeds.randomElement(using: &generator)!.utf8)
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let position = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.remove(at: position)
                case 2: bytes.insert(bytes[Int.random(in: 0..<bytes.count, using: &generator)], at: position)
                default: bytes.insert(contentsOf: Array(bytes[position...].prefix(8)), at: position)
                }
                if bytes.isEmpty { bytes = Array("{}".utf8) }
            }
            // One line per request; a blank line is not a request.
            bytes = bytes.map { $0 == 10 || $0 == 13 ? 32 : $0 }
            if bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { bytes = Array("{}".utf8) }
            lines.append(String(decoding: bytes, as: UTF8.self))
            let start = client.messageCount
            try client.sendRaw(bytes + [10])
            // Every line gets exactly one answer (a response or an error), never silence.
            let answered = client.wait(timeout: 10, from: start) { $0["method"] as? String != "event" }
            #expect(answered != nil, "no answer to \(String(decoding: bytes, as: UTF8.self))")
            if answered == nil || client.isClosed { break }
        }
        #expect(try client.call("ping")["pong"] as? Bool == true)
        let other = try lab.client(name: "after-fuzz")
        defer { other.close() }
        #expect(try other.call("span.status", ["span": 2])["spans"] != nil)
        #expect(lab.daemon.isRunning)
    }

    @Test("a verb the token does not allow is refused naming the missing permission, audited, and the connection goes on")
    func forbiddenVerb() throws {
        let data = temporaryDataFolder()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let socket = data + "/cti-agent.sock"
        let file = data + "/node.toml"
        try """
            [[span]]
            span = 1
            backend = "virtual"
            signalling = "pri_net"
            [[span]]
            span = 2
            backend = "virtual"
            timing = 1
            [cti]
            unix = "\(socket)"
            [[cti.token]]
            name = "desk"
            token = "desk-token-0123456789"
            permissions = ["call"]
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let trunkd = try Daemon("trunkd", ["--data", data, "--config", file])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { usleep(50_000) }
        let client = try CTISocketClient(unixPath: socket)
        defer { client.close() }
        _ = client.wait(timeout: 10) { $0["method"] as? String == "session.greeting" }
        try client.call("session.login", ["token": "desk-token-0123456789", "version": 1, "client": "desk"])
        for (method, params, permission) in [
            ("channel.snoop", ["channel": 33, "spy": "both", "supervisor_channel": 34] as [String: Any], "supervise"),
            ("channel.play", ["channel": 33, "tones": ["dial"]], "media"),
            ("channel.record.start", ["channel": 33], "record"),
            ("sessions.list", [:], "admin"),
        ] {
            let denied = try client.request(method, params)
            #expect(Self.code(denied) == -32004, "\(method): \(denied)")
            #expect(Self.data(denied)["permission"] as? String == permission, "\(method): \(denied)")
            #expect(((denied["error"] as? [String: Any])?["message"] as? String)?.contains(permission) == true, "\(method): \(denied)")
        }
        // A verb it may use gets through to the gateway (no call there: not found).
        #expect(Self.code(try client.request("channel.answer", ["channel": 33])) == -32010)
        #expect(try client.call("ping")["pong"] as? Bool == true)
        let audit = try String(contentsOfFile: data + "/cti-audit.jsonl", encoding: .utf8)
        #expect(audit.contains("\"denied\"") && audit.contains("supervise") && audit.contains("channel.snoop"))
        CTISchema.expectValid(client.receivedLines, kind: "server")
        CTISchema.expectValid(client.sentLines, kind: "client")
    }
}
