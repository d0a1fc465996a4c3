/// RESTART procedures (Q.931 §5.5) on the global call reference.
extension Q931Interface {
    /// Restart B-channels (nil = the whole interface): calls on them are cleared locally,
    /// RESTART is sent, and the channels stay out of use until RESTART ACKNOWLEDGE (T316).
    public mutating func restart(channels: [UInt8]?, now: ISDNInstant) -> [Q931Action] {
        var out: [Q931Action] = []
        if pendingRestart != nil {
            // One restart at a time on the global call reference; the next follows the acknowledgement.
            queuedRestarts.append(channels)
            return out
        }
        startRestart(channels: channels, now: now, &out)
        return finish(out)
    }

    private mutating func startRestart(channels: [UInt8]?, now: ISDNInstant, _ out: inout some Q931ActionSink) {
        clearCalls(on: channels, &out)
        var elements: [Q931InformationElement] = []
        if let channels {
            elements.append(.channelIdentification(ChannelIdentification(exclusive: true, selection: .channelNumbers(channels))))
            elements.append(.restartIndicator(RestartIndicator(.indicatedChannels)))
        } else {
            elements.append(.restartIndicator(RestartIndicator(.allInterfaces)))
        }
        let message = Q931Message(
            .restart, callReference: .global(flag: false, length: configuration.callReferenceLength),
            informationElements: elements)
        let deadline = now + configuration.t316
        pendingRestart = PendingRestart(channels: channels, message: message, attempts: 1, deadline: deadline)
        counters.restartsSent += 1
        out.append(.send(message))
        out.append(.startTimer(.restart, deadline: deadline))
    }

    mutating func restartTimerExpired(now: ISDNInstant, _ out: inout some Q931ActionSink) {
        guard var pending = pendingRestart, pending.deadline <= now else { return }
        if pending.attempts < configuration.n316 {
            pending.attempts += 1
            pending.deadline = now + configuration.t316
            pendingRestart = pending
            out.append(.send(pending.message))
            out.append(.startTimer(.restart, deadline: pending.deadline))
        } else {
            pendingRestart = nil
            out.append(.indication(.restartFailed(channels: pending.channels)))
            startNextRestart(now: now, &out)
        }
    }

    private mutating func startNextRestart(now: ISDNInstant, _ out: inout some Q931ActionSink) {
        guard !queuedRestarts.isEmpty else { return }
        startRestart(channels: queuedRestarts.removeFirst(), now: now, &out)
    }

    /// Messages on the global call reference: RESTART and RESTART ACKNOWLEDGE; others are ignored.
    mutating func globalMessageReceived(_ message: Q931Message, now: ISDNInstant, _ out: inout some Q931ActionSink) {
        switch message.messageType {
        case .restart:
            restartReceived(message, &out)
        case .restartAcknowledge:
            guard let pending = pendingRestart else {
                out.append(.protocolError(.ignoredMessage(message.messageType, message.callReference)))
                return
            }
            pendingRestart = nil
            out.append(.stopTimer(.restart))
            out.append(.indication(.restartCompleted(channels: pending.channels)))
            startNextRestart(now: now, &out)
        default:
            out.append(.protocolError(.ignoredMessage(message.messageType, message.callReference)))
        }
    }

    private mutating func restartReceived(_ message: Q931Message, _ out: inout some Q931ActionSink) {
        counters.restartsReceived += 1
        let reply = message.callReference.flipped
        let check = Q931ElementCheck(message)
        if let fatal = check.fatal {
            out.append(.protocolError(fatal.error(.restart)))
            out.append(.send(globalStatus(reply, cause: fatal.cause, diagnostics: [fatal.identifier])))
            return
        }
        guard let indicator = message.restartIndicator else { return }
        var channels: [UInt8]?
        if indicator.restartClass == .indicatedChannels {
            guard case .channelNumbers(let numbers)? = message.channelIdentification?.selection, !numbers.isEmpty else {
                out.append(.protocolError(.mandatoryElementMissing(.restart, identifier: Q931ElementIdentifier.channelIdentification)))
                out.append(.send(globalStatus(reply, cause: .mandatoryInformationElementMissing,
                                              diagnostics: [Q931ElementIdentifier.channelIdentification])))
                return
            }
            guard numbers.allSatisfy(configuration.bChannels.contains) else {
                out.append(.send(globalStatus(reply, cause: .identifiedChannelDoesNotExist, diagnostics: [])))
                return
            }
            channels = Array(numbers)
        }
        clearCalls(on: channels, &out)
        var elements: [Q931InformationElement] = []
        if let identification = message.channelIdentification, channels != nil {
            elements.append(.channelIdentification(identification))
        }
        elements.append(.restartIndicator(indicator))
        out.append(.send(Q931Message(.restartAcknowledge, callReference: reply, informationElements: elements)))
        out.append(.indication(.restarted(channels: channels)))
    }

    private func globalStatus(_ callReference: Q931CallReference, cause: Q850Cause, diagnostics: [UInt8]) -> Q931Message {
        Q931Message(.status, callReference: callReference, informationElements: [
            .cause(CauseElement(cause, location: configuration.causeLocation, diagnostics: diagnostics)),
            .callState(CallStateElement(value: 0)),
        ])
    }

    /// Clears, without messages, the calls on `channels` (nil = every call).
    private mutating func clearCalls(on channels: [UInt8]?, _ out: inout some Q931ActionSink) {
        for id in callIDs {
            guard var call = calls[id] else { continue }
            let affected = channels.map { list in call.channel.map(list.contains) ?? false } ?? true
            guard affected else { continue }
            call.clearForRestart(&out)
            store(call)
        }
    }
}
