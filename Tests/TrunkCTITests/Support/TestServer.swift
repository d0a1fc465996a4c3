#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOCore
import Testing
@testable import TrunkCTI

/// A CTI server on real sockets (TCP on an ephemeral loopback port and a Unix socket in a fresh
/// temporary folder), with the in-memory backend and an audit file in the same folder.
struct TestServer {
    static let agentToken = "agent-secret"
    static let supervisorToken = "supervisor-secret"
    static let viewerToken = "viewer-secret"
    static let scopedToken = "span2-secret"
    static let adminToken = "admin-secret"

    let server: CTIServer
    let hub: CTIEventHub
    let backend: InMemoryBackend
    let folder: String
    let port: Int
    let unixPath: String
    var auditPath: String { folder + "/audit.jsonl" }

    static func start(ringCapacity: Int = 4096, configure: (inout CTIConfiguration) -> Void = { _ in }) async throws -> TestServer {
        let folder = try makeTemporaryFolder()
        var configuration = CTIConfiguration()
        configuration.listeners = [.tcp(port: 0), .unix(path: folder + "/cti.sock", mode: 0o600)]
        configuration.auditLogPath = folder + "/audit.jsonl"
        configuration.tokens = [
            .init(secret: agentToken, name: "agent", permissions: [.call, .media, .record]),
            .init(secret: supervisorToken, name: "supervisor", permissions: [.call, .media, .supervise]),
            .init(secret: viewerToken, name: "viewer", permissions: []),
            .init(secret: scopedToken, name: "span2-agent", permissions: [.call, .media], scope: CTIScope(spans: [2])),
            .init(secret: adminToken, name: "admin", permissions: [.admin]),
        ]
        configure(&configuration)
        let hub = CTIEventHub(capacity: ringCapacity)
        let backend = InMemoryBackend(hub: hub)
        var logger = Logger(label: "cti-test")
        logger.logLevel = .critical
        let server = try CTIServer(configuration: configuration, backend: backend, hub: hub, logger: logger)
        let addresses = try await server.start()
        return TestServer(
            server: server, hub: hub, backend: backend, folder: folder, port: addresses[0].port!,
            unixPath: folder + "/cti.sock")
    }

    func connect(startPaused: Bool = false, receiveBuffer: Int? = nil) async throws -> TestClient {
        let client = try await TestClient.connect(.tcp(port), startPaused: startPaused, receiveBuffer: receiveBuffer)
        if !startPaused {
            let greeting = try await client.next(waitingFor: "the greeting")
            #expect(greeting?["method"] == "session.greeting")
        }
        return client
    }

    func stop() async {
        await server.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    func auditRecords() throws -> [JSONValue] {
        let text = try String(contentsOfFile: auditPath, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    static func makeTemporaryFolder() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/trunkcti-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        return String(cString: made)
    }
}

/// Checks messages against docs/cti-schema.json with Python's jsonschema (Draft 2020-12):
/// an implementation the project did not write, so our messages and our schema cannot agree by
/// sharing a bug.
enum SchemaCheck {
    static let schemaPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/cti-schema.json").path

    /// Records an issue for each message that does not validate.
    static func expectValid(_ lines: [String], kind: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            for problem in try problems(lines, kind: kind) {
                Issue.record("schema: \(problem)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("schema check could not run: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// `kind`: "server" (anything the server sends) or "client" (requests). Returns one line per
    /// invalid message (empty when all are valid).
    static func problems(_ lines: [String], kind: String) throws -> [String] {
        let folder = try TestServer.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/messages.jsonl"
        try lines.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let script = """
            import json, sys
            from jsonschema import Draft202012Validator
            schema = json.load(open(sys.argv[1]))
            ref = {"server": "#/$defs/server_message", "client": "#/$defs/client_request"}[sys.argv[3]]
            validator = Draft202012Validator({"$ref": ref, "$defs": schema["$defs"]})
            bad = 0
            for number, line in enumerate(open(sys.argv[2]), 1):
                line = line.strip()
                if not line:
                    continue
                errors = sorted(validator.iter_errors(json.loads(line)), key=lambda e: e.path)
                if errors:
                    bad += 1
                    print(f"line {number}: {errors[0].message} at {list(errors[0].absolute_path)}: {line[:300]}")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, schemaPath, input, kind]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        var problems = text.split(separator: "\n").map(String.init)
        if process.terminationStatus != 0 { problems.append("python3 exited with \(process.terminationStatus)") }
        return problems
    }
}
