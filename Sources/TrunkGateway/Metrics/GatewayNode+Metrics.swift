import TrunkHardware

extension GatewayNode {
    /// The node's state as Prometheus text. Only series backed by real state are written;
    /// echo canceller ERLE and recording queue depth arrive with the media and recording layers.
    public func metricsText() -> String {
        var out = PrometheusText()
        let snapshot = alarmSnapshot()

        out.family("trunkline_span_alarm", .gauge, help: "1 while the span has this alarm (DAHDI alarm names).")
        for span in snapshot.spans {
            for name in ["RED", "YELLOW", "BLUE", "LOS", "LFA", "LMFA", "LOOPBACK"] {
                out.sample("trunkline_span_alarm", ["span": "\(span.span)", "alarm": name], span.alarms.names.contains(name) ? 1 : 0)
            }
        }
        out.family("trunkline_span_errors_total", .counter, help: "Line error counters since the last reset (span counters).")
        for span in snapshot.spans where span.type == .e1 {
            let c = span.counters
            for (counter, value) in [("bpv", c.bipolarViolations), ("crc4", c.crc4Errors), ("fas", c.framingErrors), ("ebit", c.eBitErrors),
                                     ("errored_seconds", c.erroredSeconds), ("slips", c.slips), ("bad_fcs", c.badFCS)] {
                out.sample("trunkline_span_errors_total", ["span": "\(span.span)", "counter": counter], value)
            }
        }
        out.family("trunkline_sync_source", .gauge, help: "Span timing the system; 0 is the internal clock.")
        out.sample("trunkline_sync_source", [:], snapshot.syncSource)

        out.family("trunkline_dchannel_up", .gauge, help: "1 while the span's D-channel data link is established.")
        for span in snapshot.dChannelUp.keys.sorted() {
            out.sample("trunkline_dchannel_up", ["span": "\(span)"], snapshot.dChannelUp[span]! ? 1 : 0)
        }

        out.family("trunkline_channels", .gauge, help: "Channels per span by state (PRI B-channels: call state; analog ports: hook state).")
        for (span, counts) in channelStateCounts() {
            for state in counts.keys.sorted() {
                out.sample("trunkline_channels", ["span": "\(span)", "state": state], counts[state]!)
            }
        }

        out.family("trunkline_calls_active", .gauge, help: "Calls in progress on this node's spans, by state.")
        let live = calls?.manager.live ?? []
        let byState = Dictionary(grouping: live, by: \.state.rawValue)
        for state in byState.keys.sorted() { out.sample("trunkline_calls_active", ["state": state], byState[state]!.count) }
        out.family("trunkline_calls_recently_ended", .gauge, help: "Ended calls kept for `trunkctl calls` (the newest 200).")
        out.sample("trunkline_calls_recently_ended", [:], calls?.manager.recentlyEnded.count ?? 0)

        if let media = calls?.media {
            out.family("trunkline_echo_erle_db", .gauge, help: "Echo return loss enhancement of each active call's echo canceller (analog lines).")
            for (callID, erle) in media.echoERLE.sorted(by: { $0.callID < $1.callID }) {
                let address = calls?.manager.call(callID)?.address
                out.sample("trunkline_echo_erle_db", ["call": callID, "span": "\(address?.span ?? 0)", "channel": "\(address?.channel ?? 0)"], erle)
            }
            if let queue = media.recordingQueue {
                out.family("trunkline_recordings_active", .gauge, help: "Recordings being written.")
                out.sample("trunkline_recordings_active", [:], queue.active)
                out.family("trunkline_recording_queue_frames", .gauge, help: "Audio frames handed to the recorder and not yet written (queue depth).")
                out.sample("trunkline_recording_queue_frames", [:], queue.queuedFrames)
                out.family("trunkline_recording_dropped_frames", .gauge, help: "Frames dropped by the recordings in progress because the writer fell behind.")
                out.sample("trunkline_recording_dropped_frames", [:], queue.droppedFrames)
                out.family("trunkline_calls_unrecorded_total", .counter, help: "Calls full-time recording covered that the store refused (full).")
                out.sample("trunkline_calls_unrecorded_total", [:], media.unrecordedCalls)
            }
        }

        if let alarms {
            out.family("trunkline_alarms_active", .gauge, help: "Alarms raised and not yet cleared, by severity.")
            let active = alarms.activeAlarms
            for severity in [AlarmRecord.Severity.urgent, .nonUrgent] {
                out.sample("trunkline_alarms_active", ["severity": severity.rawValue], active.filter { $0.severity == severity }.count)
            }
        }

        if let clock {
            let statistics = clock.statistics
            out.family("trunkline_media_ticks_total", .counter, help: "1 ms media ticks run by the simulator clock.")
            out.sample("trunkline_media_ticks_total", [:], Double(statistics.ticks))
            out.family("trunkline_media_ticks_skipped_total", .counter, help: "Ticks abandoned after a stall.")
            out.sample("trunkline_media_ticks_skipped_total", [:], Double(statistics.skippedTicks))
            out.family("trunkline_media_tick_lateness_bound_microseconds", .gauge,
                       help: "Upper bound of the power-of-two lateness bucket below which this fraction of ticks ran.")
            for quantile in [0.5, 0.99, 0.999] {
                out.sample("trunkline_media_tick_lateness_bound_microseconds", ["quantile": "\(quantile)"], Double(statistics.latenessPercentile(quantile)))
            }
            out.family("trunkline_media_tick_lateness_max_microseconds", .gauge, help: "Latest tick lateness seen since start.")
            out.sample("trunkline_media_tick_lateness_max_microseconds", [:], Double(statistics.maximumLatenessMicroseconds))
        }
        return out.output
    }

    /// Channel states per span: PRI B-channels from their drivers, analog ports from the simulator.
    func channelStateCounts() -> [(Int, [String: Int])] {
        var result: [Int: [String: Int]] = [:]
        for (span, driver) in pri?.drivers ?? [:] {
            for channel in driver.report().channels { result[span, default: [:]][channel.state.rawValue, default: 0] += 1 }
        }
        if let simulator {
            for status in simulator.spanStatuses() where status.type == .analog {
                for channel in (try? simulator.channelParameters(span: status.span)) ?? [] {
                    result[status.span, default: [:]][channel.hookState.rawValue, default: 0] += 1
                }
            }
        }
        return result.keys.sorted().map { ($0, result[$0]!) }
    }
}
