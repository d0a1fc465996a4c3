import Testing
@testable import TrunkGateway
import TrunkISDN

@Suite("Built-in call flow")
struct BuiltInFlowTests {
    @Test("answer, prompt, four digits, beep, record, play the digits back, hang up with 16")
    func happyPath() {
        var flow = BuiltInFlow(configuration: BuiltInFlow.Configuration())
        #expect(flow.start() == [.answer])
        #expect(flow.answered() == [.play(.defaultPrompt)])
        #expect(flow.playbackFinished() == [.startTimer(ms: 5_000)])
        #expect(flow.digit("1") == [.startTimer(ms: 3_000)])
        #expect(flow.digit("2") == [.startTimer(ms: 3_000)])
        #expect(flow.digit("3") == [.startTimer(ms: 3_000)])
        #expect(flow.digit("4") == [.stopTimer, .collected("1234"), .play(CallAudio.recordBeep)])
        #expect(flow.playbackFinished() == [.record(maxMs: 5_000), .startTimer(ms: 7_000)])
        #expect(flow.recordingFinished() == [.stopTimer, .play(.dtmf("1234"))])
        #expect(flow.playbackFinished() == [.hangup(.normalCallClearing)])
    }

    @Test("the terminator ends collection early; a silent caller times out; a caller who hangs up ends the flow")
    func edges() {
        var flow = BuiltInFlow(configuration: BuiltInFlow.Configuration())
        _ = flow.start(); _ = flow.answered(); _ = flow.playbackFinished()
        _ = flow.digit("7")
        #expect(flow.digit("#") == [.stopTimer, .collected("7"), .play(CallAudio.recordBeep)])

        var silent = BuiltInFlow(configuration: BuiltInFlow.Configuration())
        _ = silent.start(); _ = silent.answered(); _ = silent.playbackFinished()
        #expect(silent.timerExpired() == [.stopTimer, .collected(""), .play(CallAudio.recordBeep)])
        _ = silent.playbackFinished()
        // Nothing to play back: straight to the hangup.
        #expect(silent.recordingFinished() == [.stopTimer, .hangup(.normalCallClearing)])

        var gone = BuiltInFlow(configuration: BuiltInFlow.Configuration())
        _ = gone.start(); _ = gone.answered(); _ = gone.playbackFinished(); _ = gone.digit("1"); _ = gone.digit("#")
        _ = gone.playbackFinished()
        #expect(gone.farEndCleared() == [.stopTimer, .stopRecording])
        #expect(gone.digit("5") == [])
    }

    @Test("a digit during the prompt barges in; with recording off the digits are played back at once")
    func bargeInNoRecording() {
        var configuration = BuiltInFlow.Configuration()
        configuration.recordMs = 0
        configuration.maxDigits = 2
        var flow = BuiltInFlow(configuration: configuration)
        _ = flow.start(); _ = flow.answered()
        #expect(flow.digit("9") == [.startTimer(ms: 3_000)])
        #expect(flow.digit("8") == [.stopTimer, .collected("98"), .stopTimer, .play(.dtmf("98"))])
    }
}
