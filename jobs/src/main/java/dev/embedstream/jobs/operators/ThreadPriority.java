package dev.embedstream.jobs.operators;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lowers the OS scheduling priority (raises the nice value) of the calling thread, on Linux. The
 * document embedder calls it from its task thread, where ONNX Runtime also runs with one
 * intra-op thread: when documents and queries share cores, the kernel then runs query embedding,
 * Milvus searches and the Kafka broker first and gives documents the rest, instead of sharing
 * the cores evenly and making every query wait its turn behind document batches. Raising one's
 * own nice value needs no privilege. Elsewhere, or if the call fails, it logs and changes nothing.
 */
final class ThreadPriority {

    private static final Logger LOG = LoggerFactory.getLogger(ThreadPriority.class);
    private static final int PRIO_PROCESS = 0; // with a thread id, Linux applies it to that thread

    /** The C library's setpriority(2). */
    interface LibC extends Library {
        int setpriority(int which, int who, int prio);
    }

    private ThreadPriority() {
    }

    /** Sets the calling thread's nice value; returns whether it took effect. */
    static boolean niceCurrentThread(int nice) {
        if (nice == 0) {
            return false;
        }
        try {
            // /proc/thread-self links to /proc/<pid>/task/<tid>: the kernel id of this thread.
            Path self = Files.readSymbolicLink(Path.of("/proc/thread-self"));
            int tid = Integer.parseInt(self.getFileName().toString());
            LibC libc = Native.load("c", LibC.class);
            if (libc.setpriority(PRIO_PROCESS, tid, nice) != 0) {
                LOG.warn("could not set nice {} on thread {} (errno {}); documents keep the default priority",
                        nice, tid, Native.getLastError());
                return false;
            }
            LOG.info("document embedding thread {} runs at nice {}", tid, nice);
            return true;
        } catch (Exception | LinkageError e) {
            LOG.warn("thread priorities are not available here ({}); documents keep the default priority", e.toString());
            return false;
        }
    }
}
