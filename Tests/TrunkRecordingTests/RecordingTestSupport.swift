#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TrunkCore
@testable import TrunkRecording

/// A fresh recordings root in a temporary folder, removed at the end.
final class TemporaryRoot {
    let folder: String
    var root: String { folder + "/recordings" }

    init() {
        var template = Array((NSTemporaryDirectory() + "/trunkrec-test-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        folder = String(cString: made!)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    func configuration() -> RecordingConfiguration {
        var configuration = RecordingConfiguration(root: root)
        // Test folders live on whatever disk the machine has: no threshold alarms unless asked.
        configuration.storageAlarmFreePercent = nil
        configuration.storageReserveBytes = 0
        return configuration
    }
}

/// Feeds `seconds` of the test signals to a tap in 20 ms blocks.
func feed(_ tap: RecordingTap, seed: Int, from start: Int = 0, seconds: Double) {
    var trunk = [Int16](repeating: 0, count: 160), agent = [Int16](repeating: 0, count: 160)
    var frame = start
    while frame < start + Int(seconds * 8000) {
        for i in 0..<160 {
            trunk[i] = RecordingTestSignal.trunk(frame + i, seed: seed)
            agent[i] = RecordingTestSignal.agent(frame + i, seed: seed)
        }
        // The writer drains in the background; wait rather than drop in a test that checks content.
        while !trunk.withUnsafeBufferPointer({ t in agent.withUnsafeBufferPointer { a in tap.append(trunk: t, agent: a) } }) {
            usleep(1000)
        }
        frame += 160
    }
}

/// What a G.711 A-law round trip makes of a sample: what the file must hold, exactly.
func alawRoundTrip(_ sample: Int16) -> Int16 { G711.alawToLinear(G711.linearToAlaw(sample)) }

/// Runs a program (sox), returning status and standard output.
func runProgram(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, data)
}

/// sox decodes `path` to 16-bit stereo samples (left, right), or nil if it refuses the file.
func soxDecode(_ path: String) throws -> (left: [Int16], right: [Int16])? {
    let info = try runProgram("/usr/bin/sox", ["--i", path])
    guard info.status == 0 else { return nil }
    let decoded = try runProgram("/usr/bin/sox", [path, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-"])
    guard decoded.status == 0 else { return nil }
    var left: [Int16] = [], right: [Int16] = []
    decoded.output.withUnsafeBytes { raw in
        let samples = raw.bindMemory(to: Int16.self)
        for i in stride(from: 0, to: samples.count - 1, by: 2) {
            left.append(Int16(littleEndian: samples[i]))
            right.append(Int16(littleEndian: samples[i + 1]))
        }
    }
    return (left, right)
}

/// The folder of the built executables (the crash writer lives next to the test bundle).
func builtExecutable(_ name: String) -> String {
    let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path,
                      FileManager.default.currentDirectoryPath + "/.build/debug"]
    for folder in candidates where FileManager.default.isExecutableFile(atPath: folder + "/" + name) { return folder + "/" + name }
    return candidates[1] + "/" + name
}
