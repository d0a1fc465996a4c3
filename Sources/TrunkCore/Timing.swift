/// The hardware clock's unit: one DAHDI tick is 1 ms, carrying 8 samples per channel at 8 kHz.
public enum Tick {
    public static let samplesPerTick = 8
    public static let sampleRate = 8000
    public static let ticksPerSecond = 1000

}
