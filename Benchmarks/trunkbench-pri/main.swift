// trunkbench-pri: full call cycles per second on one E1 span's D-channel.
//
// Both ends run in this process, on one thread, over a SOCK_SEQPACKET socket pair; the user side
// keeps 30 calls in progress (one per B-channel). One cycle is SETUP, CALL PROCEEDING, ALERTING,
// CONNECT, CONNECT ACKNOWLEDGE, DISCONNECT, RELEASE, RELEASE COMPLETE, plus the Q.921
// acknowledgements. The same shape runs TrunkISDN against TrunkISDN and libpri against libpri
// (libpri through the test-only CLibPRIPeer wrapper); the median of several runs is reported.
//
//   swift run -c release trunkbench-pri [cycles-per-run] [runs]

import CLibPRIPeer
import CMallocCounter
import Glibc
import TrunkISDN

let arguments = CommandLine.arguments
let cyclesPerRun = arguments.count > 1 ? Int(arguments[1]) ?? 20_000 : 20_000
let runs = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
/// "trunk" or "libpri" runs one side only (for strace -c or callgrind per side); default both.
let only = arguments.count > 3 ? arguments[3] : "both"
let runTrunk = only != "libpri"
let runLibPRI = only != "trunk"
let concurrentCalls = 30
let bChannels: [UInt8] = Array(1...15) + Array(17...31)

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), user and system. On this shared
/// machine a run is often descheduled part way through; wall time then measures the other
/// processes, thread CPU time does not (it still counts every syscall in the kernel).
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Cycles per second of one run, by the wall clock and by the thread's CPU time, and the
/// D-channel system calls of both ends per cycle.
struct Rate {
    var wall: Double
    var cpu: Double
    var writes = 0.0
    var reads = 0.0
    var emptyReads = 0.0

    init(cycles: Int, wallStart: Double, cpuStart: Double) {
        wall = Double(cycles) / (monotonicSeconds() - wallStart)
        cpu = Double(cycles) / (threadCPUSeconds() - cpuStart)
    }

    /// Counts taken over the run (`after - before`), per cycle.
    mutating func count(writes: Int, reads: Int, emptyReads: Int, cycles: Int) {
        self.writes = Double(writes) / Double(cycles)
        self.reads = Double(reads) / Double(cycles)
        self.emptyReads = Double(emptyReads) / Double(cycles)
    }
}

func monotonicInstant() -> ISDNInstant {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ISDNInstant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
}

func socketPair() -> (Int32, Int32) {
    var fds: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0, &fds) == 0 else {
        fatalError("socketpair: \(errno)")
    }
    for fd in fds {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
    return (fds[0], fds[1])
}

/// Free B-channels, and which side has finished with each busy one. Shared by both harnesses;
/// a count per channel number rather than a dictionary, so its hashing is not charged to
/// either stack.
struct ChannelPool {
    var free: [UInt8] = bChannels.reversed()
    var doneSides = [UInt8](repeating: 0, count: 32)

    /// Marks one side done with `channel`; true when both are and the channel is free again.
    mutating func sideDone(_ channel: UInt8) -> Bool {
        let index = Int(channel & 31)
        if doneSides[index] == 1 {
            doneSides[index] = 0
            free.append(channel)
            return true
        }
        doneSides[index] = 1
        return false
    }
}

// MARK: - TrunkISDN against TrunkISDN

