import Testing
@testable import TrunkGateway

/// The configuration reader and the DAHDI importer read files people edit by hand: any bytes
/// must give a result or positioned errors, never a crash.
@Suite("Configuration readers under mutated input")
struct ConfigFuzzTests {
    struct Mutator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }

        /// Deletes, duplicates, replaces or inserts a few bytes, favouring the ones the syntax uses.
        mutating func mutate(_ text: String) -> String {
            var bytes = Array(text.utf8)
            let alphabet = Array("[]=\",.#-_\n 0123456789abc>;\\".utf8) + [0xFF, 0x00, 0xE2]
            for _ in 0...(next() % 4) {
                let at = bytes.isEmpty ? 0 : Int(next() % UInt64(bytes.count))
                switch next() % 4 {
                case 0: if !bytes.isEmpty { bytes.remove(at: at) }
                case 1: bytes.insert(alphabet[Int(next() % UInt64(alphabet.count))], at: at)
                case 2: if !bytes.isEmpty { bytes[at] = alphabet[Int(next() % UInt64(alphabet.count))] }
                default: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + Int(next() % 40))], at: at)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    @Test("4000 mutations of a complete configuration: accepted or refused with positions inside the file")
    func configReader() {
        var mutator = Mutator(state: 20_261_130)
        var refused = 0
        for _ in 0..<4000 {
            let text = mutator.mutate(ConfigSectionTests.complete)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
            do {
                _ = try TrunklineConfig.parse(text: text, file: "f.toml")
            } catch {
                refused += 1
                #expect(error.errors.allSatisfy { $0.position.line >= 1 && $0.position.line <= lines + 1 && $0.position.column >= 1 })
            }
        }
        #expect(refused > 200, "mutations must mostly break the file, or the fuzzer is not reaching the reader")
    }

    @Test("2000 mutations of system.conf and chan_dahdi.conf: imported or refused, never a crash")
    func importer() {
        var mutator = Mutator(state: 47)
        for round in 0..<2000 {
            let system = round % 2 == 0 ? mutator.mutate(DAHDIImportTests.systemConf) : DAHDIImportTests.systemConf
            let chan = round % 2 == 1 ? mutator.mutate(DAHDIImportTests.chanDahdi) : DAHDIImportTests.chanDahdi
            if let result = try? DAHDIImport.convert(systemConf: .init(file: "s", text: system), chanDahdi: .init(file: "c", text: chan)) {
                #expect(!result.toml.isEmpty)
            }
        }
    }
}
