#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing
import TrunkCTI
import TrunkCTITLS

/// TLS listeners of the CTI socket, with certificates made by the openssl CLI at test time and
/// real clients: Python's `ssl` module (OpenSSL, not our BoringSSL) logs in over TLS 1.3 and
/// 1.2, a plain-text client on the TLS port gets nothing and is closed, and bad files are
/// refused with the file and the problem named.
@Suite(.serialized)
struct CTITLSTests {
    static let token = "tls-test-token-0123456789"

    // MARK: logging in over TLS

    @Test func clientLogsInOverTLS13AndPings() async throws {
        let pki = try TestPKI.make()
        let server = try await Self.startServer(pki.files)
        defer { Task { await server.server.stop() } }
        let output = try Self.python(Self.tlsClient, [pki.certificate, String(server.port), Self.token, "default"])
        #expect(output.contains("version TLSv1.3"), "expected TLS 1.3 by default, got: \(output)")
        #expect(output.contains("greeting trunkline-cti"), "no greeting over TLS: \(output)")
        #expect(output.contains("login ok tls-client"), "login over TLS failed: \(output)")
        #expect(output.contains("ping ok"), "ping over TLS failed: \(output)")
    }

    @Test func tls12ClientIsAccepted() async throws {
        let pki = try TestPKI.make()
        let server = try await Self.startServer(pki.files)
        defer { Task { await server.server.stop() } }
        let output = try Self.python(Self.tlsClient, [pki.certificate, String(server.port), Self.token, "tls12"])
        #expect(output.contains("version TLSv1.2"), "a TLS 1.2 client should be served with 1.2: \(output)")
        #expect(output.contains("login ok tls-client"), "login over TLS 1.2 failed: \(output)")
    }

    @Test func tls11ClientIsRefused() async throws {
        let pki = try TestPKI.make()
        let server = try await Self.startServer(pki.files)
        defer { Task { await server.server.stop() } }
        let output = try Self.python(Self.tlsClient, [pki.certificate, String(server.port), Self.token, "tls11"])
        #expect(output.contains("handshake failed"), "TLS 1.1 must not be negotiated: \(output)")
        #expect(!output.contains("login ok"))
    }

    @Test func plainTextClientOnTLSPortFailsCleanly() async throws {
        let pki = try TestPKI.make()
        let server = try await Self.startServer(pki.files)
        defer { Task { await server.server.stop() } }
        let output = try Self.python(Self.plainClient, [String(server.port), Self.token])
        // No greeting in clear text, no JSON answer; the server closes the connection (after a
        // TLS alert at most) rather than leaving the client hanging.
        #expect(output.contains("closed"), "the server should close a plain-text client: \(output)")
        #expect(!output.contains("trunkline-cti"), "plain text must never be answered in plain text: \(output)")
        #expect(!output.contains("timeout"), "the plain client was left hanging: \(output)")
        // And the listener goes on serving TLS clients.
        let after = try Self.python(Self.tlsClient, [pki.certificate, String(server.port), Self.token, "default"])
        #expect(after.contains("login ok tls-client"), "TLS login after a plain client failed: \(after)")
    }

    // MARK: files refused

    @Test func missingCertificateIsNamed() throws {
        let pki = try TestPKI.make()
        let missing = pki.folder + "/absent.pem"
        let error = try #require(Self.loadError(CTITLSFiles(certificatePath: missing, privateKeyPath: pki.key)))
        #expect(error.path == missing)
        #expect(error.problem.contains("no such file"), "\(error)")
        #expect(error.problem.contains("certificate"), "\(error)")
    }

    @Test func directoryInsteadOfKeyIsRefused() throws {
        let pki = try TestPKI.make()
        let error = try #require(Self.loadError(CTITLSFiles(certificatePath: pki.certificate, privateKeyPath: pki.folder)))
        #expect(error.path == pki.folder)
        #expect(error.problem.contains("regular file"), "\(error)")
    }

    @Test func keyGivenAsCertificateIsRefused() throws {
        let pki = try TestPKI.make()
        let error = try #require(Self.loadError(CTITLSFiles(certificatePath: pki.key, privateKeyPath: pki.key)))
        #expect(error.path == pki.key)
        #expect(error.problem.contains("not a PEM certificate"), "\(error)")
        #expect(error.problem.contains("holds a private key"), "\(error)")
    }

    @Test func certificateGivenAsKeyIsRefused() throws {
        let pki = try TestPKI.make()
        let error = try #require(Self.loadError(CTITLSFiles(certificatePath: pki.certificate, privateKeyPath: pki.certificate)))
        #expect(error.path == pki.certificate)
        #expect(error.problem.contains("not a PEM private key"), "\(error)")
        #expect(error.problem.contains("holds a certificate"), "\(error)")
    }

    @Test func keyOfAnotherCertificateIsRefused() throws {
        let pki = try TestPKI.make()
        let error = try #require(Self.loadError(CTITLSFiles(certificatePath: pki.certificate, privateKeyPath: pki.otherKey)))
        #expect(error.path == pki.otherKey)
        #expect(error.problem.contains("does not match the certificate in \(pki.certificate)"), "\(error)")
    }

    @Test func encryptedKeyIsRefusedWithAHint() throws {
        let pki = try TestPKI.make()
        let error = try #require(Self.loadError(CTITLSFiles(certificatePath: pki.certificate, privateKeyPath: pki.encryptedKey)))
        #expect(error.path == pki.encryptedKey)
        #expect(error.problem.contains("encrypted"), "\(error)")
    }

