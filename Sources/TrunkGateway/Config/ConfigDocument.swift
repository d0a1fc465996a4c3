import Foundation
import TrunkCore

/// A place in a configuration file, for errors people can find: "trunkline.toml:12:9".
public struct SourcePosition: Sendable, Hashable, Codable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var description: String { "\(line):\(column)" }
}

/// A configuration error: file, line and column, and what was expected there.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var position: SourcePosition
    public var message: String
    public var description: String { "\(file):\(position.line):\(position.column): \(message)" }
}

/// A value read from the file, with where it stood.
public struct ConfigValue: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case string(String)
        case integer(Int)
        case float(Double)
        case boolean(Bool)
        case array([ConfigValue])
    }
    public var kind: Kind
    public var position: SourcePosition

    public var typeName: String {
        switch kind {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a number"
        case .boolean: "true or false"
        case .array: "an array"
        }
    }
}

/// One `[table]` or one entry of an `[[array]]`, keys in file order.
public struct ConfigTable: Sendable, Equatable {
    public var name: String
    public var position: SourcePosition
    public var entries: [(key: String, keyPosition: SourcePosition, value: ConfigValue)]

    public static func == (a: ConfigTable, b: ConfigTable) -> Bool {
        a.name == b.name && a.position == b.position && a.entries.map(\.key) == b.entries.map(\.key)
            && a.entries.map(\.value) == b.entries.map(\.value)
    }
}

/// The file as read: its tables in order. The syntax is the part of TOML a configuration
/// needs (comments, `[table]`, `[[array of tables]]`, `key = value` with strings, integers,
/// floats, booleans and arrays), read here so every key and value keeps its position.
public struct ConfigDocument: Sendable {
    public var file: String
    /// Keys before the first table header live in a table named "".
    public var tables: [ConfigTable]

    public init(file: String, text: String) throws(ConfigError) {
        self.file = file
        var parser = ConfigParser(file: file, text: text)
        tables = try parser.parse()
    }
}

struct ConfigParser {
    let file: String
    let bytes: [UInt8]
    var index = 0
    var line = 1
    var lineStart = 0

    init(file: String, text: String) {
        self.file = file
        bytes = Array(text.utf8)
    }

    var position: SourcePosition { SourcePosition(line: line, column: index - lineStart + 1) }

    func error(_ message: String, at position: SourcePosition? = nil) -> ConfigError {
        ConfigError(file: file, position: position ?? self.position, message: message)
    }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func advance() {
        if current == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        index += 1
    }

    mutating func skipSpaces() {
        while let c = current, c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") { advance() }
    }

    /// Spaces, then an optional comment, then the end of the line (or file).
    mutating func endOfLine() throws(ConfigError) {
        skipSpaces()
        if current == UInt8(ascii: "#") { while let c = current, c != UInt8(ascii: "\n") { advance() } }
        if current == UInt8(ascii: "\r") { advance() }
        guard current == nil || current == UInt8(ascii: "\n") else {
            throw error("expected the end of the line, found '\(Character(Unicode.Scalar(current!)))'")
        }
        if current != nil { advance() }
    }

