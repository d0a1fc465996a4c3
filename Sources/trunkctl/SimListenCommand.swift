import ArgumentParser
import Foundation
import TrunkGateway

extension Trunkctl.Sim {
    struct Listen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What the carrier's subscribers hear on their calls, each sending a tone of its own meanwhile.",
            discussion: """
                Each party is a B-channel of the carrier span with a call on it (as `sim call`
                shows), optionally with the frequency it sends (at −16 dBm0) after a colon. For
                every party the level of each --hz frequency in what it heard is printed.

                Examples:
                  trunkctl sim listen 1 --hz 450                       # does caller 1 hear dial tone?
                  trunkctl sim listen 1:500 2:1100 3:1700 --hz 500 --hz 1100 --hz 1700 --ms 800
                """)
        @OptionGroup var options: CommonOptions
        @Argument(help: "Parties: CHANNEL or CHANNEL:HZ (a B-channel of the carrier span, and the tone it sends).") var parties: [String]
        @Option(help: "A frequency to measure in what each party hears (repeatable).") var hz: [Int] = []
        @Option(help: "Milliseconds measured.") var ms = 600
        @Option(help: "Milliseconds left out at the start, while audio paths settle.") var settle = 100
        @Option(help: "The carrier span.") var span = 1

        func validate() throws {
            guard !parties.isEmpty else { throw ValidationError("give at least one party: CHANNEL or CHANNEL:HZ") }
            for party in parties where Self.party(party) == nil {
                throw ValidationError("a party is CHANNEL or CHANNEL:HZ (like 3 or 3:1100), not '\(party)'")
            }
        }

        static func party(_ text: String) -> SimListenParams.Party? {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let channel = Int(parts[0]) else { return nil }
            if parts.count == 1 { return .init(channel: channel) }
            guard let sent = Int(parts[1]) else { return nil }
            return .init(channel: channel, sendHz: sent)
        }

        func run() throws {
            let params = SimListenParams(span: span, parties: parties.compactMap(Self.party), frequencies: hz, ms: ms, settleMs: settle)
            var client = options.client
            client.timeoutSeconds = (ms + settle) / 1000 + 30
            let result = try client.call(.simListen, params, as: SimListenResult.self)
            options.emit(result) {
                var out = ""
                for party in result.parties {
                    let sent = party.sentHz.map { ", sending \($0) Hz" } ?? ""
                    out += "\(result.span)/\(party.channel)\(sent): hears \(String(format: "%.1f", party.levelDBm0)) dBm0"
                    for tone in party.tones { out += ", \(tone.hz) Hz \(String(format: "%.1f", tone.dBm0))" }
                    out += "\n"
                }
                return out
            }
        }
    }
}
