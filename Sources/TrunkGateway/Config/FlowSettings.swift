/// `[flow]`: the built-in call flow's timings (what it plays is the tone zone's and the
/// default prompt). Lab runs and load tests shape calls with it: a long `record_ms` holds each
/// call up that long after the caller's digits.
///
///     [flow]
///     max_digits = 4
///     first_digit_timeout_ms = 5000
///     inter_digit_timeout_ms = 3000
///     record_ms = 5000               # 0: no recording step
///     play_back_digits = true
extension ConfigReader {
    mutating func flowSettings(_ table: ConfigTable) -> BuiltInFlow.Configuration {
        checkKeys(table, allowed: ["max_digits", "first_digit_timeout_ms", "inter_digit_timeout_ms", "record_ms", "play_back_digits"],
                  label: "[flow]")
        var flow = BuiltInFlow.Configuration()
        flow.maxDigits = integer(table, "max_digits", in: 1...32, default: flow.maxDigits) ?? flow.maxDigits
        flow.firstDigitTimeoutMs = integer(table, "first_digit_timeout_ms", in: 100...600_000, default: flow.firstDigitTimeoutMs)
            ?? flow.firstDigitTimeoutMs
        flow.interDigitTimeoutMs = integer(table, "inter_digit_timeout_ms", in: 100...600_000, default: flow.interDigitTimeoutMs)
            ?? flow.interDigitTimeoutMs
        flow.recordMs = integer(table, "record_ms", in: 0...3_600_000, default: flow.recordMs) ?? flow.recordMs
        flow.playBackDigits = boolean(table, "play_back_digits", default: flow.playBackDigits)
        return flow
    }
}
