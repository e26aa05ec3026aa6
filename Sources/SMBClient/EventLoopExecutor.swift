import NIOCore
import NIOPosix

/// The event loop every connection of this process lives on, as a Swift task executor.
/// A task that prefers it writes its requests on the thread that owns the socket and is
/// resumed on the thread that read the response, instead of crossing between NIO's thread and
/// Swift's pool twice per request: for small requests the crossings (thread wake-ups) cost
/// more than the work.
final class EventLoopExecutor: TaskExecutor {
    static let shared = EventLoopExecutor(MultiThreadedEventLoopGroup.singleton.next())

    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }
}
