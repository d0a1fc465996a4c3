import TrunkMedia

extension CallAudio {
    /// One cycle of a tone from the zone's plan, played once: a continuous tone lasts a second,
    /// and a cadence's silences are kept but shortened to a second (a single play needs no
    /// 4 s or 10 s gap). `withSilences` false plays the tone's bursts only (a beep).
    public static func zoneTone(_ tone: ProgressTone, zone: TrunkMedia.ToneZone = .cn, withSilences: Bool = true) -> CallAudio? {
        guard let definition = zone.definition(of: tone) else { return nil }
        let steps = definition.segments.compactMap { segment -> ToneStep? in
            if segment.isSilence {
                return withSilences ? ToneStep(frequencies: [], durationMs: min(segment.durationMs ?? 1_000, 1_000)) : nil
            }
            return ToneStep(frequencies: segment.frequencies, levelDBm0: Double(segment.levelDBm0), durationMs: segment.durationMs ?? 1_000)
        }
        return .tones(steps)
    }
}
