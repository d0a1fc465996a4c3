import Foundation
import Testing

/// The CTI socket over TLS from a configuration file, through a real trunkd: a client logs in
/// over TLS with the certificate trunkd was given, and a key that does not belong to the
/// certificate stops trunkd at start, naming the key file.
@Suite("CTI over TLS through trunkd", .serialized)
struct CTITLSCommandLineTests {
    static let token = "tls-through-trunkd-0123"

    /// A lab configuration with a TLS listener on `port`, the certificate and `key`.
    static func configuration(folder: String, port: Int, key: String) -> String {
        """
        [[span]]
        span = 1
        backend = "virtual"
        signalling = "pri_net"
        [[span]]
        span = 2
        backend = "virtual"
        timing = 1

        [cti]
        unix = "\(folder)/cti.sock"
        tls = "127.0.0.1:\(port)"
        tls_cert = "\(folder)/cert.pem"
        tls_key = "\(key)"

        [[cti.token]]
        name = "tls-client"
        token = "\(token)"
        permissions = ["call"]
        """
    }

    static func makeCertificate(in folder: String) throws {
        for arguments in [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", folder + "/key.pem", "-out", folder + "/cert.pem"],
            ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", folder + "/other-key.pem"],
        ] {
            let result = try run("/usr/bin/openssl", arguments, absolute: true)
            #expect(result.status == 0, "openssl \(arguments.joined(separator: " ")): \(result.stderr)")
        }
    }

    @Test("a client logs in over TLS 1.3 on the configured port")
    func loginOverTLS() throws {
        let data = temporaryDataFolder()
        try Self.makeCertificate(in: data)
        let port = Int.random(in: 30_000...45_000)
        let file = data + "/tls.toml"
        try Self.configuration(folder: data, port: port, key: data + "/key.pem").write(toFile: file, atomically: true, encoding: .utf8)
        let trunkd = try Daemon("trunkd", ["--data", data, "--config", file])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        var output = ""
        for _ in 0..<50 {
            output = try run("/usr/bin/python3", ["-c", Self.client, data + "/cert.pem", String(port), Self.token], absolute: true).stdout
            if output.contains("login ok") { break }
            usleep(100_000)
        }
        #expect(output.contains("TLSv1.3"), "\(output)")
        #expect(output.contains("login ok tls-client"), "\(output)")
    }

    @Test("a key that does not belong to the certificate stops trunkd, naming the key file")
    func mismatchedKeyStopsTrunkd() throws {
        let data = temporaryDataFolder()
        try Self.makeCertificate(in: data)
        let file = data + "/tls.toml"
        try Self.configuration(folder: data, port: Int.random(in: 30_000...45_000), key: data + "/other-key.pem")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let result = try run("trunkd", ["--data", data, "--config", file], timeout: 30)
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(data)/other-key.pem: this private key does not match the certificate in \(data)/cert.pem"), "\(result.stderr)")
        #expect(result.stderr.contains("tls.toml [cti] tls"), "\(result.stderr)")
    }

    /// argv: CA file, port, token.
    static let client = #"""
    import json, socket, ssl, sys
    ca, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ctx = ssl.create_default_context(cafile=ca)
    try:
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="localhost")
    except OSError as e:
        print("connect failed", e); sys.exit(0)
    f = s.makefile("rwb")
    f.readline()
    f.write((json.dumps({"jsonrpc": "2.0", "id": 1, "method": "session.login", "params": {"token": token, "version": 1, "client": "py"}}) + "\n").encode()); f.flush()
    r = json.loads(f.readline())
    print(s.version(), "login ok" if "result" in r else "login error", r.get("result", {}).get("token", r.get("error")))
    """#
}
