/// A request this client was asked to build that the spec does not allow (a lock list mixing
/// locks and unlocks, an EA name with a NUL, a symlink target too long for a reparse buffer…).
/// Decoders throw `ProtocolError`; encoders that can be handed such input throw this instead,
/// before anything reaches the wire.
public struct EncodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
