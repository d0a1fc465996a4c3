import ArgumentParser
import Foundation
import TrunkCore
import TrunkRecording

extension Trunkrec {
    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Find recordings (newest first).")

        @OptionGroup var common: CommonOptions
        @Option(help: "Started at or after (UTC).") var from: String?
        @Option(help: "Started before (UTC).") var to: String?
        @Option(help: "Calling number (a trailing * matches a prefix).") var caller: String?
        @Option(help: "Called number (a trailing * matches a prefix).") var callee: String?
        @Option(help: "Span number.") var span: Int?
        @Option(help: "Channel number.") var channel: Int?
        @Option(help: "Agent id.") var agent: String?
        @Option(help: "Tag (ticket or business key) set by CTI.") var tag: String?
        @Option(help: "inbound, outbound or tap.") var direction: String?
        @Option(name: .customLong("min-duration"), help: "Shortest call, seconds.") var minDuration: Double?
        @Option(name: .customLong("max-duration"), help: "Longest call, seconds.") var maxDuration: Double?
        @Option(help: "Q.850 hangup cause.") var cause: Int?
        @Option(help: "At most this many results.") var limit = 1000
        @Flag(help: "Comma-separated values.") var csv = false

        func run() throws {
            let (store, user, _) = try common.open()
            var query = RecordingQuery()
            query.from = try from.map(parseTime)
            query.to = try to.map(parseTime)
            query.caller = caller
            query.callee = callee
            query.span = span
            query.channel = channel
            query.agent = agent
            query.tag = tag
            query.direction = direction
            query.minDuration = minDuration
            query.maxDuration = maxDuration
            query.cause = cause
            query.limit = limit
            let found = try store.index.search(query, as: user)
            if common.json { return try printJSON(found) }
            if csv {
                print("id,call_id,start,answer,end,duration_s,direction,caller,callee,span,channel,agent,skill,tags,cause,state,path")
                for r in found {
                    let fields: [String] = [r.id, r.callId, isoTime(r.startedAt), isoTime(r.answeredAt), isoTime(r.endedAt),
                                            r.durationMs.map { String(format: "%.1f", Double($0) / 1000) } ?? "", r.direction,
                                            r.caller ?? "", r.callee ?? "", r.span.map(String.init) ?? "", r.channel.map(String.init) ?? "",
                                            r.agentId ?? "", r.skill ?? "", r.tags.joined(separator: ";"), r.hangupCause.map(String.init) ?? "",
                                            r.state, r.path]
                    print(fields.map { $0.contains(",") || $0.contains("\"") ? "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : $0 }
                        .joined(separator: ","))
                }
                return
            }
            print("ID".padding(toLength: 24, withPad: " ", startingAt: 0) + " START                 DUR(s) DIR       CALLER          CALLEE          SPAN/CH  AGENT    CAUSE STATE")
            for r in found {
                let line = [r.id.padding(toLength: 24, withPad: " ", startingAt: 0),
                            isoTime(r.startedAt).padding(toLength: 21, withPad: " ", startingAt: 0),
                            (r.durationMs.map { String(format: "%.1f", Double($0) / 1000) } ?? "-").padding(toLength: 6, withPad: " ", startingAt: 0),
                            r.direction.padding(toLength: 9, withPad: " ", startingAt: 0),
                            (r.caller ?? "-").padding(toLength: 15, withPad: " ", startingAt: 0),
                            (r.callee ?? "-").padding(toLength: 15, withPad: " ", startingAt: 0),
                            "\(r.span.map(String.init) ?? "-")/\(r.channel.map(String.init) ?? "-")".padding(toLength: 8, withPad: " ", startingAt: 0),
                            (r.agentId ?? "-").padding(toLength: 8, withPad: " ", startingAt: 0),
                            (r.hangupCause.map(String.init) ?? "-").padding(toLength: 5, withPad: " ", startingAt: 0),
                            r.state]
                print(line.joined(separator: " "))
            }
            print("\(found.count) recording\(found.count == 1 ? "" : "s")")
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Everything the index knows about one recording.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Recording id.") var id: String

        func run() throws {
            let (store, user, _) = try common.open()
            guard let r = try store.index.record(id), user.mayAccess(r) else {
                throw TrunkError(.notFound, "no recording \(id) that \(user.name) may see")
            }
            if common.json { return try printJSON(r) }
            let rows: [(String, String)] = [
                ("recording", r.id), ("call", r.callId), ("state", r.state), ("file", store.absolutePath(r)),
                ("format", "\(r.format), 8000 Hz\(r.encrypted ? ", AES-256-GCM encrypted" : "")"), ("channel map", r.channelMap),
                ("direction", r.direction), ("caller", r.caller ?? "-"), ("callee", r.callee ?? "-"),
                ("span/channel", "\(r.span.map(String.init) ?? "-")/\(r.channel.map(String.init) ?? "-")"),
                ("agent", r.agentId ?? "-"), ("skill/queue", r.skill ?? "-"), ("tags", r.tags.isEmpty ? "-" : r.tags.joined(separator: ", ")),
                ("started", isoTime(r.startedAt)), ("answered", isoTime(r.answeredAt)), ("ended", isoTime(r.endedAt)),
                ("duration", r.durationMs.map { String(format: "%.1f s", Double($0) / 1000) } ?? "-"),
                ("hangup cause", r.hangupCause.map(String.init) ?? "-"), ("size", r.size.map { "\($0) bytes" } ?? "-"),
                ("sha-256", r.sha256 ?? "-"), ("retention", "\(r.retentionClass), expires \(r.expiresAt.map { isoTime($0) } ?? "never")"),
                ("legal hold", r.legalHold ? "yes" : "no"), ("pauses", r.pauses), ("dropped frames", "\(r.droppedFrames)"),
                ("note", r.note ?? "-"),
            ]
            for (key, value) in rows { print(key.padding(toLength: 15, withPad: " ", startingAt: 0) + value) }
        }
    }

    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Who played, exported, held or purged what, when and why.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Only this user.") var user: String?
        @Option(help: "From (UTC).") var from: String?
        @Option(help: "Before (UTC).") var to: String?

        func run() throws {
            let (store, me, _) = try common.open()
            guard me.isAdmin || user == me.name else {
                throw TrunkError(.permissionDenied, "\(me.name) (\(me.role.rawValue)) may read only their own audit entries: add --user \(me.name)")
            }
            let entries = try store.index.audit(user: user, from: try from.map(parseTime), to: try to.map(parseTime))
            if common.json { return try printJSON(entries) }
            for e in entries {
                print("\(isoTime(e.at))  \(e.user.padding(toLength: 12, withPad: " ", startingAt: 0)) \(e.action.padding(toLength: 9, withPad: " ", startingAt: 0)) \(e.recordingIds)  reason: \(e.reason ?? "-")  \(e.outcome)")
            }
        }
    }
}
