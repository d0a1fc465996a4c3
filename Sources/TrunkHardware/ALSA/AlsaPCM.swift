import CAlsa
import TrunkCore
#if canImport(Glibc)
import Glibc
#endif

/// One ALSA PCM stream at 8 kHz, S16_LE, opened non-blocking with low-latency periods. It
/// owns its `snd_pcm_t` and recovers from xruns (EPIPE) and suspends (ESTRPIPE) by itself,
/// counting each: a lost period is reported, never fatal.
public final class AlsaPCM: @unchecked Sendable {
    public enum Direction: String, Sendable, Codable {
        case capture
        case playback
    }

    public struct Statistics: Sendable, Equatable, Codable {
        /// Capture: samples lost because they were not read in time (EPIPE).
        public var overruns = 0
        /// Playback: the card ran out of samples (EPIPE).
        public var underruns = 0
        /// The device was suspended and resumed (ESTRPIPE).
        public var suspends = 0
        public var frames = 0
    }

    public let device: String
    public let direction: Direction
    public let channels: Int
    public let periodFrames: Int
    public private(set) var statistics = Statistics()
    private var pcm: OpaquePointer?
    private var configuration: OpaquePointer?

    /// Opens `device` (an ALSA name such as `hw:1,0` or `default`). `configuration` is ALSA
    /// configuration text that defines extra PCMs for this stream only (tests use it for a
    /// software card); without it the system's configuration applies.
    public init(device: String, direction: Direction, channels: Int = 1, periodFrames: Int = 160, periods: Int = 4,
                configuration text: String? = nil) throws(TrunkError) {
        guard channels == 1 || channels == 2 else { throw TrunkError(.invalidArgument, "\(device): 1 or 2 channels, not \(channels)") }
        self.device = device
        self.direction = direction
        self.channels = channels
        self.periodFrames = periodFrames
        let stream = direction == .capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK
        var handle: OpaquePointer?
        var result: Int32
        if let text {
            var top: OpaquePointer?
            var input: OpaquePointer?
            snd_config_top(&top)
            result = snd_input_buffer_open(&input, text, -1)
            if result >= 0 {
                result = snd_config_load(top, input)
                snd_input_close(input)
            }
            guard result >= 0 else {
                configuration = top
                close()
                throw TrunkError(.invalidArgument, "ALSA configuration for \(device): \(Self.text(result))")
            }
            configuration = top
            result = snd_pcm_open_lconf(&handle, device, stream, SND_PCM_NONBLOCK, top)
        } else {
            result = snd_pcm_open(&handle, device, stream, SND_PCM_NONBLOCK)
        }
        guard result >= 0, let handle else {
            close()
            var message = "ALSA \(direction.rawValue) device \(device): \(Self.text(result))"
            if -result == EACCES || -result == EPERM { message += " — is trunkd in group trunkline (or audio)?" }
            throw TrunkError(-result == EACCES ? .permissionDenied : .deviceError, message)
        }
        pcm = handle
        let latency = UInt32(periodFrames * periods * 1_000_000 / Tick.sampleRate)
        result = snd_pcm_set_params(handle, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, UInt32(channels),
                                    UInt32(Tick.sampleRate), 1, latency)
        guard result >= 0 else {
            close()
            throw TrunkError(.deviceError, "ALSA \(device): cannot set 8 kHz S16_LE \(channels == 1 ? "mono" : "stereo"): \(Self.text(result))")
        }
        // Start as soon as one period is there rather than when the buffer is full: low latency.
        var software: OpaquePointer?
        snd_pcm_sw_params_malloc(&software)
        snd_pcm_sw_params_current(handle, software)
        snd_pcm_sw_params_set_start_threshold(handle, software, snd_pcm_uframes_t(direction == .capture ? 1 : periodFrames))
        snd_pcm_sw_params_set_avail_min(handle, software, snd_pcm_uframes_t(periodFrames))
        result = snd_pcm_sw_params(handle, software)
        snd_pcm_sw_params_free(software)
        guard result >= 0 else {
            close()
            throw TrunkError(.deviceError, "ALSA \(device): software parameters: \(Self.text(result))")
        }
        if direction == .capture { snd_pcm_start(handle) }
    }

    deinit { close() }

    static func text(_ code: Int32) -> String { String(cString: snd_strerror(code)).lowercased() }

    /// Waits until a period can be read or written (or `timeoutMs` passes).
    public func wait(timeoutMs: Int32) -> Bool {
        guard let pcm else { return false }
        return snd_pcm_wait(pcm, timeoutMs) > 0
    }

    /// Reads up to `buffer.count / channels` frames, interleaved; 0 when nothing is ready.
    public func read(into buffer: UnsafeMutableBufferPointer<Int16>) throws(TrunkError) -> Int {
        guard let pcm else { throw TrunkError(.invalidArgument, "ALSA \(device) is closed") }
        while true {
            let result = snd_pcm_readi(pcm, buffer.baseAddress, snd_pcm_uframes_t(buffer.count / channels))
            if result >= 0 {
                statistics.frames += result
                return result
            }
            try recover(Int32(result))
            if result == -Int(EAGAIN) { return 0 }
        }
    }

    /// Writes interleaved frames; returns how many the device took (0 when its buffer is full).
    public func write(_ samples: UnsafeBufferPointer<Int16>) throws(TrunkError) -> Int {
        guard let pcm else { throw TrunkError(.invalidArgument, "ALSA \(device) is closed") }
        while true {
            let result = snd_pcm_writei(pcm, samples.baseAddress, snd_pcm_uframes_t(samples.count / channels))
            if result >= 0 {
                statistics.frames += result
                return result
            }
            try recover(Int32(result))
            if result == -Int(EAGAIN) { return 0 }
        }
    }

    /// Handles one failed transfer: EAGAIN is nothing, an xrun or a suspend is counted and
    /// repaired, anything else is an error naming the device.
    private func recover(_ code: Int32) throws(TrunkError) {
        guard let pcm else { return }
        switch -code {
        case EAGAIN, EINTR:
            return
        case EPIPE:
            if direction == .capture { statistics.overruns += 1 } else { statistics.underruns += 1 }
            let prepared = snd_pcm_prepare(pcm)
            guard prepared >= 0 else { throw TrunkError(.deviceError, "ALSA \(device): recovering from an xrun: \(Self.text(prepared))") }
            if direction == .capture { snd_pcm_start(pcm) }
        case ESTRPIPE:
            statistics.suspends += 1
            var resumed = snd_pcm_resume(pcm)
            while resumed == -EAGAIN {
                var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
                nanosleep(&pause, nil)
                resumed = snd_pcm_resume(pcm)
            }
            if resumed < 0 { resumed = snd_pcm_prepare(pcm) }
            guard resumed >= 0 else { throw TrunkError(.deviceError, "ALSA \(device): resuming after suspend: \(Self.text(resumed))") }
        default:
            throw TrunkError(.deviceError, "ALSA \(device): \(direction == .capture ? "read" : "write"): \(Self.text(code))")
        }
    }

    public func close() {
        if let pcm { snd_pcm_close(pcm) }
        if let configuration { snd_config_delete(configuration) }
        pcm = nil
        configuration = nil
    }
}
