import Testing
import TrunkCore
@testable import TrunkCTI

/// The pure parts, without sockets: the JSON parser on edge cases, verbs into typed requests,
/// DNIS patterns, event filters, the login rate limiter and the event hub's ring.
@Suite("CTI parsing")
struct ParsingTests {
    @Test("the JSON parser accepts RFC 8259 and rejects what is not")
    func jsonParser() throws {
        #expect(try JSONParser.parse(#"{"a":[1,-2,3.5,1e3,true,false,null,"x\u00e9\ud83d\ude00\n"]}"#)
            == ["a": [1, -2, 3.5, 1000.0, true, false, nil, "xé😀\n"]])
        #expect(try JSONParser.parse(" 9223372036854775807 ") == .int(Int64.max))
        #expect(try JSONParser.parse("92233720368547758080") == .double(92233720368547758080))
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\\ud800\"", "\"\u{01}\"", "nul", "[1] 2", "\"\\x\"", "1e999",
                    "{\"a\":1,}", String(repeating: "[", count: 65) + String(repeating: "]", count: 65)] {
            #expect(throws: JSONParser.SyntaxError.self, "\(bad.prefix(20))") { try JSONParser.parse(bad) }
        }
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        let nested = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try JSONParser.parse(nested) }
    }

    @Test("the writer's output parses back to the same value")
    func writerRoundTrip() throws {
        let value: JSONValue = ["s": "quote\" back\\ ctl\u{01} tab\t 监听", "n": -1234567890123, "d": 0.25, "a": [nil, true, [:]]]
        #expect(try JSONParser.parse(value.serialized) == value)
    }

    private func parse(_ method: CTIMethod, _ params: JSONValue) throws(CTIError) -> CTIRequest? {
        var ids = CTIIdentifierSource(session: "t")
        return try CTIRequest.parse(method, try CTIParams(params), ids: &ids)
    }

    @Test("verbs become typed requests, with generated ids where the client gave none")
    func verbs() throws {
        #expect(try parse(.channelHangup, ["channel": 33]) == .hangup(.channel(33), cause: 16))
        #expect(try parse(.channelOriginate, ["channel": 1, "number": "95500", "caller_id": "13800138000"])
            == .originate(CTIOriginate(route: .channel(1), number: "95500", callerID: "13800138000", timeoutMilliseconds: 30_000, callID: "call-t-1", opID: "op-t-2")))
        #expect(try parse(.channelCollect, ["call_id": "c", "max_digits": 4, "term_digits": "#*", "first_timeout_ms": 0, "op_id": "mine"])
            == .collect(CTICollect(target: .call("c"), maximumDigits: 4, terminatingDigits: "#*", firstTimeoutMilliseconds: 0, interDigitTimeoutMilliseconds: 3_000, opID: "mine")))
        #expect(try parse(.channelSnoop, ["channel": 40, "spy": "in", "whisper": "out", "supervisor_channel": 63])
            == .snoop(CTISnoop(target: .channel(40), spy: .in, whisper: .out, supervisor: .channel(63), snoopID: "snoop-t-1")))
        #expect(try parse(.channelTransfer, ["channel": 40, "mode": "attended", "consult_call_id": "c2"])
            == .transfer(CTITransfer(target: .channel(40), mode: .attended, destination: .consultation(.call("c2")), opID: "op-t-1")))
        #expect(try parse(.callsClaim, ["dnis": "955[0-3]X."]) == .claim(CTIClaim(spans: [], channels: [], dnisPattern: "955[0-3]X.", claimID: "claim-t-1")))
        #expect(try parse(.bridgeCreate, ["calls": ["a", "b"]]) == .bridgeCreate(bridgeID: "bridge-t-1", members: [.call("a"), .call("b")]))
        #expect(try parse(.channelPlay, ["channel": 3, "tones": ["ringback"], "barge_in": true])
            == .play(CTIPlay(target: .channel(3), source: .tones(["ringback"]), bargeIn: true, opID: "op-t-1")))
    }

    struct BadParams: Sendable, CustomTestStringConvertible {
        var method: CTIMethod
        var params: JSONValue
        var field: String
        init(_ method: CTIMethod, _ params: JSONValue, _ field: String) {
            self.method = method
            self.params = params
            self.field = field
        }
        var testDescription: String { "\(method.rawValue) \(params.serialized)" }
    }

    @Test("invalid params name the field", arguments: [
        BadParams(.channelOriginate, ["number": "1"], "trunk_group|channel"),
        BadParams(.channelOriginate, ["channel": 1, "number": "12a"], "number"),
        BadParams(.channelDTMFSend, ["channel": 1, "digits": "12E"], "digits"),
        BadParams(.channelPlay, ["channel": 1, "files": [], "tones": []], "files|tones"),
        BadParams(.channelPlay, ["channel": 1, "files": ["a"], "tones": ["b"]], "files|tones"),
        BadParams(.channelCollect, ["channel": 1, "max_digits": 0], "max_digits"),
        BadParams(.channelCollect, ["channel": 1, "max_digits": 2.5], "max_digits"),
        BadParams(.channelSnoop, ["channel": 1], "spy|whisper"),
        BadParams(.channelSnoop, ["channel": 1, "spy": "sideways"], "spy"),
        BadParams(.channelTransfer, ["channel": 1, "mode": "blind"], "number"),
        BadParams(.callsClaim, [:], "spans|channels|dnis"),
        BadParams(.callsClaim, ["dnis": "95[5"], "dnis"),
        BadParams(.recordStart, ["channel": 1, "format": "mp3"], "format"),
        BadParams(.channelAnswer, ["call_id": "has space"], "call_id"),
        BadParams(.channelAnswer, ["channel": 2000], "channel"),
        BadParams(.conferenceMute, ["conference_id": "k", "channel": 1, "muted": "yes"], "muted"),
    ])
    func invalidParams(_ bad: BadParams) {
        do {
            _ = try parse(bad.method, bad.params)
            Issue.record("\(bad.testDescription) was accepted")
        } catch {
            #expect(error.code == .invalidParams)
            #expect(JSONValue.object(error.data)["field"] == .string(bad.field), "\(error.message)")
        }
    }

    @Test("every method has a permission class or is open to all sessions, and the backend verbs parse")
    func methodTable() {
        #expect(CTIMethod.channelForceRelease.permission == .supervise)
        #expect(CTIMethod.channelSnoop.permission == .supervise)
        #expect(CTIMethod.recordStart.permission == .record)
        #expect(CTIMethod.channelPlay.permission == .media)
        #expect(CTIMethod.callsClaim.permission == .call)
        #expect(CTIMethod.stateSnapshot.permission == nil)
        #expect(Set(CTIError.Code.allCases.map(\.rawValue)).count == CTIError.Code.allCases.count)
    }

    @Test("event type filters accept names, families and *")
    func typeMasks() {
        #expect(CTIEventFilter.typeMask(["*"]).mask == CTIEventType.allBits)
        #expect(CTIEventFilter.typeMask(["bridge.*"]).mask
            == CTIEventType.bridgeCreated.bit | CTIEventType.bridgeJoined.bit | CTIEventType.bridgeLeft.bit | CTIEventType.bridgeDestroyed.bit)
        #expect(CTIEventFilter.typeMask(["nope.*"]).unknown == "nope.*")
    }

    @Test("the rate limiter refuses after the allowance and forgets after the window")
    func rateLimiter() {
        var limiter = LoginRateLimiter(allowed: 2, windowMilliseconds: 1_000)
        #expect(limiter.retryAfter(peer: "p", now: 0) == nil)
        limiter.recordFailure(peer: "p", now: 0)
        limiter.recordFailure(peer: "p", now: 100)
        #expect(limiter.retryAfter(peer: "p", now: 200) == 800)
        #expect(limiter.retryAfter(peer: "q", now: 200) == nil)
        #expect(limiter.retryAfter(peer: "p", now: 1_000) == nil)
        limiter.recordFailure(peer: "p", now: 1_050)
        limiter.recordSuccess(peer: "p")
        #expect(limiter.retryAfter(peer: "p", now: 1_060) == nil)
    }

    @Test("the hub numbers from 1, keeps the last capacity events, and encodes each once as a notification")
    func hubRing() throws {
        let hub = CTIEventHub(capacity: 4)
        for i in 1...6 { #expect(hub.publish(CTIEvent(.dchanUp, span: 1)) == UInt64(i)) }
        let window = hub.window()
        #expect(window.oldest == 3 && window.head == 6)
        var records: [EventRecord] = []
        _ = hub.records(after: 0, limit: 10, into: &records)
        #expect(records.map(\.seq) == [3, 4, 5, 6])
        let line = String(decoding: records[0].bytes.readableBytesView, as: UTF8.self)
        #expect(line.hasSuffix("\n"))
        let message = try JSONParser.parse(String(line.dropLast()))
        #expect(message["method"] == "event")
        #expect(message["params"]?["seq"] == 3)
        #expect(message["params"]?["type"] == "dchan.up")
        #expect(message["params"]?["span"] == 1)
    }
}

@Suite("CTI backend errors")
struct BackendErrorTests {
    @Test("a gateway TrunkError keeps its message and maps to the nearest CTI code")
    func trunkErrorMapping() {
        let error = CTIBackendError(TrunkError(.busy, "span 2 channel 33: already in a call"))
        #expect(error.kind == .busy)
        #expect(error.ctiError.code == .busy)
        #expect(error.ctiError.message == "span 2 channel 33: already in a call")
        #expect(CTIBackendError(TrunkError(.notFound, "x")).ctiError.code == .notFound)
        #expect(CTIBackendError(TrunkError(.deviceError, "x")).ctiError.code == .unavailable)
    }
}
