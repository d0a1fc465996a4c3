/// The live subscribers of one fan-out, arranged so that an event is checked against each
/// distinct filter once and reaches only the subscribers that can want it:
///
/// - subscribers without a channel or call selection are grouped by identical filter (types and
///   scope): most full subscribers share one, so an event is matched once for all of them;
/// - subscribers that select channels or calls are listed under each of them, and looked at
///   only for events on those channels or calls.
///
/// Loop-confined, like the fan-out that owns it.
struct SubscriberIndex {
    struct Group {
        var filter: CTIEventFilter
        var members: [EventSubscriber]
    }

    private var groups: [Group] = []
    private var byChannel: [Int: [EventSubscriber]] = [:]
    private var byCall: [String: [EventSubscriber]] = [:]
    /// Every subscriber in the index (one that selects an empty list of channels is in no list).
    private var members: [ObjectIdentifier: EventSubscriber] = [:]

    var isEmpty: Bool { members.isEmpty }

    mutating func insert(_ subscriber: EventSubscriber) {
        guard members.updateValue(subscriber, forKey: ObjectIdentifier(subscriber)) == nil else { return }
        let filter = subscriber.filter
        if filter.isNarrow {
            for channel in filter.channels?.members ?? [] { byChannel[channel, default: []].append(subscriber) }
            for call in filter.calls ?? [] { byCall[call, default: []].append(subscriber) }
        } else if let group = groups.firstIndex(where: { $0.filter.types == filter.types && $0.filter.scope == filter.scope }) {
            groups[group].members.append(subscriber)
        } else {
            groups.append(Group(filter: filter, members: [subscriber]))
        }
    }

    /// Returns whether the subscriber was in the index.
    @discardableResult
    mutating func remove(_ subscriber: EventSubscriber) -> Bool {
        guard members.removeValue(forKey: ObjectIdentifier(subscriber)) != nil else { return false }
        let filter = subscriber.filter
        if filter.isNarrow {
            for channel in filter.channels?.members ?? [] { Self.remove(subscriber, from: &byChannel, key: channel) }
            for call in filter.calls ?? [] { Self.remove(subscriber, from: &byCall, key: call) }
        } else {
            for group in groups.indices {
                guard let position = groups[group].members.firstIndex(where: { $0 === subscriber }) else { continue }
                groups[group].members.remove(at: position)
                if groups[group].members.isEmpty { groups.remove(at: group) }
                break
            }
        }
        return true
    }

    private static func remove<Key: Hashable>(_ subscriber: EventSubscriber, from table: inout [Key: [EventSubscriber]], key: Key) {
        guard let position = table[key]?.firstIndex(where: { $0 === subscriber }) else { return }
        table[key]!.remove(at: position)
        if table[key]!.isEmpty { table[key] = nil }
    }

    /// The subscribers without a channel or call selection, by shared filter. A copy (of
    /// copy-on-write arrays, so nothing is copied unless the index changes): delivering to them
    /// may remove one from the index.
    var sharedFilterGroups: [Group] { groups }

    /// Whether some subscriber selects channels or calls.
    var hasNarrow: Bool { !byChannel.isEmpty || !byCall.isEmpty }

    /// Calls `body` for each subscriber that selects channels or calls and whose filter selects
    /// `record` (one listed under both the record's channel and its call is passed twice;
    /// `EventSubscriber.stage` takes it once).
    func forEachNarrow(selecting record: EventRecord, _ body: (EventSubscriber) -> Void) {
        if let channel = record.channel, let listed = byChannel[channel] {
            for subscriber in listed where subscriber.filter.matches(record) { body(subscriber) }
        }
        if !byCall.isEmpty, let call = record.callID, let listed = byCall[call] {
            for subscriber in listed where subscriber.filter.matches(record) { body(subscriber) }
        }
    }

    /// Every subscriber once.
    var all: [EventSubscriber] { Array(members.values) }
}
