/// Linux file names may hold characters that SMB forbids in a name component (MS-FSCC 2.1.5.2:
/// `" * : < > ? \ |`, and a trailing space or period is dropped by Windows servers). With `mapposix`
/// (the default, as the kernel cifs client's option of that name) they travel as the Unicode
/// private-use characters that Services for Mac uses, and map back when listed, so every Linux
/// name round-trips. Backslash, which SFM has no character for, uses U+F026 (SFM's "/"), which
/// cannot occur in a Linux name.
///
/// On a share opened with the SMB3 POSIX extensions (`posixPaths`) nothing is mapped: every
/// CREATE carries the POSIX create context, whose path keeps "/" as its separator and takes
/// any character but "/" and NUL in a name (POSIX-SMB2 2.2.13.2).
public struct NameMapping: Sendable {
    public var enabled: Bool
    public var posixPaths: Bool
    public init(enabled: Bool, posixPaths: Bool = false) {
        self.enabled = enabled && !posixPaths
        self.posixPaths = posixPaths
    }

    static let toWire: [Unicode.Scalar: Unicode.Scalar] = [
        "\"": "\u{F020}", "*": "\u{F021}", ":": "\u{F022}", "<": "\u{F023}", ">": "\u{F024}",
        "?": "\u{F025}", "\\": "\u{F026}", "|": "\u{F027}",
    ]
    static let trailingSpace: Unicode.Scalar = "\u{F028}"
    static let trailingPeriod: Unicode.Scalar = "\u{F029}"
    static let fromWire: [Unicode.Scalar: Unicode.Scalar] = {
        var m: [Unicode.Scalar: Unicode.Scalar] = [:]
        for (k, v) in toWire { m[v] = k }
        m[trailingSpace] = " "
        m[trailingPeriod] = "."
        return m
    }()

    /// One name component as sent to the server.
    public func wire(_ name: String) -> String {
        guard enabled else { return name }
        var scalars = Array(name.unicodeScalars)
        for i in scalars.indices { if let m = Self.toWire[scalars[i]] { scalars[i] = m } }
        if let last = scalars.last, name != "." && name != ".." {
            if last == " " { scalars[scalars.count - 1] = Self.trailingSpace }
            if last == "." { scalars[scalars.count - 1] = Self.trailingPeriod }
        }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars)
        return String(s)
    }

    /// One name component as the server lists it.
    public func local(_ name: String) -> String {
        guard enabled, name.unicodeScalars.contains(where: { $0.value >= 0xF020 && $0.value <= 0xF029 }) else { return name }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: name.unicodeScalars.map { Self.fromWire[$0] ?? $0 })
        return String(s)
    }
}
