// libfuse3 low-level API. 312 keeps fuse_session_loop_mt a real function (not a macro).
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
// malloc_trim: the daemon hands freed I/O buffers back to the system (FUSEMount.run).
#include <malloc.h>
