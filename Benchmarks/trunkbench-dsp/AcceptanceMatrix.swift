import Dispatch
import G168Harness
import TrunkMedia

/// `trunkbench-dsp --matrix`: the DTMF acceptance matrix (G168Harness.DTMFAcceptance) run
/// through the spandsp-based receiver and through `DTMFReceiver`, as digits detected per
/// case (accepted cases) or digits refused (rejected cases), summed by frequency offset.
func runAcceptanceMatrix() {
    let cases = DTMFAcceptance.acceptedCases() + DTMFAcceptance.rejectedCases()
    let receivers: [(String, @Sendable () -> AudioDetector)] = [
        ("spandsp dtmf_rx + frequency check", { SpanDSPDTMFReceiver() }),
        ("DTMFReceiver", { DTMFReceiver() }),
    ]
    // Each case writes only its own slot.
    final class Scores: @unchecked Sendable { var values: [[Int]] = [] }
    let scores = Scores()
    scores.values = [[Int]](repeating: [Int](repeating: 0, count: receivers.count), count: cases.count)
    DispatchQueue.concurrentPerform(iterations: cases.count) { index in
        let samples = DTMFAcceptance.signal(cases[index])
        for (r, receiver) in receivers.enumerated() {
            let found = DTMFAcceptance.digits(receiver.1(), samples)
            scores.values[index][r] = DTMFAcceptance.score(cases[index], found: found)
        }
    }
    print("DTMF acceptance matrix: 16 digits per case, 40 ms on / 40 ms off, noise 15 dB below the weaker tone, A-law")
    print("cases where a receiver is not 16/16:")
    print("case | " + receivers.map(\.0).joined(separator: " | "))
    for (index, c) in cases.enumerated() where scores.values[index].contains(where: { $0 < 16 }) {
        print("\(c.mustDetect ? "accept" : "reject") \(c) | " + scores.values[index].map { "\($0)/16" }.joined(separator: " | "))
    }
    print("")
    print("summary by offset (row, column): digits right / digits sent")
    print("offset | cases | " + receivers.map(\.0).joined(separator: " | "))
    var keys: [String] = []
    var totals: [String: (cases: Int, right: [Int])] = [:]
    for (index, c) in cases.enumerated() {
        let key = "\(c.mustDetect ? "accept" : "reject") row \(c.rowError) col \(c.columnError)"
        if totals[key] == nil { keys.append(key); totals[key] = (0, [Int](repeating: 0, count: receivers.count)) }
        totals[key]!.cases += 1
        for r in receivers.indices { totals[key]!.right[r] += scores.values[index][r] }
    }
    for key in keys {
        let t = totals[key]!
        print("\(key) | \(t.cases) | " + t.right.map { "\($0)/\(t.cases * 16)" }.joined(separator: " | "))
    }
}
