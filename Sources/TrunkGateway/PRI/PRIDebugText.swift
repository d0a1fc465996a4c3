import TrunkISDN
import TrunkTrace

/// The decoded text of D-channel frames for `trunkctl pri debug`: one block per frame, Q.921
/// on the first line and the Q.931 message with its information elements below, in the
/// spirit of Asterisk's `pri debug` so technicians read it the same way.
public enum PRIDebugText {
    /// `span` labels live output; an offline trace has none.
    public static func describe<Frame: Collection>(frame bytes: Frame, direction: LAPDDirection, span: Int?) -> String
    where Frame.Element == UInt8 {
        let arrow = direction == .sent ? ">" : "<"
        let prefix = (span.map { "span \($0) " } ?? "") + "\(arrow) "
        guard let frame = try? LAPDFrame.decode(Array(bytes)) else {
            return prefix + "undecodable frame [\(hex(bytes))]"
        }
        var text = prefix + "SAPI \(frame.address.sapi) TEI \(frame.address.tei) C/R \(frame.address.commandResponseBit ? 1 : 0)  "
        switch frame.control {
        case .information(let ns, let nr, let poll):
            text += "I N(S)=\(ns) N(R)=\(nr)\(poll ? " P" : "")"
        case .supervisory(let function, let nr, let pf):
            let name = switch function {
            case .receiveReady: "RR"
            case .receiveNotReady: "RNR"
            case .reject: "REJ"
            }
            text += "\(name) N(R)=\(nr)\(pf ? " P/F" : "")"
        case .unnumbered(let function, let pf):
            let name = switch function {
            case .setAsynchronousBalancedModeExtended: "SABME"
            case .unnumberedAcknowledgement: "UA"
            case .disconnectedMode: "DM"
            case .disconnect: "DISC"
            case .frameReject: "FRMR"
            case .unnumberedInformation: "UI"
            case .exchangeIdentification: "XID"
            }
            text += name + (pf ? " P/F" : "")
        }
        guard !frame.information.isEmpty else { return text }
        guard let message = try? Q931Message.decode(frame.information) else {
            return text + "\n" + prefix + "  undecodable Q.931 [\(hex(frame.information))]"
        }
        text += "\n" + prefix + "  \(message.messageType.name)  call ref \(message.callReference)"
        for element in message.informationElements {
            text += "\n" + prefix + "    " + describe(element)
        }
        return text
    }

    static func describe(_ element: Q931InformationElement) -> String {
        switch element {
        case .bearerCapability(let bearer):
            return "Bearer capability: transfer capability \(bearer.transferCapability.rawValue), rate \(bearer.transferRate.rawValue)"
                + (bearer.userInformationLayer1.map { ", layer 1 \($0.rawValue == 3 ? "A-law" : $0.rawValue == 2 ? "µ-law" : String($0.rawValue))" } ?? "")
        case .channelIdentification(let channel):
            let number = channel.channelNumber.map { "channel \($0)" } ?? "any channel"
            return "Channel identification: \(channel.exclusive ? "exclusive" : "preferred"), \(number)"
        case .callingPartyNumber(let number): return "Calling party number: " + describe(number)
        case .calledPartyNumber(let number): return "Called party number: " + describe(number)
        case .connectedNumber(let number): return "Connected number: " + describe(number)
        case .redirectingNumber(let number): return "Redirecting number: " + describe(number)
        case .cause(let cause):
            return "Cause: \(cause.value.rawValue) \(cause.value.text), location \(cause.locationCode)"
        case .progressIndicator(let progress): return "Progress indicator: \(progress)"
        case .display(let bytes): return "Display: \(String(decoding: bytes, as: UTF8.self))"
        case .keypadFacility(let bytes): return "Keypad facility: \(String(decoding: bytes, as: UTF8.self))"
        case .sendingComplete: return "Sending complete"
        case .dateTime(let date): return "Date/time: \(date)"
        case .highLayerCompatibility(let hlc): return "High layer compatibility: \(hlc)"
        case .lowLayerCompatibility(let bytes): return "Low layer compatibility: [\(hex(bytes))]"
        case .callState(let state): return "Call state: \(state)"
        case .restartIndicator(let indicator): return "Restart indicator: \(indicator)"
        case .notificationIndicator(let indicator): return "Notification indicator: \(indicator)"
        case .facility(let bytes): return "Facility: [\(hex(bytes))]"
        case .callIdentity(let bytes): return "Call identity: [\(hex(bytes))]"
        case .unrecognized(let raw): return "Unrecognized element 0x\(hexByte(raw.identifier)) (codeset \(raw.codeset)): [\(hex(raw.contents))]"
        case .invalid(let raw, let error): return "Invalid element 0x\(hexByte(raw.identifier)): \(error) [\(hex(raw.contents))]"
        }
    }

    static func describe(_ number: PartyNumber) -> String {
        var text = number.digits.isEmpty ? "(empty)" : number.digits
        text += " (type \(number.typeOfNumber.rawValue), plan \(number.numberingPlan.rawValue)"
        if let presentation = number.presentation { text += ", presentation \(presentation)" }
        return text + ")"
    }

    static func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    static func hex<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        bytes.map(hexByte).joined(separator: " ")
    }
}