/// One TrunkISDN D-channel as a DAHDI span driver would run it: frames out with 2 octets of FCS
/// room, frames in with the FCS stripped, one frame per read() and per write(). The stack keeps
/// its timers' deadlines itself and runs the due ones when asked, as libpri does with
/// `pri_schedule_run`, so the start and stop actions need no bookkeeping here.
///
/// A struct owned by the benchmark function, not a class: a class's stored properties passed
/// inout (the stack, the buffers) cost a run-time exclusivity check on every access, work the
/// C harness on the libpri side does not pay either.
struct TrunkEnd {
    var stack: PRIDChannel
    let fd: Int32
    /// write() and read() calls so far, and the reads that found no frame.
    var writes = 0
    var reads = 0
    var emptyReads = 0
    /// Frames are encoded straight into this buffer, which keeps 2 octets of FCS room.
    private let writeBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 8)
    /// Received frames are read into this buffer, which the stack reads in place.
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 8)
    /// Reused for every input through the stack's `into:` variants, so no action array is
    /// allocated per frame or request.
    private var actions: [PRIAction] = []

    init(role: ISDNRole, fd: Int32) {
        stack = PRIDChannel(role: role)
        // Timers run through `expireTimers`, so their start and stop actions are not needed.
        stack.reportsTimerActions = false
        // RR only when the answers to a whole read batch carried no N(R): see `flushAcknowledgement`.
        stack.defersAcknowledgementToDriver = true
        // Indications are taken from the stack in one batch after each read batch.
        stack.keepsIndications = true
        self.fd = fd
        actions.reserveCapacity(64)
    }

    func deallocate() {
        writeBuffer.deallocate()
        readBuffer.deallocate()
    }

    /// Feeds one input to the stack and carries out the actions it returns.
    mutating func run(_ input: (inout PRIDChannel, inout [PRIAction]) -> Void) {
        input(&stack, &actions)
        perform()
    }

    /// Places a call and carries out its actions.
    mutating func placeCall(_ request: Q931SetupRequest, now: ISDNInstant) {
        _ = stack.setupRequest(request, now: now, into: &actions)
        perform()
    }

    /// Gives the stack one call-control request and carries out its actions.
    mutating func request(_ request: PRICallRequest, now: ISDNInstant) {
        stack.request(request, now: now, into: &actions)
        perform()
    }

    private mutating func perform() {
        var index = 0
        while index < actions.count {
            // Moved out rather than copied (no retain and release of the payload), which also
            // leaves only trivial placeholders for the cheap emptying below.
            var action = PRIAction.dataLinkChanged(up: false)
            swap(&action, &actions[index])
            index += 1
            switch consume action {
            case .transmit(let frame):
                guard let count = frame.encode(into: writeBuffer) else { fatalError("frame too long") }
                writeBuffer[count] = 0
                writeBuffer[count + 1] = 0
                let written = write(fd, writeBuffer.baseAddress, count + 2)
                writes += 1
                precondition(written == count + 2, "write: \(errno)")
            case .startTimer, .stopTimer:
                break
            case .indication:
                fatalError("indications are kept by the stack (keepsIndications)")
            case .dataLinkChanged, .dataLinkError, .callControlError:
                break
            }
        }
        // `removeAll(keepingCapacity:)` goes through the generic `replaceSubrange`; dropping
        // the placeholders one by one is several times cheaper for the few there are.
        while !actions.isEmpty { actions.removeLast() }
    }

    /// Reads every waiting frame; returns whether there was any.
    mutating func receive(now: ISDNInstant) -> Bool {
        var any = false
        while true {
            let count = read(fd, readBuffer.baseAddress, readBuffer.count)
            reads += 1
            guard count > 2 else {
                emptyReads += 1
                return any
            }
            any = true
            // The stack reads the frame in place and keeps nothing of it, so the next read
            // writes over it.
            stack.frameReceived(UnsafeRawBufferPointer(rebasing: readBuffer[0..<(count - 2)]), now: now, into: &actions)
            perform()
        }
    }

    /// The indications so far, swapped into `batch` (which must be empty), so answering them
    /// (which may add more) does not copy the array being read, and each array stays uniquely
    /// held so emptying it keeps its storage.
    mutating func takeIndications(into batch: inout [Q931Indication]) {
        stack.takeIndications(into: &batch)
    }

    /// After the indications of a read batch have been answered: the RR for received I frames
    /// that no answer acknowledged (as a driver does before it waits for the next frames).
    mutating func flushAcknowledgement(now: ISDNInstant) {
        stack.sendPendingAcknowledgement(now: now, into: &actions)
        perform()
    }

    mutating func runTimers(now: ISDNInstant) {
        stack.expireTimers(now: now, into: &actions)
        perform()
    }
}

