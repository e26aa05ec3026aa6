import Synchronization
#if TSAN
#if canImport(Glibc)
import Glibc
#endif
#endif

/// A value that one lock guards: the one type every module uses for mutable state shared
/// between threads (DESIGN.md, "one owner per piece of mutable state").
///
/// It is the toolchain's `Mutex`, except in ThreadSanitizer builds (`Scripts/test
/// --sanitize=thread` compiles with `-DTSAN`): the toolchain's Synchronization module is not
/// built with the sanitizer, so ThreadSanitizer cannot see its `Mutex` lock and unlock, and
/// every access under it would be reported as a race. There a pthread mutex, which
/// ThreadSanitizer intercepts, guards the value instead.
#if TSAN
public final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init(_ initialValue: sending Value) {
        value = initialValue
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<Result, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
#else
public struct Locked<Value>: ~Copyable, Sendable {
    @usableFromInline let mutex: Mutex<Value>

    public init(_ initialValue: sending Value) {
        mutex = Mutex(initialValue)
    }

    @inlinable
    public borrowing func withLock<Result, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
        try mutex.withLock(body)
    }
}
#endif
