import Testing
@testable import TrunkCTI

/// Randomised input with a fixed seed and a time bound: mutated requests into the parser and
/// verb validation directly, and over a real socket into a running server, which must answer
/// every line (an error is fine) and keep serving.
@Suite("CTI fuzzing", .serialized)
struct FuzzTests {
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let corpus: [String] = [
        #"{"jsonrpc":"2.0","id":1,"method":"session.login","params":{"token":"agent-secret","version":1,"client":"fuzz"}}"#,
        ##"{"jsonrpc":"2.0","id":2,"method":"channel.collect","params":{"call_id":"in-1","max_digits":4,"term_digits":"#","first_timeout_ms":5000}}"##,
        #"{"jsonrpc":"2.0","id":"x","method":"channel.play","params":{"channel":33,"files":["a","b"],"barge_in":true}}"#,
        #"{"jsonrpc":"2.0","id":3,"method":"events.subscribe","params":{"types":["bridge.*"],"chans":[1,2],"since_seq":0}}"#,
        #"{"jsonrpc":"2.0","id":4,"method":"channel.originate","params":{"channel":1,"number":"95500","caller_id":"\u0031"}}"#,
        #"{"jsonrpc":"2.0","id":5,"method":"channel.snoop","params":{"channel":40,"spy":"both","whisper":"in"}}"#,
        #"{"jsonrpc":"2.0","id":6,"method":"calls.claim","params":{"dnis":"955[0-3]X.","spans":[2]}}"#,
        #"{"jsonrpc":"2.0","id":7,"method":"channel.transfer","params":{"call_id":"a","mode":"attended","consult_call_id":"b"}}"#,
        #"{"jsonrpc":"2.0","id":8,"method":"ping"}"#,
    ]

    static let interesting: [[UInt8]] = [
        Array("{".utf8), Array("}".utf8), Array("[".utf8), Array("\"".utf8), Array("\\u".utf8), Array("\\ud800".utf8),
        Array("1e308".utf8), Array("-0".utf8), Array("null".utf8), Array("9999999999999999999999".utf8), [0xFF], [0xC3], [0x00],
        Array(",".utf8), Array(":".utf8), Array("\r".utf8),
    ]

    static func mutate(_ input: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 1:
                bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
            case 2 where !bytes.isEmpty:
                bytes.removeSubrange(Int.random(in: 0..<bytes.count, using: &rng)...)
            case 3:
                let piece = interesting.randomElement(using: &rng)!
                bytes.insert(contentsOf: piece, at: Int.random(in: 0...bytes.count, using: &rng))
            case 4:
                let other = Array(corpus.randomElement(using: &rng)!.utf8)
                let cut = Int.random(in: 0...other.count, using: &rng)
                let at = Int.random(in: 0...bytes.count, using: &rng)
                bytes = Array(bytes[..<at]) + Array(other[cut...])
            default:
                if let index = bytes.indices.randomElement(using: &rng), bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                    bytes.insert(contentsOf: Array("00000000000".utf8), at: index)
                }
            }
        }
        return bytes
    }

    @Test("mutated requests never crash the parser or verb validation")
    func parserFuzz() async {
        var rng = SplitMix64(state: 0x7124_11AE)
        let deadline = ContinuousClock.now + .seconds(5)
        var iterations = 0
        var parsed = 0
        while iterations < 200_000 && ContinuousClock.now < deadline {
            iterations += 1
            // CPU-bound: let the other tests' tasks (and servers' backends) run on the shared pool.
            if iterations % 500 == 0 { await Task.yield() }
            let input = Self.mutate(Array(Self.corpus.randomElement(using: &rng)!.utf8), using: &rng)
            guard let value = try? JSONParser.parse(input) else { continue }
            parsed += 1
            // Whatever parses must serialise and parse back to itself.
            #expect((try? JSONParser.parse(value.serialized)) == value)
            if let name = value["method"]?.stringValue, let method = CTIMethod(rawValue: name) {
                var ids = CTIIdentifierSource(session: "f")
                _ = try? CTIRequest.parse(method, try CTIParams(value["params"]), ids: &ids)
            }
        }
        #expect(iterations > 1_000)
        #expect(parsed > 0)
    }

    @Test("mutated lines over a socket each get an answer and the server keeps serving")
    func socketFuzz() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        await server.backend.offer(channel: 33, ani: "1", dnis: "2")
        var rng = SplitMix64(state: 0xC71_F022)
        let client = try await server.connect()
        try await client.login(TestServer.supervisorToken)
        let deadline = ContinuousClock.now + .seconds(6)
        var lines = 0
        while lines < 3_000 && ContinuousClock.now < deadline {
            var bytes = Self.mutate(Array(Self.corpus.randomElement(using: &rng)!.utf8), using: &rng)
            // One request per line: a newline inside would make two lines, so it is replaced.
            bytes = bytes.map { $0 == UInt8(ascii: "\n") ? UInt8(ascii: " ") : $0 }
            // A mutated login would end the session's privileges test; keep the session as it is.
            if String(decoding: bytes, as: UTF8.self).contains("session.logout") { continue }
            try await client.sendRaw(bytes + [UInt8(ascii: "\n")])
            lines += 1
            // Every line is answered: a response (result or error) or, for subscribe, events may come first.
            var answered = false
            while !answered {
                guard let reply = try await client.next(timeout: .seconds(10), waitingFor: "the answer to a fuzzed line") else {
                    Issue.record("the server closed the connection after: \(String(decoding: bytes, as: UTF8.self))")
                    return
                }
                answered = reply["method"] == nil
            }
        }
        #expect(lines > 100)
        #expect(try await client.call("ping")["result"]?["pong"] == true)
        let other = try await server.connect()
        #expect(try await other.call("ping")["result"]?["pong"] == true)
        SchemaCheck.expectValid(client.allReceivedLines, kind: "server")
        await client.close()
        await other.close()
    }
}
