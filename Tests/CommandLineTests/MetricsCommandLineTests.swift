#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

@Suite("Prometheus endpoint, run as built", .serialized)
struct MetricsCommandLineTests {
    /// GET over a plain TCP socket, the way a scraper does; returns the whole response.
    static func get(port: Int, path: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        return String(decoding: response, as: UTF8.self)
    }

    static func waitForEndpoint(port: Int) -> String? {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let response = try? get(port: port, path: "/metrics"), response.hasPrefix("HTTP/1.1 200") { return response }
            usleep(100_000)
        }
        return nil
    }

    /// Checks the text format line by line; returns samples by their full name{labels}.
    static func parseExposition(_ body: String) -> [String: Double] {
        let sample = #/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*")*\})? (-?[0-9.e+]+|NaN|[+-]Inf)$/#
        var declared: [String: String] = [:]
        var helped = Set<String>()
        var samples: [String: Double] = [:]
        for line in body.split(separator: "\n") {
            if line.hasPrefix("# HELP ") {
                let name = String(line.dropFirst(7).split(separator: " ")[0])
                #expect(helped.insert(name).inserted, "HELP for \(name) twice")
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                #expect(parts.count == 2 && ["gauge", "counter"].contains(String(parts[1])), "bad TYPE line: \(line)")
                #expect(declared[String(parts[0])] == nil, "TYPE for \(parts[0]) twice")
                declared[String(parts[0])] = String(parts[1])
            } else if let match = line.wholeMatch(of: sample) {
                let name = String(match.1)
                #expect(declared[name] != nil, "sample \(name) before its TYPE")
                if declared[name] == "counter" { #expect(name.hasSuffix("_total"), "counter \(name) without _total") }
                samples[name + String(match.2 ?? "")] = Double(match.3)
            } else {
                Issue.record("not Prometheus text: \(line)")
            }
        }
        #expect(helped == Set(declared.keys), "every family has HELP and TYPE")
        return samples
    }

    @Test("GET /metrics on loopback returns valid Prometheus text with span alarms, channels, calls, D-channels and tick lateness")
    func scrape() throws {
        let data = temporaryDataFolder()
        let port = 20_000 + Int.random(in: 0..<20_000)
        let trunkd = try Daemon("trunkd", ["--data", data, "--metrics-port", "\(port)"])
        defer { trunkd.stop() }
        try waitUntilAnswering(["--data", data])
        // Wait until both D-channels are up before calling.
        let deadline = Date().addingTimeInterval(10)
        var samples: [String: Double] = [:]
        while Date() < deadline {
            guard let response = Self.waitForEndpoint(port: port) else { break }
            samples = Self.parseExposition(String(response.split(separator: "\r\n\r\n", maxSplits: 1)[1]))
            if samples[#"trunkline_dchannel_up{span="2"}"#] == 1 && samples[#"trunkline_dchannel_up{span="1"}"#] == 1 { break }
            usleep(200_000)
        }
        #expect(samples[#"trunkline_dchannel_up{span="1"}"#] == 1 && samples[#"trunkline_dchannel_up{span="2"}"#] == 1)

        #expect(try run("trunkctl", ["--data", data, "pri", "call", "1", "95500", "--from", "13800138000"]).status == 0)
        #expect(try run("trunkctl", ["--data", data, "sim", "impair", "2", "--slip-every", "100"]).status == 0)
        usleep(600_000)
        let response = try #require(Self.waitForEndpoint(port: port))
        #expect(response.contains("Content-Type: text/plain; version=0.0.4"))
        let body = String(response.split(separator: "\r\n\r\n", maxSplits: 1)[1])
        let after = Self.parseExposition(body)
        #expect(after[#"trunkline_span_alarm{span="1",alarm="RED"}"#] == 0)
        // No CTI client claims it: the built-in flow has answered it (it lasts several seconds).
        #expect(after[#"trunkline_calls_active{state="up"}"#] == 1, "the call is up on span 2")
        #expect(after[#"trunkline_channels{span="2",state="connected"}"#] == 1)
        #expect(after[#"trunkline_channels{span="2",state="idle"}"#] == 29)
        #expect(after[#"trunkline_channels{span="4",state="on-hook"}"#] == 4)
        #expect((after[#"trunkline_span_errors_total{span="2",counter="slips"}"#] ?? 0) >= 3)
        #expect((after["trunkline_media_ticks_total"] ?? 0) > 500)
        #expect(after[#"trunkline_media_tick_lateness_bound_microseconds{quantile="0.99"}"#] != nil)
        #expect(after["trunkline_sync_source"] == 2)

        // An analog call through the flow: its echo canceller's ERLE and the recorder's queue are series too.
        #expect(try run("trunkctl", ["--data", data, "sim", "call", "95500", "--from", "13800138000", "--span", "3", "--port", "1"]).status == 0)
        var analog: [String: Double] = [:]
        let analogDeadline = Date().addingTimeInterval(15)
        while !analog.keys.contains(where: { $0.hasPrefix("trunkline_echo_erle_db{") }) && Date() < analogDeadline {
            usleep(200_000)
            analog = Self.parseExposition(String(try #require(Self.waitForEndpoint(port: port)).split(separator: "\r\n\r\n", maxSplits: 1)[1]))
        }
        #expect(analog.keys.contains { $0.hasPrefix("trunkline_echo_erle_db{") && $0.contains(#"span="4""#) }, "\(analog.keys.sorted())")
        #expect(analog["trunkline_recording_queue_frames"] != nil && analog["trunkline_recordings_active"] != nil)
        #expect(analog["trunkline_recording_dropped_frames"] == 0)

        #expect(try run("trunkctl", ["--data", data, "sim", "cut", "1"]).status == 0)
        usleep(300_000)
        let cut = Self.parseExposition(String(try #require(Self.waitForEndpoint(port: port)).split(separator: "\r\n\r\n", maxSplits: 1)[1]))
        #expect(cut[#"trunkline_span_alarm{span="1",alarm="RED"}"#] == 1 && cut[#"trunkline_span_alarm{span="2",alarm="YELLOW"}"#] == 1)
        #expect((cut[#"trunkline_alarms_active{severity="urgent"}"#] ?? 0) >= 3)

        #expect(try Self.get(port: port, path: "/").hasPrefix("HTTP/1.1 404"))
    }
}
