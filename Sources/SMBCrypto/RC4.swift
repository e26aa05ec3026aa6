/// RC4 stream cipher (pure Swift). Used by NTLM key exchange and sealing
/// (MS-NLMP 3.1.5.1.2, 3.4.3). The state carries across `process` calls.
public struct RC4 {
    private var state: [UInt8]
    private var i: UInt8 = 0
    private var j: UInt8 = 0

    /// Key-scheduling algorithm. An empty key is treated as a single zero byte.
    public init(key: [UInt8]) {
        let key = key.isEmpty ? [0] : key
        var s = [UInt8](repeating: 0, count: 256)
        for n in 0..<256 { s[n] = UInt8(n) }
        var j: UInt8 = 0
        for n in 0..<256 {
            j = j &+ s[n] &+ key[n % key.count]
            s.swapAt(n, Int(j))
        }
        self.state = s
    }

    /// Encrypts or decrypts (the same operation) the next bytes of the stream.
    public mutating func process(_ data: [UInt8]) -> [UInt8] {
        var out = data
        for n in 0..<out.count {
            i = i &+ 1
            j = j &+ state[Int(i)]
            state.swapAt(Int(i), Int(j))
            out[n] ^= state[Int(state[Int(i)] &+ state[Int(j)])]
        }
        return out
    }
}
