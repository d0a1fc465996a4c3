/// The calls of one interface, stored in an array so that per-message lookups hash nothing and
/// handling a message mutates the call in place.
///
/// `ids` mirrors `storage` so a lookup scans small keys only; `hints` remembers, per low bits
/// of the call reference, where a call was last put, which makes the usual lookup one probe.
/// Hints are only hints: every one is checked against `ids` before use.
///
/// A removed call's slot is left vacant (a placeholder call in the null state with no channel
/// and no timers, under an id no call has) and reused by the next new call, so removing a call
/// moves no other call. Scans of `storage` pass over vacant slots without special cases.
struct Q931CallTable: Sendable {
    private(set) var storage: [Q931Call] = []
    private var ids: [Q931CallID] = []
    /// Per slot, the elements of the SETUP its outgoing call sent, for the one retransmission
    /// T303 allows; empty for other slots. A list outlives its call and is refilled by the next
    /// outgoing call in the slot, so placing a call allocates none.
    private(set) var setupElements: [[Q931InformationElement]] = []
    /// Per slot, the last call offered in it, whose storage the next offer reuses (see
    /// `offer(at:_:)`). This and `setupElements` are at least as long as `storage`: they are
    /// kept when the last slot is dropped.
    private var offers: [Q931IncomingCall] = []
    private var hints: [Int16]
    /// How many calls map to each hint slot, so that a lookup of an absent call (a new call
    /// reference, an incoming SETUP) is one probe too, not a scan of every call.
    private var slotCounts: [UInt16]
    /// The channels the calls hold, kept as calls take and free them so that a channel check
    /// is one bit test, not a scan of every call.
    private(set) var occupiedChannels = ChannelMask()
    /// Extra holders of channels held by more than one call (a resumed call, for one, takes
    /// the channel the network names unchecked): a channel is free again only when its last
    /// holder lets go. Nearly always empty.
    private var sharedHolds: [UInt8: Int] = [:]
    /// Vacant slots of `storage`, reused last-freed first.
    private var vacantSlots: [Int] = []
    private var liveCount = 0

    /// The id of vacant slots: call reference values have 15 bits, so no call has it.
    static let vacantID = Q931CallID(callReference: 0xFFFF, isOutgoing: false)

    init() {
        hints = Array(repeating: -1, count: 256)
        slotCounts = Array(repeating: 0, count: 256)
        storage.reserveCapacity(32)
        ids.reserveCapacity(32)
        setupElements.reserveCapacity(32)
        offers.reserveCapacity(32)
        vacantSlots.reserveCapacity(32)
    }

    var count: Int { liveCount }
    var isEmpty: Bool { liveCount == 0 }
    var keys: [Q931CallID] { ids.filter { $0 != Self.vacantID } }

    @inline(__always)
    private static func slot(_ id: Q931CallID) -> Int {
        Int(id.callReference & 0x7F) << 1 | (id.isOutgoing ? 1 : 0)
    }

    /// Inlined: as a call, the table's fields were copied out for it on every lookup.
    @inline(__always)
    func index(of id: Q931CallID) -> Int? {
        let slot = Self.slot(id)
        guard slotCounts[slot] != 0 else { return nil }
        let hint = Int(hints[slot])
        if hint >= 0, hint < ids.count, ids[hint] == id { return hint }
        return ids.firstIndex(of: id)
    }

    func contains(_ id: Q931CallID) -> Bool { index(of: id) != nil }

    /// The call at `index`, mutated in place. Only a received message can change a call's
    /// channel: its handler tells the table with `channelChanged(at:from:)`. (Checking after
    /// every access here cost more than the scan of the calls it replaced.)
    subscript(index: Int) -> Q931Call {
        get { storage[index] }
        _modify { yield &storage[index] }
    }

    /// Records that the call at `index` may have moved from channel `before`.
    mutating func channelChanged(at index: Int, from before: UInt8?) {
        let after = storage[index].channel
        guard after != before else { return }
        release(before)
        hold(after)
    }

    /// Whether `occupiedChannels` and the holder counts match the calls (for assertions).
    var occupancyIsConsistent: Bool {
        // Allocates nothing, so debug builds can check it on every message in allocation tests.
        var seen = ChannelMask()
        var holding = 0
        for index in storage.indices {
            if let channel = storage[index].channel {
                seen.insert(channel)
                holding += 1
            }
        }
        var extra = 0
        for (channel, count) in sharedHolds {
            var holders = 0
            for index in storage.indices where storage[index].channel == channel { holders += 1 }
            guard holders == count + 1 else { return false }
            extra += count
        }
        return seen == occupiedChannels && holding == occupiedChannels.count + extra
    }

    @inline(__always)
    private mutating func hold(_ channel: UInt8?) {
        guard let channel else { return }
        if occupiedChannels.contains(channel) {
            sharedHolds[channel, default: 0] += 1
        } else {
            occupiedChannels.insert(channel)
        }
    }

    @inline(__always)
    private mutating func release(_ channel: UInt8?) {
        guard let channel else { return }
        if !sharedHolds.isEmpty, let extra = sharedHolds[channel] {
            sharedHolds[channel] = extra == 1 ? nil : extra - 1
        } else {
            occupiedChannels.remove(channel)
        }
    }

    subscript(id: Q931CallID) -> Q931Call? {
        get {
            guard let index = index(of: id) else { return nil }
            return storage[index]
        }
        set {
            if let index = index(of: id) {
                if let newValue {
                    release(storage[index].channel)
                    hold(newValue.channel)
                    storage[index] = newValue
                } else {
                    remove(at: index)
                }
            } else if let newValue {
                insertNew(newValue)
            }
        }
    }

