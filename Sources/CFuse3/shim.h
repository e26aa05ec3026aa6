// libfuse3 low-level API. 312 keeps fuse_session_loop_mt a real function (not a macro).
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
// malloc_trim: the daemon hands freed I/O buffers back to the system (FUSEMount.run).
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

// The detached daemon's work runs on a thread made after fork() (FUSEMount.runOnOwnThread):
// the Swift runtime's locks record the owner's thread id, cached per thread, and the thread
// that called fork() keeps its parent's id in the child. Locks it holds cannot be waited for
// (FUTEX_LOCK_PI on an id that is not the owner's), so another thread waiting for one spins
// for ever. The calling thread only waits here; the new thread alone takes SIGINT, SIGTERM
// and SIGHUP, which end the FUSE session loop it runs (libdispatch's threads block them).
struct smb3fs_job {
    void (*body)(void *);
    void *context;
    sigset_t signals;
};

static inline void *smb3fs_job_main(void *p) {
    struct smb3fs_job *job = (struct smb3fs_job *)p;
    pthread_sigmask(SIG_UNBLOCK, &job->signals, NULL);
    job->body(job->context);
    return NULL;
}

static inline int smb3fs_run_on_own_thread(void (*body)(void *), void *context) {
    struct smb3fs_job job;
    job.body = body;
    job.context = context;
    sigemptyset(&job.signals);
    sigaddset(&job.signals, SIGINT);
    sigaddset(&job.signals, SIGTERM);
    sigaddset(&job.signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &job.signals, NULL);
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, smb3fs_job_main, &job);
    if (rc != 0) {
        pthread_sigmask(SIG_UNBLOCK, &job.signals, NULL);
        return rc;
    }
    pthread_join(thread, NULL);
    return 0;
}
