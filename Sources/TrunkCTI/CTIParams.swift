/// Typed reads of a request's `params` object. Each read names the field and what it expected
/// in its error (`params.max_digits: expected integer 1…64, got "ten"`), which is what the
/// client sees as the −32602 message. Unknown fields are ignored: newer clients may send fields
/// an older server does not know (the versioning rules in docs/cti-protocol.md).
struct CTIParams {
    let members: [(String, JSONValue)]

    init(_ value: JSONValue?) throws(CTIError) {
        switch value {
        case nil, .null?: members = []
        case .object(let members)?: self.members = members
        case let other?:
            throw CTIError(
                .invalidParams, "params: expected an object (named parameters), got \(other.typeName)",
                data: [("field", "params"), ("expected", "object")])
        }
    }

    subscript(field: String) -> JSONValue? {
        guard let value = members.last(where: { $0.0 == field })?.1 else { return nil }
        if case .null = value { return nil }
        return value
    }

    static let dtmfDigits = Set("0123456789*#ABCDabcd".utf8)
    static let idCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-".utf8)
    static let dialCharacters = Set("0123456789*#+".utf8)

    func requiredInt(_ field: String, in range: ClosedRange<Int>) throws(CTIError) -> Int {
        guard let value = try optionalInt(field, in: range) else {
            throw CTIError.invalidParam(field, "integer \(range.lowerBound)…\(range.upperBound)", got: nil)
        }
        return value
    }

    func optionalInt(_ field: String, in range: ClosedRange<Int>) throws(CTIError) -> Int? {
        guard let value = self[field] else { return nil }
        guard let int = value.intValue, int >= range.lowerBound, int <= range.upperBound else {
            throw CTIError.invalidParam(field, "integer \(range.lowerBound)…\(range.upperBound)", got: value)
        }
        return Int(int)
    }

    func int(_ field: String, in range: ClosedRange<Int>, default value: Int) throws(CTIError) -> Int {
        try optionalInt(field, in: range) ?? value
    }

    func optionalUInt64(_ field: String) throws(CTIError) -> UInt64? {
        guard let value = self[field] else { return nil }
        guard let int = value.intValue, int >= 0 else {
            throw CTIError.invalidParam(field, "integer ≥ 0", got: value)
        }
        return UInt64(int)
    }

    func bool(_ field: String, default value: Bool) throws(CTIError) -> Bool {
        guard let raw = self[field] else { return value }
        guard let bool = raw.boolValue else { throw CTIError.invalidParam(field, "boolean", got: raw) }
        return bool
    }

    func requiredBool(_ field: String) throws(CTIError) -> Bool {
        guard let raw = self[field], let bool = raw.boolValue else {
            throw CTIError.invalidParam(field, "boolean", got: self[field])
        }
        return bool
    }

    func optionalString(_ field: String, maxLength: Int) throws(CTIError) -> String? {
        guard let value = self[field] else { return nil }
        guard let string = value.stringValue, string.utf8.count <= maxLength else {
            throw CTIError.invalidParam(field, "string of at most \(maxLength) bytes", got: value)
        }
        return string
    }

    func requiredString(_ field: String, maxLength: Int) throws(CTIError) -> String {
        guard let string = try optionalString(field, maxLength: maxLength) else {
            throw CTIError.invalidParam(field, "string of at most \(maxLength) bytes", got: nil)
        }
        return string
    }

    /// Ids (call_id, op_id, bridge_id …): 1–64 characters of letters, digits and `._:-`.
    func optionalID(_ field: String) throws(CTIError) -> String? {
        guard let value = self[field] else { return nil }
        guard let string = value.stringValue, Self.isID(string) else {
            throw CTIError.invalidParam(field, "an id: 1-64 characters A-Z a-z 0-9 . _ : -", got: value)
        }
        return string
    }

    func requiredID(_ field: String) throws(CTIError) -> String {
        guard let id = try optionalID(field) else {
            throw CTIError.invalidParam(field, "an id: 1-64 characters A-Z a-z 0-9 . _ : -", got: nil)
        }
        return id
    }

    static func isID(_ string: String) -> Bool {
        let utf8 = string.utf8
        return !utf8.isEmpty && utf8.count <= 64 && utf8.allSatisfy { idCharacters.contains($0) }
    }

    func dialString(_ field: String) throws(CTIError) -> String {
        guard let number = try optionalDialString(field) else {
            throw CTIError.invalidParam(field, "a number: 1-32 of 0-9 * # +", got: nil)
        }
        return number
    }