    @Test func serverWithBadTLSFilesDoesNotStart() async throws {
        let pki = try TestPKI.make()
        var thrown: (any Error)?
        do {
            let server = try await Self.startServer(CTITLSFiles(certificatePath: pki.certificate, privateKeyPath: pki.otherKey))
            await server.server.stop()
        } catch {
            thrown = error
        }
        let error = try #require(thrown as? CTITLSError, "expected a CTITLSError, got \(String(describing: thrown))")
        #expect(error.path == pki.otherKey)
    }

    @Test func tlsListenerWithoutLoaderIsRefused() async throws {
        let pki = try TestPKI.make()
        var configuration = CTIConfiguration()
        configuration.listeners = [.tls(host: "127.0.0.1", port: 0, pki.files)]
        let hub = CTIEventHub(capacity: 64)
        let server = try CTIServer(configuration: configuration, backend: PingOnlyBackend(), hub: hub, logger: Self.quietLogger)
        await #expect(throws: CTIServerError.self) { try await server.start() }
        await server.stop()
    }

    // MARK: helpers

    struct Running {
        let server: CTIServer
        let port: Int
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "cti-tls-test")
        logger.logLevel = .critical
        return logger
    }

    static func startServer(_ files: CTITLSFiles) async throws -> Running {
        var configuration = CTIConfiguration()
        configuration.listeners = [.tls(host: "127.0.0.1", port: 0, files)]
        configuration.tokens = [.init(secret: token, name: "tls-client", permissions: [.call])]
        configuration.idleTimeoutMilliseconds = 10_000
        let hub = CTIEventHub(capacity: 64)
        let server = try CTIServer(configuration: configuration, backend: PingOnlyBackend(), hub: hub, logger: quietLogger,
                                   tls: CTITLSServerSecurity.loader)
        let addresses = try await server.start()
        return Running(server: server, port: addresses[0].port!)
    }

    static func loadError(_ files: CTITLSFiles) -> CTITLSError? {
        do {
            _ = try CTITLSServerSecurity(files: files)
            return nil
        } catch {
            return error
        }
    }

    /// Runs a Python script (standard library only) and returns what it printed.
    static func python(_ script: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// argv: CA file, port, token, mode (default | tls12 | tls11). Prints one line per step.
    static let tlsClient = #"""
    import json, socket, ssl, sys
    ca, port, token, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ctx = ssl.create_default_context(cafile=ca)
    if mode == "tls12":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if mode == "tls11":
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost")
    except (ssl.SSLError, OSError) as e:
        print("handshake failed", e)
        sys.exit(0)
    print("version", s.version())
    f = s.makefile("rwb")
    def line():
        return json.loads(f.readline())
    g = line()
    print("greeting", g["params"]["protocol"])
    f.write((json.dumps({"jsonrpc": "2.0", "id": 1, "method": "session.login", "params": {"token": token, "version": 1, "client": "py"}}) + "\n").encode()); f.flush()
    r = line()
    print("login ok" if "result" in r else "login error", r.get("result", {}).get("token", r.get("error")))
    f.write(b'{"jsonrpc":"2.0","id":2,"method":"ping"}\n'); f.flush()
    r = line()
    print("ping ok" if r.get("id") == 2 and "result" in r else "ping error", r)
    """#

    /// argv: port, token. Speaks clear text to the TLS port; prints what came back and how it ended.
    static let plainClient = #"""
    import socket, sys
    port, token = int(sys.argv[1]), sys.argv[2]
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(('{"jsonrpc":"2.0","id":1,"method":"session.login","params":{"token":"%s","version":1,"client":"plain"}}\n' % token).encode())
    got = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                print("closed after", len(got), "bytes", "tls-alert" if got[:1] == b"\x15" else "", got[:200])
                break
            got += chunk
    except ConnectionResetError:
        print("closed (reset) after", len(got), "bytes", got[:200])
    except socket.timeout:
        print("timeout with", len(got), "bytes", got[:200])
    """#
}

/// Only the protocol layer's own methods are used over TLS here.
struct PingOnlyBackend: CTIBackend {
    func perform(_ request: CTIRequest, session: CTISessionInfo) async throws(CTIBackendError) -> CTIResult {
        throw CTIBackendError(.unavailable, "not in this test")
    }
    func locate(_ target: CTITarget) async throws(CTIBackendError) -> CTILocation { CTILocation(span: 1, channel: 1) }
    func sessionEnded(_ session: CTISessionInfo) async {}
}

/// A self-signed certificate for localhost / 127.0.0.1 and keys made with the openssl CLI in a
/// fresh temporary folder: the certificate's key, another key, and the key encrypted.
struct TestPKI {
    let folder: String
    var certificate: String { folder + "/cert.pem" }
    var key: String { folder + "/key.pem" }
    var otherKey: String { folder + "/other-key.pem" }
    var encryptedKey: String { folder + "/encrypted-key.pem" }
    var files: CTITLSFiles { CTITLSFiles(certificatePath: certificate, privateKeyPath: key) }

    static func make() throws -> TestPKI {
        var template = Array((FileManager.default.temporaryDirectory.path + "/cti-tls-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw CocoaError(.fileWriteUnknown)
        }
        let pki = TestPKI(folder: String(cString: made))
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                     "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                     "-keyout", pki.key, "-out", pki.certificate])
        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", pki.otherKey])
        try openssl(["pkey", "-in", pki.key, "-aes256", "-passout", "pass:secret", "-out", pki.encryptedKey])
        return pki
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments.joined(separator: " ")) failed"])
        }
    }
}
