/// A function shared between threads: set once or rarely, called often.
///
/// Not `Locked<F?>` with `F` a concrete function type: `withLock` hands its value `inout`
/// through the generic `Mutex`, which keeps a function in its most general calling
/// convention, so every access — a read included — wrapped the stored
/// function in a conversion thunk on the way in and another on the way back. A handler read
/// once per call became a chain of thunks two links longer per call: each call ran deeper
/// into the stack and took longer than the one before. Here the function is stored and read
/// inside generic code, at one convention; a caller converts the copy it reads, once, and
/// nothing is written back.
public struct LockedFunction<F: Sendable>: ~Copyable, Sendable {
    private let slot = Locked<F?>(nil)

    public init() {}

    /// The function now set, if any.
    public var current: F? { slot.withLock { $0 } }

    /// Sets (or, with nil, clears) the function.
    public func set(_ function: F?) {
        slot.withLock { $0 = function }
    }
}