    func optionalDialString(_ field: String) throws(CTIError) -> String? {
        guard let value = self[field] else { return nil }
        guard let string = value.stringValue, !string.isEmpty, string.utf8.count <= 32,
            string.utf8.allSatisfy({ Self.dialCharacters.contains($0) })
        else { throw CTIError.invalidParam(field, "a number: 1-32 of 0-9 * # +", got: value) }
        return string
    }

    func optionalStringArray(_ field: String, maxCount: Int, maxLength: Int) throws(CTIError) -> [String]? {
        guard let value = self[field] else { return nil }
        let expected = "array of at most \(maxCount) non-empty strings (at most \(maxLength) bytes each)"
        guard let array = value.arrayValue, array.count <= maxCount else {
            throw CTIError.invalidParam(field, expected, got: value)
        }
        var strings: [String] = []
        for element in array {
            guard let string = element.stringValue, !string.isEmpty, string.utf8.count <= maxLength else {
                throw CTIError.invalidParam(field, expected, got: element)
            }
            strings.append(string)
        }
        return strings
    }

    func optionalIDArray(_ field: String, maxCount: Int) throws(CTIError) -> [String]? {
        guard let strings = try optionalStringArray(field, maxCount: maxCount, maxLength: 64) else { return nil }
        for string in strings where !Self.isID(string) {
            throw CTIError.invalidParam(field, "array of ids (A-Z a-z 0-9 . _ : -)", got: .string(string))
        }
        return strings
    }

    func optionalIntArray(_ field: String, in range: ClosedRange<Int>, maxCount: Int) throws(CTIError) -> [Int]? {
        guard let value = self[field] else { return nil }
        let expected = "array of at most \(maxCount) integers \(range.lowerBound)…\(range.upperBound)"
        guard let array = value.arrayValue, array.count <= maxCount else {
            throw CTIError.invalidParam(field, expected, got: value)
        }
        var ints: [Int] = []
        for element in array {
            guard let int = element.intValue, int >= range.lowerBound, int <= range.upperBound else {
                throw CTIError.invalidParam(field, expected, got: element)
            }
            ints.append(Int(int))
        }
        return ints
    }

    func enumValue<E: RawRepresentable & CaseIterable>(_ field: String, default value: E) throws(CTIError) -> E
    where E.RawValue == String {
        guard self[field] != nil else { return value }
        return try requiredEnum(field)
    }

    func requiredEnum<E: RawRepresentable & CaseIterable>(_ field: String) throws(CTIError) -> E where E.RawValue == String {
        let expected = "one of " + E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        guard let raw = self[field], let string = raw.stringValue, let value = E(rawValue: string) else {
            throw CTIError.invalidParam(field, expected, got: self[field])
        }
        return value
    }

    /// `channel` or `call_id`, exactly one.
    func target() throws(CTIError) -> CTITarget {
        guard let target = try optionalTarget(channelField: "channel", callField: "call_id") else {
            throw CTIError(
                .invalidParams, "params: give the channel or the call_id to act on",
                data: [("field", "channel|call_id"), ("expected", "exactly one of channel, call_id")])
        }
        return target
    }

    func optionalTarget(channelField: String, callField: String) throws(CTIError) -> CTITarget? {
        let channel = try optionalInt(channelField, in: 1...1024)
        let call = try optionalID(callField)
        switch (channel, call) {
        case (let channel?, nil): return .channel(channel)
        case (nil, let call?): return .call(call)
        case (nil, nil): return nil
        case (.some, .some):
            throw CTIError(
                .invalidParams, "params: give \(channelField) or \(callField), not both",
                data: [("field", .string("\(channelField)|\(callField)")), ("expected", .string("exactly one of \(channelField), \(callField)"))])
        }
    }

    /// Asterisk-style patterns: digits, `X` (0-9), `Z` (1-9), `N` (2-9), `[1-5]` classes, and a
    /// final `.` (one or more more digits) or `!` (zero or more).
    static func isDNISPattern(_ pattern: String) -> Bool {
        var bytes = Array(pattern.utf8)[...]
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        while let byte = bytes.popFirst() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "X"), UInt8(ascii: "Z"), UInt8(ascii: "N"),
                UInt8(ascii: "*"), UInt8(ascii: "#"), UInt8(ascii: "+"):
                continue
            case UInt8(ascii: "."), UInt8(ascii: "!"):
                return bytes.isEmpty
            case UInt8(ascii: "["):
                var sawDigit = false
                var closed = false
                while let inner = bytes.popFirst() {
                    if inner == UInt8(ascii: "]") { closed = true; break }
                    if inner == UInt8(ascii: "-") { continue }
                    guard inner >= UInt8(ascii: "0") && inner <= UInt8(ascii: "9") else { return false }
                    sawDigit = true
                }
                if !sawDigit || !closed { return false }
            default:
                return false
            }
        }
        return true
    }
}
