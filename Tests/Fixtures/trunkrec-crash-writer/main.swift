#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TrunkCore
import TrunkRecording

// A recording writer for the crash test: starts COUNT recordings under ROOT and feeds them the
// test signals in 20 ms blocks at real-time rate, writing the frames fed so far to
// ROOT/../fed after every block, until it is killed (the test sends SIGKILL).
// usage: trunkrec-crash-writer ROOT COUNT
let arguments = CommandLine.arguments
guard arguments.count == 3, let count = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: trunkrec-crash-writer ROOT COUNT\n".utf8))
    exit(1)
}
let root = arguments[1]
var configuration = RecordingConfiguration(root: root)
configuration.storageAlarmFreePercent = nil
configuration.storageReserveBytes = 0
let store = try RecordingStore(configuration: configuration)
let recorder = Recorder(store: store)
var taps: [RecordingTap] = []
for n in 0..<count {
    taps.append(try recorder.start(RecordingRequest(recordingId: "crash-\(n)", callId: "call-\(n)", span: 2, channel: 32 + n,
                                                   caller: "1380013800\(n)", callee: "95500", agentId: "100\(n % 3)")))
}
let fedPath = (root as NSString).deletingLastPathComponent + "/fed"
var trunk = [Int16](repeating: 0, count: 160), agent = [Int16](repeating: 0, count: 160)
var fed = 0
var next = Date()
while true {
    for (n, tap) in taps.enumerated() {
        for i in 0..<160 {
            trunk[i] = RecordingTestSignal.trunk(fed + i, seed: n)
            agent[i] = RecordingTestSignal.agent(fed + i, seed: n)
        }
        trunk.withUnsafeBufferPointer { t in agent.withUnsafeBufferPointer { a in _ = tap.append(trunk: t, agent: a) } }
    }
    fed += 160
    try "\(fed)\n".write(toFile: fedPath, atomically: true, encoding: .utf8)
    next += 0.02
    let wait = next.timeIntervalSinceNow
    if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
}