func benchmarkTrunkISDN(cycles: Int) -> Rate {
    let (userFD, networkFD) = socketPair()
    var user = TrunkEnd(role: .user, fd: userFD)
    var network = TrunkEnd(role: .network, fd: networkFD)
    defer {
        user.deallocate()
        network.deallocate()
        close(userFD)
        close(networkFD)
    }
    var now = monotonicInstant()
    user.run { $0.start(now: now, into: &$1) }
    network.run { $0.start(now: now, into: &$1) }
    while !(user.stack.dataLink.isEstablished && network.stack.dataLink.isEstablished) {
        _ = user.receive(now: now)
        _ = network.receive(now: now)
    }
    var pool = ChannelPool()
    var placed = 0
    var completed = 0
    var iteration = 0
    var batch: [Q931Indication] = []
    batch.reserveCapacity(64)
    let called = PartyNumber(digits: "8610012345")
    let calling = PartyNumber(digits: "13900139000", presentation: .allowedUserNotScreened)
    // One request, its channel changed per call, as a driver keeps its numbers at hand.
    var request = Q931SetupRequest(calledNumber: called, callingNumber: calling, channel: nil, exclusive: true)
    let start = monotonicSeconds()
    let cpuStart = threadCPUSeconds()
    let before = (user.writes + network.writes, user.reads + network.reads, user.emptyReads + network.emptyReads)
    while completed < cycles {
        now = monotonicInstant()
        while placed < cycles, let channel = pool.free.popLast() {
            request.channel = channel
            user.placeCall(request, now: now)
            placed += 1
        }
        _ = network.receive(now: now)
        network.takeIndications(into: &batch)
        for indication in batch {
            switch indication {
            case .incomingCall(let offer):
                network.request(.proceeding(offer.id), now: now)
                network.request(.alerting(offer.id), now: now)
                network.request(.connect(offer.id), now: now)
            case .cleared(_, _, let channel):
                if let channel, pool.sideDone(channel) { completed += 1 }
            default:
                break
            }
        }
        while !batch.isEmpty { batch.removeLast() }
        network.flushAcknowledgement(now: now)
        _ = user.receive(now: now)
        user.takeIndications(into: &batch)
        for indication in batch {
            switch indication {
            case .answered(let id, _):
                user.request(.disconnect(id, cause: .normalCallClearing), now: now)
            case .cleared(_, let cause, let channel):
                precondition(cause == .normalCallClearing, "call cleared with \(cause)")
                if let channel, pool.sideDone(channel) { completed += 1 }
            default:
                break
            }
        }
        while !batch.isEmpty { batch.removeLast() }
        user.flushAcknowledgement(now: now)
        iteration += 1
        if iteration & 63 == 0 {
            user.runTimers(now: now)
            network.runTimers(now: now)
        }
    }
    var rate = Rate(cycles: cycles, wallStart: start, cpuStart: cpuStart)
    rate.count(
        writes: user.writes + network.writes - before.0, reads: user.reads + network.reads - before.1,
        emptyReads: user.emptyReads + network.emptyReads - before.2, cycles: cycles)
    return rate
}

// MARK: - libpri against libpri

