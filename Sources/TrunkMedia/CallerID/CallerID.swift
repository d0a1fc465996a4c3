/// How the exchange sent the caller's identity on an analog line.
public enum CallerIDMethod: String, Sendable, Codable, CaseIterable {
    /// FSK at 1200 bit/s, Bell 202 tones (mark 1200 Hz, space 2200 Hz): the CLASS standard.
    case fskBell202 = "fsk_bell202"
    /// FSK at 1200 bit/s, V.23 forward-channel tones (mark 1300 Hz, space 2100 Hz): ETSI CLIP.
    case fskV23 = "fsk_v23"
    /// DTMF digits before the first ring (`A…C`, `D…C`, `A…#`).
    case dtmf
}

/// Why the number is missing, as the exchange says it ('O' / 'P' in FSK, B00 / B10 in DTMF).
public enum CallerIDAbsence: String, Sendable, Codable {
    case unavailable
    case withheld = "private"
}

/// Date and time of the call as the exchange stamps it (no year on the wire).
public struct CallerIDDateTime: Sendable, Hashable, Codable {
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int

    public init(month: Int, day: Int, hour: Int, minute: Int) {
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
    }
}

/// The identity of a calling party, decoded from (or to be sent as) analog caller ID.
public struct CallerID: Sendable, Hashable, Codable {
    public var number: String?
    public var name: String?
    public var numberAbsence: CallerIDAbsence?
    public var nameAbsence: CallerIDAbsence?
    public var dateTime: CallerIDDateTime?

    public init(number: String? = nil, name: String? = nil, numberAbsence: CallerIDAbsence? = nil,
                nameAbsence: CallerIDAbsence? = nil, dateTime: CallerIDDateTime? = nil) {
        self.number = number
        self.name = name
        self.numberAbsence = numberAbsence
        self.nameAbsence = nameAbsence
        self.dateTime = dateTime
    }
}

/// A caller ID transmission that arrived but could not be trusted.
public enum CallerIDError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The FSK message's checksum did not add up: the content is not passed on.
    case checksum(messageType: UInt8, expected: UInt8, received: UInt8)
    /// The carrier dropped (or the DTMF digits stopped) before the message was complete.
    case truncated(received: Int)
    /// A message type that carries no caller ID (message waiting, charge information, ...).
    case unsupportedMessage(type: UInt8)
    /// A parameter whose length runs past the end of the message.
    case malformed(String)

    public var description: String {
        switch self {
        case let .checksum(type, expected, received):
            "caller ID message 0x\(String(type, radix: 16)) failed its checksum (expected 0x\(String(expected, radix: 16)), received 0x\(String(received, radix: 16)))"
        case let .truncated(received):
            "caller ID stopped after \(received) characters, before the end of the message"
        case let .unsupportedMessage(type):
            "caller ID message type 0x\(String(type, radix: 16)) carries no calling-party identity"
        case let .malformed(why):
            "malformed caller ID message: \(why)"
        }
    }
}

/// What a caller ID receiver reports: the identity, or why it was refused, with the method the
/// line used and the channel sample time at which the message ended.
public struct CallerIDResult: Sendable, Hashable {
    public var outcome: Result<CallerID, CallerIDError>
    public var method: CallerIDMethod
    public var sampleTime: UInt64

    public init(outcome: Result<CallerID, CallerIDError>, method: CallerIDMethod, sampleTime: UInt64) {
        self.outcome = outcome
        self.method = method
        self.sampleTime = sampleTime
    }

    public var callerID: CallerID? {
        if case .success(let id) = outcome { return id }
        return nil
    }
}

// MARK: - FSK messages (Bell SR-TSV-002476 / ETSI EN 300 659-3 share the layout we use)

/// Message and parameter type codes; CLASS and ETSI CLIP agree on these.
enum CallerIDFSKCode {
    static let singleDataMessage: UInt8 = 0x04
    static let multipleDataMessage: UInt8 = 0x80
    static let dateTime: UInt8 = 0x01
    static let number: UInt8 = 0x02
    static let numberAbsence: UInt8 = 0x04
    static let name: UInt8 = 0x07
    static let nameAbsence: UInt8 = 0x08
}

extension CallerID {
    /// Decodes a message whose checksum has already been verified: `bytes` is type, length and
    /// body, without the checksum octet.
    public static func decodeFSK(_ bytes: some Collection<UInt8>) -> Result<CallerID, CallerIDError> {
        let message = Array(bytes)
        guard message.count >= 2 else { return .failure(.truncated(received: message.count)) }
        let type = message[0]
        let length = Int(message[1])
        guard message.count >= 2 + length else { return .failure(.truncated(received: message.count)) }
        let body = message[2..<(2 + length)]
        switch type {
        case CallerIDFSKCode.singleDataMessage:
            // SDMF: eight date/time digits, then the number or a one-letter absence reason.
            guard body.count >= 8 else { return .failure(.malformed("a single data message needs 8 date/time digits, it has \(body.count) bytes")) }
            var id = CallerID(dateTime: dateTime(body.prefix(8)))
            let rest = body.dropFirst(8)
            if rest.count == 1, let absence = absence(rest.first!) {
                id.numberAbsence = absence
            } else if !rest.isEmpty {
                id.number = text(rest)
            }
            return .success(id)
        case CallerIDFSKCode.multipleDataMessage:
            var id = CallerID()
            var index = body.startIndex
            while index < body.endIndex {
                guard index + 1 < body.endIndex else { return .failure(.malformed("parameter 0x\(String(body[index], radix: 16)) has no length")) }
                let parameter = body[index]
                let parameterLength = Int(body[index + 1])
                let start = index + 2
                guard start + parameterLength <= body.endIndex else {
                    return .failure(.malformed("parameter 0x\(String(parameter, radix: 16)) claims \(parameterLength) bytes, \(body.endIndex - start) remain"))
                }
                let value = body[start..<(start + parameterLength)]
                switch parameter {
                case CallerIDFSKCode.dateTime where value.count == 8: id.dateTime = dateTime(value)
                case CallerIDFSKCode.number: id.number = text(value)
                case CallerIDFSKCode.numberAbsence: id.numberAbsence = value.first.flatMap(absence)
                case CallerIDFSKCode.name: id.name = text(value)
                case CallerIDFSKCode.nameAbsence: id.nameAbsence = value.first.flatMap(absence)
                default: break  // Parameters we do not use (call type, redirection) are skipped.
                }
                index = start + parameterLength
            }
            return .success(id)
        default:
            return .failure(.unsupportedMessage(type: type))
        }
    }