    /// Runs `body` on the call at `index` and its slot's SETUP element list.
    @inline(__always)
    mutating func withSetupElements<Result>(
        at index: Int, _ body: (inout Q931Call, inout [Q931InformationElement]) -> Result
    ) -> Result {
        body(&storage[index], &setupElements[index])
    }

    /// The offer of the incoming call at `index`, for the layer above: in the storage of the
    /// slot's last offer, refilled in place when the layer above has dropped that one (long
    /// since, usually), so offering a call allocates nothing once the slot has had one.
    mutating func offer(at index: Int, _ fields: consuming Q931IncomingCall.Fields) -> Q931IncomingCall {
        offers[index].refill(fields)
        return offers[index]
    }

    /// Adds a call whose id is not in the table (a new call reference), in a vacant slot if
    /// there is one; returns its index. The setter's lookup and its optional wrapping, each a
    /// copy of the whole call, are skipped.
    @discardableResult
    mutating func insertNew(_ call: consuming Q931Call) -> Int {
        let id = call.id
        assert(index(of: id) == nil, "call \(id) is already in the table")
        hold(call.channel)
        liveCount += 1
        let index: Int
        if let vacant = vacantSlots.last {
            vacantSlots.removeLast()
            index = vacant
            ids[index] = id
            // The placeholder holds no references (an empty string), so it is
            // overwritten without being destroyed, sparing the generic assignment.
            var incoming: Q931Call? = consume call
            storage.withUnsafeMutableBufferPointer { slots in
                assert(slots[index].id == Self.vacantID)
                (slots.baseAddress! + index).initialize(to: incoming.take()!)
            }
        } else {
            index = ids.count
            ids.append(id)
            storage.append(call)
            if setupElements.count == index {
                setupElements.append([])
                offers.append(Q931IncomingCall(.placeholder))
            }
        }
        hints[Self.slot(id)] = Int16(truncatingIfNeeded: index)
        slotCounts[Self.slot(id)] += 1
        return index
    }

    mutating func remove(at index: Int) {
        let removedSlot = Self.slot(ids[index])
        if Int(hints[removedSlot]) == index { hints[removedSlot] = -1 }
        slotCounts[removedSlot] -= 1
        release(storage[index].channel)
        liveCount -= 1
        if ids[index].isOutgoing { Self.empty(&setupElements[index]) }
        if index == ids.count - 1 {
            storage.removeLast()
            ids.removeLast()
        } else {
            // Left vacant: moving the last call into the gap copied it (about 260 bytes) three times.
            // Destroyed and initialized in place: the generic assignment cost more.
            storage.withUnsafeMutableBufferPointer { slots in
                (slots.baseAddress! + index).deinitialize(count: 1)
                (slots.baseAddress! + index).initialize(to: Q931Call.vacant(Self.vacantID))
            }
            ids[index] = Self.vacantID
            vacantSlots.append(index)
        }
    }

    /// Empties `elements` keeping its storage: element by element, cheaper than the generic
    /// `removeAll(keepingCapacity:)` for the few a SETUP has.
    private static func empty(_ elements: inout [Q931InformationElement]) {
        while !elements.isEmpty { elements.removeLast() }
    }

    /// Drops the call at `index` if it has reached the null state (the `store` rule).
    mutating func removeIfFinished(at index: Int) {
        assert(occupancyIsConsistent, "a call changed its channel without channelChanged(at:from:)")
        if storage[index].state == .null { remove(at: index) }
    }
}

/// The deadlines of one call's running timers, inline (no dictionary, no heap).
struct Q931CallTimers: Sendable {
    private var deadlines: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    /// Bit `index(of: timer)` set while the timer runs.
    private(set) var running: UInt16 = 0

    /// The timers by index.
    static let timers: [Q931Timer] = [.t301, .t302, .t303, .t304, .t305, .t308, .t309, .t310, .t313, .t316, .t318, .t319, .t322]

    @inline(__always)
    static func index(of timer: Q931Timer) -> Int {
        switch timer {
        case .t301: return 0
        case .t302: return 1
        case .t303: return 2
        case .t304: return 3
        case .t305: return 4
        case .t308: return 5
        case .t309: return 6
        case .t310: return 7
        case .t313: return 8
        case .t316: return 9
        case .t318: return 10
        case .t319: return 11
        case .t322: return 12
        }
    }

    var isEmpty: Bool { running == 0 }

    @inline(__always)
    func isRunning(_ timer: Q931Timer) -> Bool {
        running & (1 << Self.index(of: timer)) != 0
    }

    /// The running timer that expires first (the lower index on a tie), or nil.
    var earliest: (timer: Q931Timer, deadline: ISDNInstant)? {
        var bits = running
        var best: (timer: Q931Timer, deadline: ISDNInstant)?
        while bits != 0 {
            let index = bits.trailingZeroBitCount
            bits &= bits - 1
            let deadline = withUnsafeBytes(of: deadlines) { $0.load(fromByteOffset: index * 8, as: Int64.self) }
            if best == nil || deadline < best!.deadline.nanoseconds {
                best = (Self.timers[index], ISDNInstant(nanoseconds: deadline))
            }
        }
        return best
    }

    @inline(__always)
    subscript(timer: Q931Timer) -> ISDNInstant? {
        get {
            let index = Self.index(of: timer)
            guard running & (1 << index) != 0 else { return nil }
            return withUnsafeBytes(of: deadlines) { ISDNInstant(nanoseconds: $0.load(fromByteOffset: index * 8, as: Int64.self)) }
        }
        set {
            let index = Self.index(of: timer)
            if let newValue {
                running |= 1 << index
                withUnsafeMutableBytes(of: &deadlines) { $0.storeBytes(of: newValue.nanoseconds, toByteOffset: index * 8, as: Int64.self) }
            } else {
                running &= ~(1 << index)
            }
        }
    }
}