func benchmarkLibPRI(cycles: Int) -> Rate {
    let (userFD, networkFD) = socketPair()
    defer {
        close(userFD)
        close(networkFD)
    }
    guard let user = lpp_new(userFD, 0), let network = lpp_new(networkFD, 1) else { fatalError("libpri") }
    defer {
        lpp_close(user)
        lpp_close(network)
    }
    var events = [lpp_event](repeating: lpp_event(), count: 256)
    var userUp = false
    var networkUp = false
    while !(userUp && networkUp) {
        for index in 0..<Int(lpp_receive(user, &events, 256)) where events[index].type == PRI_EVENT_DCHAN_UP { userUp = true }
        for index in 0..<Int(lpp_receive(network, &events, 256)) where events[index].type == PRI_EVENT_DCHAN_UP { networkUp = true }
    }
    var pool = ChannelPool()
    var channelOfCall: [OpaquePointer: UInt8] = [:]
    var placed = 0
    var completed = 0
    var iteration = 0
    let start = monotonicSeconds()
    let cpuStart = threadCPUSeconds()
    let before = (lpp_writes(user) + lpp_writes(network), lpp_reads(user) + lpp_reads(network),
                  lpp_empty_reads(user) + lpp_empty_reads(network))
    while completed < cycles {
        while placed < cycles, let channel = pool.free.popLast() {
            guard let call = lpp_place_call(user, Int32(channel), 1, "8610012345", "13900139000", 1) else { fatalError("pri_setup") }
            channelOfCall[call] = channel
            placed += 1
        }
        let networkCount = Int(lpp_receive(network, &events, 256))
        for index in 0..<networkCount {
            let event = events[index]
            switch event.type {
            case PRI_EVENT_RING:
                _ = pri_proceeding(lpp_pri(network), event.call, event.channel, 0)
                _ = pri_acknowledge(lpp_pri(network), event.call, event.channel, 0)
                _ = pri_answer(lpp_pri(network), event.call, event.channel, 0)
            case PRI_EVENT_HANGUP_REQ:
                _ = pri_hangup(lpp_pri(network), event.call, event.cause)
            case PRI_EVENT_HANGUP, PRI_EVENT_HANGUP_ACK:
                if event.type == PRI_EVENT_HANGUP { _ = pri_hangup(lpp_pri(network), event.call, event.cause) }
                if pool.sideDone(UInt8(event.channel & 0xFF)) { completed += 1 }
            default:
                break
            }
        }
        let userCount = Int(lpp_receive(user, &events, 256))
        for index in 0..<userCount {
            let event = events[index]
            switch event.type {
            case PRI_EVENT_ANSWER:
                _ = pri_hangup(lpp_pri(user), event.call, 16)
            case PRI_EVENT_HANGUP, PRI_EVENT_HANGUP_ACK:
                if event.type == PRI_EVENT_HANGUP { _ = pri_hangup(lpp_pri(user), event.call, 16) }
                if let call = event.call, let channel = channelOfCall.removeValue(forKey: call), pool.sideDone(channel) {
                    completed += 1
                }
            default:
                break
            }
        }
        iteration += 1
        if iteration & 63 == 0 {
            _ = lpp_run_timers(user, &events, 256)
            _ = lpp_run_timers(network, &events, 256)
        }
    }
    precondition(lpp_error_count(user) == 0 && lpp_error_count(network) == 0, "libpri reported errors")
    var rate = Rate(cycles: cycles, wallStart: start, cpuStart: cpuStart)
    rate.count(
        writes: lpp_writes(user) + lpp_writes(network) - before.0, reads: lpp_reads(user) + lpp_reads(network) - before.1,
        emptyReads: lpp_empty_reads(user) + lpp_empty_reads(network) - before.2, cycles: cycles)
    return rate
}

// MARK: - Main

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// Heap allocations per operation in steady state (after one warm-up round), optimised build.
func allocationsPerOperation(_ body: () throws -> Void) rethrows -> Double {
    try body()
    malloc_counter_start()
    for _ in 0..<1000 { try body() }
    return Double(malloc_counter_stop()) / 1000
}

