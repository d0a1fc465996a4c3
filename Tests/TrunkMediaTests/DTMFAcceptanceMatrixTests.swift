import G168Harness
import Testing
import TrunkMedia

/// The full DTMF acceptance matrix of issue 5 (G168Harness.DTMFAcceptance): per level pair
/// (equal, +4 dB reverse and −8 dB normal twist, −10…−30 dBm0), every offset case with three
/// noise seeds; 16 digits of 40 ms with 40 ms pauses, noise 15 dB below the weaker tone,
/// through A-law.
@Suite struct DTMFAcceptanceMatrixTests {
    static let pairs = Array(DTMFAcceptance.levelPairs.indices)

    static func cases(_ all: [DTMFAcceptance.Case], pair: Int) -> [DTMFAcceptance.Case] {
        let (low, high) = DTMFAcceptance.levelPairs[pair]
        return all.filter { $0.lowDBm0 == low && $0.highDBm0 == high }
    }

    /// No offset, each tone ±1.5 % and both tones ±1.5 % at once: every digit, once, in order.
    @Test(arguments: pairs)
    func withinOnePointFivePercentEveryDigitIsDetected(pair: Int) {
        let cases = Self.cases(DTMFAcceptance.acceptedCases(), pair: pair)
        #expect(cases.count == 27)
        for c in cases {
            let found = DTMFAcceptance.digits(DTMFReceiver(), DTMFAcceptance.signal(c))
            #expect(found == DTMFAcceptance.allDigits, "\(c)")
        }
    }

    /// Each tone ±3.5 % and both tones ±3.5 % at once: no digit at all.
    @Test(arguments: pairs)
    func atThreePointFivePercentNoDigitIsDetected(pair: Int) {
        let cases = Self.cases(DTMFAcceptance.rejectedCases(), pair: pair)
        #expect(cases.count == 16)
        for c in cases {
            let found = DTMFAcceptance.digits(DTMFReceiver(), DTMFAcceptance.signal(c))
            #expect(found == "", "\(c)")
        }
    }
}