    mutating func skipBlankAndComments() {
        while let c = current {
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") {
                advance()
            } else if c == UInt8(ascii: "#") {
                while let d = current, d != UInt8(ascii: "\n") { advance() }
            } else {
                return
            }
        }
    }

    static func isBareKey(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }

    mutating func bareKey(_ what: String) throws(ConfigError) -> String {
        let start = index
        while let c = current, Self.isBareKey(c) { advance() }
        guard index > start else {
            throw error(current.map { "expected \(what), found '\(Character(Unicode.Scalar($0)))'" } ?? "expected \(what), found the end of the file")
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    mutating func parse() throws(ConfigError) -> [ConfigTable] {
        var tables = [ConfigTable(name: "", position: SourcePosition(line: 1, column: 1), entries: [])]
        var seenTables = Set<String>()
        while true {
            skipBlankAndComments()
            guard let c = current else { break }
            if c == UInt8(ascii: "[") {
                let start = position
                advance()
                let isArray = current == UInt8(ascii: "[")
                if isArray { advance() }
                skipSpaces()
                // Dotted names ([[cti.token]]) name a sub-table; each part is a bare key.
                var name = try bareKey("a table name")
                while current == UInt8(ascii: ".") {
                    advance()
                    name += "." + (try bareKey("a table name after '.'"))
                }
                skipSpaces()
                guard current == UInt8(ascii: "]") else { throw error("expected ']' to close the table name") }
                advance()
                if isArray {
                    guard current == UInt8(ascii: "]") else { throw error("expected ']]' to close [[\(name)]]") }
                    advance()
                } else {
                    guard seenTables.insert(name).inserted else { throw error("table [\(name)] is defined twice", at: start) }
                }
                try endOfLine()
                tables.append(ConfigTable(name: name, position: start, entries: []))
                continue
            }
            let keyPosition = position
            let key = try bareKey("a key")
            skipSpaces()
            guard current == UInt8(ascii: "=") else { throw error("expected '=' after \(key)") }
            advance()
            skipSpaces()
            let value = try parseValue()
            if tables[tables.count - 1].entries.contains(where: { $0.key == key }) {
                throw error("\(key) is set twice in this table", at: keyPosition)
            }
            tables[tables.count - 1].entries.append((key, keyPosition, value))
            try endOfLine()
        }
        return tables
    }

    mutating func parseValue() throws(ConfigError) -> ConfigValue {
        let start = position
        guard let c = current else { throw error("expected a value, found the end of the file") }
        if c == UInt8(ascii: "\"") { return ConfigValue(kind: .string(try parseString()), position: start) }
        if c == UInt8(ascii: "[") { return ConfigValue(kind: .array(try parseArray()), position: start) }
        let tokenStart = index
        while let d = current, Self.isBareKey(d) || d == UInt8(ascii: ".") || d == UInt8(ascii: "+") { advance() }
        let token = String(decoding: bytes[tokenStart..<index], as: UTF8.self)
        switch token {
        case "true": return ConfigValue(kind: .boolean(true), position: start)
        case "false": return ConfigValue(kind: .boolean(false), position: start)
        default: break
        }
        let digits = token.replacingOccurrences(of: "_", with: "")
        if let integer = Int(digits) { return ConfigValue(kind: .integer(integer), position: start) }
        if let number = Double(digits), digits.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            return ConfigValue(kind: .float(number), position: start)
        }
        if token.isEmpty { throw error("expected a value (a \"string\", a number, true/false or [a, list])", at: start) }
        throw error("'\(token)' is not a value: strings need double quotes", at: start)
    }

    mutating func parseString() throws(ConfigError) -> String {
        let start = position
        advance()
        var out: [UInt8] = []
        while true {
            guard let c = current, c != UInt8(ascii: "\n") else { throw error("this string is not closed with '\"'", at: start) }
            advance()
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                guard let e = current else { throw error("this string is not closed with '\"'", at: start) }
                advance()
                switch e {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "\\"), UInt8(ascii: "\""): out.append(e)
                default: throw error("unknown escape '\\\(Character(Unicode.Scalar(e)))' in a string")
                }
                continue
            }
            out.append(c)
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func parseArray() throws(ConfigError) -> [ConfigValue] {
        let start = position
        advance()
        var values: [ConfigValue] = []
        while true {
            skipBlankAndComments()
            guard let c = current else { throw error("this array is not closed with ']'", at: start) }
            if c == UInt8(ascii: "]") {
                advance()
                return values
            }
            values.append(try parseValue())
            skipBlankAndComments()
            guard current != nil else { throw error("this array is not closed with ']'", at: start) }
            if current == UInt8(ascii: ",") {
                advance()
            } else if current != UInt8(ascii: "]") {
                throw error("expected ',' or ']' in the array")
            }
        }
    }
}
