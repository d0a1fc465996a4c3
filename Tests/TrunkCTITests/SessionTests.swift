import Foundation
import Logging
import Testing
@testable import TrunkCTI

/// Sessions over real sockets: greeting, login, the JSON-RPC errors for bad input, permissions,
/// scopes, the audit file, rate-limited logins, the idle timeout and the Unix socket's peer uid.
@Suite("CTI sessions")
struct SessionTests {
    @Test("the greeting names the protocol, versions and capabilities, and login answers with the session")
    func greetingAndLogin() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try await TestClient.connect(.tcp(server.port))
        let greeting = try #require(try await client.next())
        #expect(greeting["method"] == "session.greeting")
        #expect(greeting["params"]?["protocol"] == "trunkline-cti")
        #expect(greeting["params"]?["versions"] == [1])
        #expect(greeting["params"]?["capabilities"]?.arrayValue?.contains("events.resume") == true)

        let response = try await client.login(TestServer.agentToken, client: "unit")
        let result = try #require(response["result"])
        #expect(result["token"] == "agent")
        #expect(result["client"] == "unit")
        #expect(result["permissions"] == ["call", "media", "record"])
        #expect(result["version"] == 1)
        #expect(try await client.call("ping")["result"]?["pong"] == true)
        #expect(try await client.call("session.info")["result"]?["session_id"] == result["session_id"])