let setupMessage = Q931Message(.setup, callReference: Q931CallReference(value: 0x1234, flag: false), informationElements: [
    .bearerCapability(.speechALaw),
    .channelIdentification(.primary(channel: 17, exclusive: true)),
    .callingPartyNumber(PartyNumber(digits: "13900139000", presentation: .allowedUserNotScreened)),
    .calledPartyNumber(PartyNumber(digits: "8610012345")),
    .sendingComplete,
])
let setupOctets = try! setupMessage.encoded()
let setupFrame = LAPDFrame(
    address: LAPDAddress(sapi: 0, commandResponseBit: false, tei: 0),
    control: .information(ns: 5, nr: 9, poll: false), information: setupOctets[...])
var codecBuffer: [UInt8] = []
codecBuffer.reserveCapacity(512)
var sink = 0
let lapdEncode = allocationsPerOperation {
    codecBuffer.removeAll(keepingCapacity: true)
    setupFrame.encode(into: &codecBuffer)
}
let lapdDecode = try! allocationsPerOperation { sink &+= try LAPDFrame.decode(codecBuffer[...]).information.count }
let q931Encode = try! allocationsPerOperation {
    codecBuffer.removeAll(keepingCapacity: true)
    try setupMessage.encode(into: &codecBuffer)
}
var decodedMessage = Q931Message.empty
let q931Decode = try! allocationsPerOperation {
    try Q931Message.decode(setupOctets[...], into: &decodedMessage)
    sink &+= decodedMessage.informationElements.count
}
let q931DecodeFresh = try! allocationsPerOperation { sink &+= try Q931Message.decode(setupOctets[...]).informationElements.count }
print("allocations per operation (SETUP, 5 elements): LAPD encode \(lapdEncode), LAPD decode \(lapdDecode), Q.931 encode \(q931Encode), Q.931 decode \(q931Decode) (into a reused message; \(q931DecodeFresh) as a new message)")

print("trunkbench-pri: \(cyclesPerRun) cycles per run, \(runs) runs, \(concurrentCalls) concurrent calls, one span")
// Warm up both (page in code, grow buffers), then alternate so machine noise hits both alike.
if runTrunk { _ = benchmarkTrunkISDN(cycles: 2_000) }
if runLibPRI { _ = benchmarkLibPRI(cycles: 2_000) }
/// Heap allocations per call cycle in steady state, both ends: a longer run less a shorter one,
/// so setting up the stacks and the socket pair cancels out.
func allocationsPerCycle(_ benchmark: (Int) -> Rate) -> Double {
    malloc_counter_start()
    _ = benchmark(2_000)
    let short = malloc_counter_stop()
    malloc_counter_start()
    _ = benchmark(6_000)
    let long = malloc_counter_stop()
    return Double(long - short) / 4_000
}
var allocationLine: [String] = []
if runTrunk { allocationLine.append("TrunkISDN \(allocationsPerCycle { benchmarkTrunkISDN(cycles: $0) })") }
if runLibPRI { allocationLine.append("libpri \(allocationsPerCycle { benchmarkLibPRI(cycles: $0) })") }
print("heap allocations per call cycle, both ends: " + allocationLine.joined(separator: ", "))
var trunkRates: [Rate] = []
var libpriRates: [Rate] = []
for run in 1...runs {
    if runTrunk { trunkRates.append(benchmarkTrunkISDN(cycles: cyclesPerRun)) }
    if runLibPRI { libpriRates.append(benchmarkLibPRI(cycles: cyclesPerRun)) }
    let trunk = trunkRates.last, libpri = libpriRates.last
    print("run \(run): TrunkISDN \(Int(trunk?.wall ?? 0)) cycles/s wall, \(Int(trunk?.cpu ?? 0)) per CPU second; "
        + "libpri \(Int(libpri?.wall ?? 0)) cycles/s wall, \(Int(libpri?.cpu ?? 0)) per CPU second")
}
/// CPU time of one write() of a 30-octet frame plus the read() that takes it, and of a read()
/// that finds nothing, on a socket pair like the benchmark's: the kernel's share of a frame.
func syscallCosts() -> (pair: Double, emptyRead: Double) {
    let (a, b) = socketPair()
    defer {
        close(a)
        close(b)
    }
    var frame = [UInt8](repeating: 0x55, count: 30)
    var sink = [UInt8](repeating: 0, count: 512)
    var pairs: [Double] = []
    var empties: [Double] = []
    let n = 100_000
    for _ in 0..<5 {
        let t0 = threadCPUSeconds()
        for _ in 0..<n {
            _ = frame.withUnsafeMutableBytes { write(a, $0.baseAddress, $0.count) }
            _ = sink.withUnsafeMutableBytes { read(b, $0.baseAddress, $0.count) }
        }
        let t1 = threadCPUSeconds()
        for _ in 0..<n {
            _ = sink.withUnsafeMutableBytes { read(b, $0.baseAddress, $0.count) }
        }
        let t2 = threadCPUSeconds()
        pairs.append((t1 - t0) / Double(n))
        empties.append((t2 - t1) / Double(n))
    }
    return (median(pairs), median(empties))
}