    /// An MDMF caller ID message (type, length, parameters), without the checksum the
    /// transmitter appends.
    public func fskMessage() -> [UInt8] {
        var body: [UInt8] = []
        func add(_ parameter: UInt8, _ value: [UInt8]) {
            body.append(parameter)
            body.append(UInt8(value.count))
            body += value
        }
        if let dateTime {
            let digits = [dateTime.month, dateTime.day, dateTime.hour, dateTime.minute]
                .flatMap { [UInt8(ascii: "0") + UInt8($0 / 10 % 10), UInt8(ascii: "0") + UInt8($0 % 10)] }
            add(CallerIDFSKCode.dateTime, digits)
        }
        if let number {
            add(CallerIDFSKCode.number, Array(number.utf8.prefix(20)))
        } else if let numberAbsence {
            add(CallerIDFSKCode.numberAbsence, [Self.absenceLetter(numberAbsence)])
        }
        if let name {
            add(CallerIDFSKCode.name, Array(name.utf8.prefix(20)))
        } else if let nameAbsence {
            add(CallerIDFSKCode.nameAbsence, [Self.absenceLetter(nameAbsence)])
        }
        return [CallerIDFSKCode.multipleDataMessage, UInt8(body.count)] + body
    }

    private static func dateTime(_ digits: some Collection<UInt8>) -> CallerIDDateTime? {
        let values = digits.map { Int($0) - Int(UInt8(ascii: "0")) }
        guard values.count == 8, values.allSatisfy({ (0...9).contains($0) }) else { return nil }
        return CallerIDDateTime(month: values[0] * 10 + values[1], day: values[2] * 10 + values[3],
                                hour: values[4] * 10 + values[5], minute: values[6] * 10 + values[7])
    }

    private static func absence(_ letter: UInt8) -> CallerIDAbsence? {
        switch letter {
        case UInt8(ascii: "O"): .unavailable
        case UInt8(ascii: "P"): .withheld
        default: nil
        }
    }

    private static func absenceLetter(_ absence: CallerIDAbsence) -> UInt8 {
        absence == .unavailable ? UInt8(ascii: "O") : UInt8(ascii: "P")
    }

    private static func text(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes.map { $0 & 0x7F }, as: UTF8.self)
    }
}

// MARK: - DTMF caller ID (ETSI EN 300 659-1 annex B and its national variants)

/// The first digit of a DTMF caller ID string that carries a number.
public enum DTMFCallerIDStart: UInt8, Sendable, Codable {
    /// `A<number>C` (ETSI, China) or `A<number>#`.
    case a = 0x41
    /// `D<number>C`, the variant some exchanges use instead of `A`.
    case d = 0x44
}

extension CallerID {
    /// Decodes a complete DTMF caller ID string, its terminator ('C' or '#') included.
    public static func decodeDTMF(_ digits: some Collection<UInt8>) -> Result<CallerID, CallerIDError> {
        let string = Array(digits)
        guard let first = string.first, let last = string.last, string.count >= 2,
              last == UInt8(ascii: "C") || last == UInt8(ascii: "#")
        else { return .failure(.truncated(received: string.count)) }
        let inner = string.dropFirst().dropLast()
        switch first {
        case UInt8(ascii: "A"), UInt8(ascii: "D"):
            guard inner.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
                return .failure(.malformed("DTMF caller ID number contains a non-digit: \(String(decoding: string, as: UTF8.self))"))
            }
            return .success(CallerID(number: String(decoding: inner, as: UTF8.self)))
        case UInt8(ascii: "B"):
            // B00: number unavailable; B10: withheld by the caller.
            let code = String(decoding: inner, as: UTF8.self)
            return .success(CallerID(numberAbsence: code == "10" ? .withheld : .unavailable))
        default:
            return .failure(.malformed("DTMF caller ID starts with '\(Character(Unicode.Scalar(first)))', expected A, B or D"))
        }
    }

    /// The DTMF string for this identity: `A<number>C` (or `D…C`), or `B00C` / `B10C`.
    public func dtmfDigits(start: DTMFCallerIDStart = .a) -> String {
        if let number { return String(Character(Unicode.Scalar(start.rawValue))) + number + "C" }
        return numberAbsence == .withheld ? "B10C" : "B00C"
    }
}
