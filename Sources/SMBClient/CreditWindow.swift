/// The client's view of the command sequence window (MS-SMB2 3.2.4.1.5, 3.2.5.1.4): the next
/// MessageId and how many credits the server has granted and not yet been used.
struct CreditWindow: Sendable {
    private(set) var nextMessageId: UInt64 = 0
    /// A new connection starts with one credit, for NEGOTIATE.
    private(set) var available: Int = 1
    private(set) var outstanding: Int = 0

    /// The most credits the client tries to hold.
    static let target = 512

    /// Takes `charge` consecutive MessageIds, or nil when not enough credits are granted.
    mutating func take(charge: Int) -> UInt64? {
        guard available >= charge else { return nil }
        available -= charge
        outstanding += 1
        let id = nextMessageId
        nextMessageId += UInt64(charge)
        return id
    }

    /// Credits granted by a response (final or interim).
    mutating func grant(_ credits: UInt16) {
        available += Int(credits)
    }

    mutating func completed() { outstanding -= 1 }

    /// A request that must wait for credits with none outstanding would wait forever.
    func wouldStall(charge: Int) -> Bool { available < charge && outstanding == 0 }

    /// CreditRequest for a request of this charge: its own charge plus some, up to the target.
    func creditRequest(charge: Int) -> UInt16 {
        let held = available + outstanding
        let extra = held < Self.target ? min(64, Self.target - held) : 0
        return UInt16(clamping: max(charge, 1) + extra)
    }
}