func describe(_ rates: [Rate]) -> String {
    let writes = median(rates.map(\.writes)), reads = median(rates.map(\.reads)), empty = median(rates.map(\.emptyReads))
    return "\(fixed(writes)) frames written, \(fixed(reads)) reads (\(fixed(empty)) found nothing)"
}

func fixed(_ value: Double) -> String { String(Int((value * 100).rounded())).paddedDecimal }

extension String {
    /// "1715" as "17.15": two decimals without Foundation's formatting.
    var paddedDecimal: String {
        let digits = count < 3 ? String(repeating: "0", count: 3 - count) + self : self
        return digits.dropLast(2) + "." + digits.suffix(2)
    }
}

if runTrunk { print("per cycle, both ends: TrunkISDN \(describe(trunkRates))") }
if runLibPRI { print("per cycle, both ends: libpri \(describe(libpriRates))") }
guard runTrunk && runLibPRI else { exit(0) }
func ratio(_ a: Double, _ b: Double) -> Double { (a / b * 100).rounded() / 100 }
let trunkWall = median(trunkRates.map(\.wall)), libpriWall = median(libpriRates.map(\.wall))
let trunkCPU = median(trunkRates.map(\.cpu)), libpriCPU = median(libpriRates.map(\.cpu))
print("median wall: TrunkISDN⇄TrunkISDN \(Int(trunkWall)) cycles/s, libpri⇄libpri \(Int(libpriWall)) cycles/s, ratio \(ratio(trunkWall, libpriWall))")
print("median per thread CPU second: TrunkISDN⇄TrunkISDN \(Int(trunkCPU)), libpri⇄libpri \(Int(libpriCPU)), ratio \(ratio(trunkCPU, libpriCPU))")
// The kernel's share, measured now: what the syscalls alone allow each stack.
let costs = syscallCosts()
let trunkSyscallSeconds = median(trunkRates.map(\.writes)) * costs.pair + median(trunkRates.map(\.emptyReads)) * costs.emptyRead
let libpriSyscallSeconds = median(libpriRates.map(\.writes)) * costs.pair + median(libpriRates.map(\.emptyReads)) * costs.emptyRead
print("system calls: write+read of a frame \(Int(costs.pair * 1e9)) ns CPU, empty read \(Int(costs.emptyRead * 1e9)) ns; "
    + "per cycle TrunkISDN \(fixed(trunkSyscallSeconds * 1e6)) µs, libpri \(fixed(libpriSyscallSeconds * 1e6)) µs; "
    + "the rest (user space) per cycle TrunkISDN \(fixed(max(0, 1e6 / trunkCPU - trunkSyscallSeconds * 1e6))) µs, libpri \(fixed(max(0, 1e6 / libpriCPU - libpriSyscallSeconds * 1e6))) µs")
