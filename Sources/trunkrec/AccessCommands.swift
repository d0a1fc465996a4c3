import ArgumentParser
import Foundation
import TrunkCore
import TrunkGateway
import TrunkHardware
import TrunkRecording

enum Side: String, ExpressibleByArgument, CaseIterable {
    case trunk, agent, both
    var channel: Int? { self == .trunk ? 0 : self == .agent ? 1 : nil }
}

extension Trunkrec {
    struct Play: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Play a recording to an ALSA device, or write it to standard output as WAV.",
            discussion: "Every play is written to the audit trail and the manifest with your reason.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Recording id.") var id: String
        @Option(help: "trunk (left, far end), agent (right, near end) or both.") var side: Side = .both
        @Option(help: "ALSA device to play to (e.g. default, hw:0,0); without it WAV goes to standard output.") var device: String?
        @Flag(help: "Raw 16-bit little-endian samples instead of WAV on standard output.") var raw = false
        @Option(help: "Why you listen (required; kept in the audit trail).") var reason: String

        func validate() throws {
            if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason must say why (it goes into the audit trail)") }
        }

        func run() throws {
            let (store, user, _) = try common.open()
            let record = try accessible(id, store: store, user: user, action: "played", reason: reason)
            let audio = try RecordingAudio(wav: try store.wavBytes(record))
            let channels: [[Int16]] = side == .both && audio.channels.count == 2 ? audio.channels : [audio.side(side.channel)]
            try store.audit(user: user.name, action: "played", ids: [id], reason: reason)
            if let device {
                let pcm = try AlsaPCM(device: device, direction: .playback, channels: channels.count)
                defer { pcm.close() }
                var interleaved = [Int16](repeating: 0, count: audio.frames * channels.count)
                for i in 0..<audio.frames { for c in 0..<channels.count { interleaved[i * channels.count + c] = channels[c][i] } }
                var offset = 0
                while offset < interleaved.count {
                    let written = try interleaved[offset...].withUnsafeBufferPointer { try pcm.write($0) }
                    if written == 0 { _ = pcm.wait(timeoutMs: 100) }
                    offset += written * channels.count
                }
                return
            }
            guard isatty(1) == 0 else {
                throw TrunkError(.invalidArgument, "standard output is a terminal: redirect it (trunkrec play \(id) --reason … > call.wav) or give --device")
            }
            var bytes = RecordingAudio.wav(channels, encoding: .pcm16)
            if raw { bytes = Array(bytes[WAVFormat(encoding: .pcm16, channels: channels.count).headerSize...]) }
            FileHandle.standardOutput.write(Data(bytes))
        }
    }

    enum ExportFormat: String, ExpressibleByArgument, CaseIterable { case wav, pcm16, flac }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy recordings out of the store.",
            discussion: """
                wav: the stored WAV (decrypted); pcm16: 16-bit linear WAV; flac: FLAC through the `sox`
                program (required for flac). --split-sides writes <id>-trunk and <id>-agent mono files.
                Every export is written to the audit trail and the manifest with your reason.
                """)
        @OptionGroup var common: CommonOptions
        @Argument(help: "Recording ids.") var ids: [String]
        @Option(help: "Folder to write to (created if missing).") var to: String
        @Option(help: "wav, pcm16 or flac.") var format: ExportFormat = .wav
        @Flag(name: .customLong("split-sides"), help: "One file per side (trunk, agent).") var splitSides = false
        @Flag(name: .customLong("with-metadata"), help: "Also write <id>.json with the index entry.") var withMetadata = false
        @Option(help: "Why you export (required; kept in the audit trail).") var reason: String

        func validate() throws {
            if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason must say why (it goes into the audit trail)") }
            if ids.isEmpty { throw ValidationError("name at least one recording id") }
        }

        static func soxPath() -> String? {
            for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
                let candidate = "\(folder)/sox"
                if access(candidate, X_OK) == 0 { return candidate }
            }
            return nil
        }

        func run() throws {
            let (store, user, _) = try common.open()
            let sox = format == .flac ? Self.soxPath() : nil
            if format == .flac && sox == nil {
                throw TrunkError(.unavailable, "--format flac needs the sox program (apt-get install sox); use --format wav or pcm16")
            }
            // Check every id first: an export is all or nothing.
            let records = try ids.map { try accessible($0, store: store, user: user, action: "exported", reason: reason) }
            try FileManager.default.createDirectory(atPath: to, withIntermediateDirectories: true)
            let progress = ProgressBar(total: records.count, enabled: isatty(2) == 1)
            var written: [String] = []
            for (number, record) in records.enumerated() {
                progress.update(number, label: record.id)
                let stored = try store.wavBytes(record)
                var outputs: [(name: String, bytes: [UInt8])] = []
                if !splitSides && format == .wav {
                    outputs.append(("\(record.id).wav", stored))
                } else {
                    let audio = try RecordingAudio(wav: stored)
                    let encoding: WAVFormat.Encoding = format == .wav ? audio.format.encoding : .pcm16
                    if splitSides && audio.channels.count == 2 {
                        outputs.append(("\(record.id)-trunk.wav", RecordingAudio.wav([audio.channels[0]], encoding: encoding)))
                        outputs.append(("\(record.id)-agent.wav", RecordingAudio.wav([audio.channels[1]], encoding: encoding)))
                    } else {
                        outputs.append(("\(record.id).wav", RecordingAudio.wav(audio.channels, encoding: encoding)))
                    }
                }
                for output in outputs {
                    let path = to + "/" + output.name
                    try Data(output.bytes).write(to: URL(fileURLWithPath: path))
                    if let sox {
                        let flac = String(path.dropLast(4)) + ".flac"
                        let process = Process()
                        process.executableURL = URL(fileURLWithPath: sox)
                        process.arguments = [path, flac]
                        try process.run()
                        process.waitUntilExit()
                        try? FileManager.default.removeItem(atPath: path)
                        guard process.terminationStatus == 0 else { throw TrunkError(.deviceError, "sox could not write \(flac) (exit \(process.terminationStatus))") }
                        written.append(flac)
                    } else {
                        written.append(path)
                    }
                }
                if withMetadata {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    try encoder.encode(record).write(to: URL(fileURLWithPath: to + "/\(record.id).json"))
                    written.append(to + "/\(record.id).json")
                }
            }
            progress.update(records.count, label: "done")
            progress.finish()
            try store.audit(user: user.name, action: "exported", ids: records.map(\.id), reason: reason)
            if common.json { return try printJSON(written) }
            for path in written { print(path) }
        }
    }
}

/// A one-line progress bar on standard error, drawn only on a terminal.
final class ProgressBar {
    let total: Int
    let enabled: Bool
    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    func update(_ done: Int, label: String) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = done * width / total
        FileHandleStandardError.write("\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                                      + "] \(done)/\(total) \(label.prefix(30))\u{1B}[K")
    }

    func finish() { if enabled { FileHandleStandardError.write("\n") } }
}