        let audit = try server.auditRecords()
        #expect(audit.contains { $0["event"] == "login" && $0["token"] == "agent" && $0["client"] == "unit" })
        SchemaCheck.expectValid(client.allReceivedLines, kind: "server")
        SchemaCheck.expectValid(client.sent.withLockedValue { $0 }, kind: "client")
        await client.close()
    }

    @Test("bad input gets the right JSON-RPC error and the connection stays usable")
    func badInputKeepsTheConnection() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try await server.connect()

        // Invalid JSON: −32700 with a null id.
        try await client.sendRaw(Array("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\n".utf8))
        let parse = try #require(try await client.next())
        #expect(parse.errorCode == -32700)
        #expect(parse["id"] == .null)
        // Not an object; no id; wrong jsonrpc.
        try await client.sendRaw(Array("[1,2,3]\n".utf8))
        #expect(try await client.next()?.errorCode == -32600)
        try await client.sendRaw(Array("{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}\n".utf8))
        #expect(try await client.next()?.errorCode == -32600)
        try await client.sendRaw(Array("{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"ping\"}\n".utf8))
        let version = try #require(try await client.next())
        #expect(version.errorCode == -32600 && version["id"] == 7)

        // Before login: verbs are refused, ping is not.
        let early = try await client.call("channel.answer", ["channel": 33])
        #expect(early.errorCode == -32001)
        #expect(try await client.call("ping")["result"] != nil)

        // Unknown method (before and after login).
        #expect(try await client.call("channel.teleport", ["channel": 33]).errorCode == -32601)
        try await client.login(TestServer.agentToken)
        let unknown = try await client.call("channel.teleport", ["channel": 33])
        #expect(unknown.errorCode == -32601)
        #expect(unknown["error"]?["data"]?["method"] == "channel.teleport")

        // Wrong types and ranges name the field.
        let wrongType = try await client.call("channel.collect", ["channel": 33, "max_digits": "ten"])
        #expect(wrongType.errorCode == -32602)
        #expect(wrongType["error"]?["data"]?["field"] == "max_digits")
        let outOfRange = try await client.call("channel.hangup", ["channel": 33, "cause": 300])
        #expect(outOfRange.errorCode == -32602)
        #expect(outOfRange["error"]?["data"]?["field"] == "cause")
        let both = try await client.call("channel.answer", ["channel": 33, "call_id": "x"])
        #expect(both.errorCode == -32602)
        let positional = try await client.call("channel.answer", [33])
        #expect(positional.errorCode == -32602)

        // Forbidden verb: the missing permission is named.
        let forbidden = try await client.call("channel.snoop", ["channel": 33, "spy": "both"])
        #expect(forbidden.errorCode == -32004)
        #expect(forbidden["error"]?["data"]?["permission"] == "supervise")
        #expect(forbidden["error"]?["message"]?.stringValue?.contains("supervise") == true)

        // The backend's own errors come through with their codes.
        let missing = try await client.call("channel.answer", ["call_id": "nope"])
        #expect(missing.errorCode == -32010)

        // Still usable after all that.
        #expect(try await client.call("ping")["result"]?["pong"] == true)
        #expect(!client.isClosed)

        let audit = try server.auditRecords()
        #expect(audit.contains { $0["event"] == "denied" && $0["permission"] == "supervise" && $0["method"] == "channel.snoop" })
        SchemaCheck.expectValid(client.allReceivedLines, kind: "server")
        await client.close()
    }

    @Test("a line over the limit is answered with the reason, then the connection is closed")
    func overLimitLineCloses() async throws {
        let server = try await TestServer.start { $0.maximumLineBytes = 4096 }
        defer { Task { await server.stop() } }
        let client = try await server.connect()
        try await client.login(TestServer.agentToken)
        let long = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"pad\":\"" + String(repeating: "x", count: 5000) + "\"}}\n"
        try await client.sendRaw(Array(long.utf8))
        let error = try #require(try await client.next())
        #expect(error.errorCode == -32020)
        #expect(error["error"]?["data"]?["limit"] == 4096)
        #expect(try await client.next() == nil)
        #expect(client.isClosed)
        // The server itself is fine.
        let other = try await server.connect()
        #expect(try await other.call("ping")["result"] != nil)
        SchemaCheck.expectValid(client.allReceivedLines, kind: "server")
        await other.close()
    }

    @Test("a line exactly at the limit is accepted")
    func lineAtTheLimit() async throws {
        let server = try await TestServer.start { $0.maximumLineBytes = 4096 }
        defer { Task { await server.stop() } }
        let client = try await server.connect()
        let head = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"pad\":\""
        let tail = "\"}}"
        let line = head + String(repeating: "y", count: 4096 - head.utf8.count - tail.utf8.count) + tail
        #expect(line.utf8.count == 4096)
        try await client.sendRaw(Array((line + "\r\n").utf8))
        #expect(try await client.next()?["result"]?["pong"] == true)
        await client.close()
    }

    @Test("failed logins are logged and, past the allowance, refused without checking the token")
    func failedLoginsAreRateLimited() async throws {
        let server = try await TestServer.start {
            $0.loginFailuresAllowed = 3
            $0.loginFailureWindowMilliseconds = 60_000
        }
        defer { Task { await server.stop() } }
        let client = try await server.connect()
        for _ in 0..<3 {
            #expect(try await client.login("wrong").errorCode == -32002)
        }
        let refused = try await client.login(TestServer.agentToken)
        #expect(refused.errorCode == -32003)
        #expect((refused["error"]?["data"]?["retry_after_ms"]?.intValue ?? 0) > 0)
        // Another connection from the same address is refused too.
        let second = try await server.connect()
        #expect(try await second.login(TestServer.agentToken).errorCode == -32003)

        let audit = try server.auditRecords()
        #expect(audit.filter { $0["event"] == "login_failed" }.count == 3)
        #expect(audit.filter { $0["event"] == "login_refused" }.count == 2)
        #expect(!audit.contains { $0["event"] == "login" })
        await client.close()
        await second.close()
    }

    @Test("wrong protocol version and logging in twice are refused")
    func versionAndDoubleLogin() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try await server.connect()
        let wrongVersion = try await client.call("session.login", ["token": .string(TestServer.agentToken), "version": 9, "client": "x"])
        #expect(wrongVersion.errorCode == -32006)
        #expect(wrongVersion["error"]?["data"]?["supported"] == [1])
        try await client.login(TestServer.agentToken)
        #expect(try await client.login(TestServer.agentToken).errorCode == -32007)
        await client.close()
    }

    @Test("a scoped token acts only on its spans and sees only their calls")
    func scopes() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let onSpan2 = await server.backend.offer(channel: 33, ani: "13800138000", dnis: "95500")
        let onSpan1 = await server.backend.offer(channel: 2, ani: "13800138001", dnis: "95501")
        let client = try await server.connect()
        try await client.login(TestServer.scopedToken)
        #expect(try await client.call("channel.answer", ["call_id": .string(onSpan2)])["result"] != nil)
        let outside = try await client.call("channel.answer", ["call_id": .string(onSpan1)])
        #expect(outside.errorCode == -32005)
        #expect(outside["error"]?["data"]?["span"] == 1)
        let snapshot = try #require(try await client.call("state.snapshot")["result"])
        #expect(snapshot["calls"]?.arrayValue?.map { $0["call_id"] } == [.string(onSpan2)])
        #expect(snapshot["spans"]?.arrayValue?.map { $0["span"] } == [2])
        let claim = try await client.call("calls.claim", ["spans": [1]])
        #expect(claim.errorCode == -32005)
        let audit = try server.auditRecords()
        #expect(audit.contains { $0["event"] == "denied" && $0["reason"] == "scope" && $0["method"] == "channel.answer" })
        SchemaCheck.expectValid(client.allReceivedLines, kind: "server")
        await client.close()
    }

    @Test("snoop and force release are audited with who did it")
    func supervisionIsAudited() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let callID = await server.backend.offer(channel: 40, ani: "13800138000", dnis: "95500")
        let client = try await server.connect()
        try await client.login(TestServer.supervisorToken, client: "qa-desk")
        let snoop = try #require(try await client.call("channel.snoop", ["call_id": .string(callID), "spy": "both", "whisper": "in"])["result"])
        #expect(snoop["snoop_id"]?.stringValue?.isEmpty == false)
        #expect(try await client.call("channel.force_release", ["call_id": .string(callID)])["result"] != nil)
        let audit = try server.auditRecords()
        let snoopRecord = try #require(audit.first { $0["event"] == "snoop" })
        #expect(snoopRecord["token"] == "supervisor")
        #expect(snoopRecord["client"] == "qa-desk")
        #expect(snoopRecord["call_id"] == .string(callID))
        #expect(snoopRecord["spy"] == "both" && snoopRecord["whisper"] == "in")
        #expect(audit.contains { $0["event"] == "force_release" && $0["call_id"] == .string(callID) })
        await client.close()
    }

    @Test("an idle session is told why and closed")
    func idleTimeout() async throws {
        let server = try await TestServer.start { $0.idleTimeoutMilliseconds = 300 }
        defer { Task { await server.stop() } }
        let client = try await server.connect()
        try await client.login(TestServer.agentToken)
        let notice = try #require(try await client.next(timeout: .seconds(5)))
        #expect(notice["method"] == "session.closed")
        #expect(notice["params"]?["reason"] == "idle_timeout")
        #expect(try await client.next(timeout: .seconds(5)) == nil)
        SchemaCheck.expectValid(client.allReceivedLines, kind: "server")
    }

    @Test("over the Unix socket the session carries the peer's uid from SO_PEERCRED")
    func unixSocketPeerCredentials() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try await TestClient.connect(.unix(server.unixPath))
        #expect(try await client.next()?["method"] == "session.greeting")
        let result = try #require(try await client.login(TestServer.agentToken)["result"])
        #expect(result["uid"]?.intValue == Int64(getuid()))
        #expect(result["peer"]?.stringValue?.hasPrefix("unix:") == true)
        let audit = try server.auditRecords()
        #expect(audit.contains { $0["event"] == "login" && $0["uid"]?.intValue == Int64(getuid()) })
        // The socket file carries the configured mode.
        let attributes = try FileManager.default.attributesOfItem(atPath: server.unixPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        await client.close()
    }

    @Test("a token bound to a uid is refused over TCP")
    func uidBoundToken() async throws {
        let server = try await TestServer.start {
            $0.tokens.append(.init(secret: "local-only", name: "local", permissions: [.call], requiredUID: getuid()))
        }
        defer { Task { await server.stop() } }
        let tcp = try await server.connect()
        #expect(try await tcp.login("local-only").errorCode == -32002)
        let unix = try await TestClient.connect(.unix(server.unixPath))
        _ = try await unix.next()
        #expect(try await unix.login("local-only")["result"]?["token"] == "local")
        await tcp.close()
        await unix.close()
    }

    @Test("the session list needs admin; disconnect tells the backend the session ended")
    func sessionListAndEnd() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let agent = try await server.connect()
        let agentSession = try #require(try await agent.login(TestServer.agentToken)["result"]?["session_id"]?.stringValue)
        #expect(try await agent.call("sessions.list").errorCode == -32004)
        let admin = try await server.connect()
        try await admin.login(TestServer.adminToken)
        let list = try #require(try await admin.call("sessions.list")["result"]?["sessions"]?.arrayValue)
        #expect(list.count == 2)
        // admin implies every permission.
        #expect(try await admin.call("calls.claim", ["dnis": "955XX"])["result"]?["claim_id"] != nil)
        await agent.close()
        for _ in 0..<200 where !(await server.backend.endedSessions.contains(agentSession)) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await server.backend.endedSessions.contains(agentSession))
        await admin.close()
    }
}

