/// Test helpers: hex <-> bytes.
func hex(_ s: String) -> [UInt8] {
    let chars = Array(s.filter { !$0.isWhitespace })
    var out = [UInt8]()
    var i = 0
    while i + 1 < chars.count {
        out.append(UInt8(String(chars[i...i + 1]), radix: 16) ?? 0)
        i += 2
    }
    return out
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { b in
        let s = String(b, radix: 16)
        return s.count == 1 ? "0" + s : s
    }.joined()
}

func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }
