/// The mix buses of every conference, sized once for the loop's block and conference count.
///
/// Each conference has two buses per block: what everyone hears (`all`) and what only agents
/// hear besides (`agents`, the whispers). A party adds its audio to the buses it speaks on,
/// then hears the buses meant for it minus its own contribution: N parties cost 2N block
/// passes instead of the N² of mixing each party's mix separately.
final class ConferenceMixer {
    let blockSamples: Int
    let capacity: Int
    private let allBus: UnsafeMutablePointer<Int32>
    private let agentBus: UnsafeMutablePointer<Int32>
    /// Parties per conference, so that only conferences in use are cleared each tick.
    private let members: UnsafeMutablePointer<Int32>
    /// The loop phase a conference's parties share (see `MediaLoop`).
    private let phases: UnsafeMutablePointer<Int32>

    init(conferences: Int, blockSamples: Int) {
        capacity = conferences
        self.blockSamples = blockSamples
        allBus = .allocate(capacity: conferences * blockSamples)
        allBus.initialize(repeating: 0, count: conferences * blockSamples)
        agentBus = .allocate(capacity: conferences * blockSamples)
        agentBus.initialize(repeating: 0, count: conferences * blockSamples)
        members = .allocate(capacity: conferences)
        members.initialize(repeating: 0, count: conferences)
        phases = .allocate(capacity: conferences)
        phases.initialize(repeating: 0, count: conferences)
    }

    deinit {
        allBus.deallocate()
        agentBus.deallocate()
        members.deallocate()
        phases.deallocate()
    }

    func join(_ conference: Int) { members[conference] += 1 }
    func leave(_ conference: Int) { members[conference] -= 1 }
    func memberCount(_ conference: Int) -> Int { Int(members[conference]) }
    func phase(of conference: Int) -> Int { Int(phases[conference]) }
    func setPhase(_ phase: Int, of conference: Int) { phases[conference] = Int32(phase) }

    /// Start of a phase's tick: the buses in use by that phase back to silence.
    func clear(phase: Int) {
        for conference in 0..<capacity where members[conference] > 0 && phases[conference] == phase {
            let offset = conference * blockSamples
            (allBus + offset).update(repeating: 0, count: blockSamples)
            (agentBus + offset).update(repeating: 0, count: blockSamples)
        }
    }

    /// Adds a party's received audio to the buses its mode speaks on.
    func contribute(_ samples: UnsafePointer<Int16>, conference: Int, mode: ConferenceMode, muted: Bool) {
        guard !muted else { return }
        let offset = conference * blockSamples
        let bus = mode.speaksToAll ? allBus + offset : agentBus + offset
        guard mode.speaksToAll || mode.speaksToAgents else { return }
        for index in 0..<blockSamples { bus[index] &+= Int32(samples[index]) }
    }

    /// What a party hears: the buses meant for it, less what it said itself.
    func hear(into out: UnsafeMutablePointer<Int32>, conference: Int, side: ConferenceSide, mode: ConferenceMode,
              muted: Bool, own: UnsafePointer<Int16>) {
        let offset = conference * blockSamples
        let all = allBus + offset
        for index in 0..<blockSamples { out[index] = all[index] }
        if side == .agent {
            let agents = agentBus + offset
            for index in 0..<blockSamples { out[index] &+= agents[index] }
        }
        guard !muted else { return }
        // Own audio went onto the all bus, or onto the agent bus which an agent hears.
        if mode.speaksToAll || (mode.speaksToAgents && side == .agent) {
            for index in 0..<blockSamples { out[index] &-= Int32(own[index]) }
        }
    }
}