@Suite("CTI span status")
struct SpanStatusTests {
    @Test("span.status answers from the backend, immediately or through perform, filtered by scope")
    func spanStatus() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try await server.connect()
        try await client.login(TestServer.agentToken)
        let all = try #require(try await client.call("span.status")["result"]?["spans"]?.arrayValue)
        #expect(all.map { $0["span"] } == [1, 2, 3, 4])
        #expect(all[0]["dchannel"] == "up" && all[2]["dchannel"] == .null)
        let one = try #require(try await client.call("span.status", ["span": 3])["result"]?["spans"]?.arrayValue)
        #expect(one.map { $0["kind"] } == ["fxs"])
        #expect(try await client.call("span.status", ["span": 9]).errorCode == -32010)
        #expect(try await client.call("span.status", ["span": 0]).errorCode == -32602)
        let scoped = try await server.connect()
        try await scoped.login(TestServer.scopedToken)
        let visible = try #require(try await scoped.call("span.status")["result"]?["spans"]?.arrayValue)
        #expect(visible.map { $0["span"] } == [2])
        SchemaCheck.expectValid(client.allReceivedLines, kind: "server")
        await client.close()
        await scoped.close()
    }
}

@Suite("CTI server lifecycle")
struct ServerLifecycleTests {
    @Test("run() serves until cancelled, then closes its connections and removes its Unix socket")
    func runUntilCancelled() async throws {
        let folder = try TestServer.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = CTIConfiguration()
        configuration.listeners = [.unix(path: folder + "/run.sock")]
        configuration.tokens = [.init(secret: "t", name: "t", permissions: [.call])]
        let hub = CTIEventHub(configuration: configuration)
        let server = try CTIServer(configuration: configuration, backend: InMemoryBackend(hub: hub), hub: hub, logger: .init(label: "cti-test"))
        let running = Task { try await server.run() }
        var client: TestClient?
        for _ in 0..<500 where client == nil {
            client = try? await TestClient.connect(.unix(folder + "/run.sock"))
            if client == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let connected = try #require(client)
        #expect(try await connected.next()?["method"] == "session.greeting")
        #expect(try await connected.login("t")["result"] != nil)
        running.cancel()
        try await running.value
        #expect(try await connected.next(timeout: .seconds(5)) == nil)
        #expect(!FileManager.default.fileExists(atPath: folder + "/run.sock"))
    }
}
