package io.switchboard.standalone;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.health.contributor.Health;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * mongo-java-server on an H2 MVStore file. The MVStore writes in the background, so a hard kill
 * loses recent writes unless {@link #commit()} ran; the router and the API call it (through
 * {@code StoreDurability}) before they acknowledge anything (ADR 0003). Updates never change a stored
 * document in place, and a failure on H2's own threads stops the store's commits (ADR 0012).
 */
final class EmbeddedStore implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedStore.class);

    private final MVStore mvStore;
    private final H2Backend backend;
    private final MongoServer server;
    private final String uri;
    private final Failure failure;
    /**
     * Not {@code synchronized}: a commit that hangs in H2 after a failure (one already waiting for H2's writing
     * thread when it failed) must not hold back the commits after it, which refuse instead.
     */
    private final ReentrantLock committing = new ReentrantLock();

    private EmbeddedStore(MVStore mvStore, H2Backend backend, MongoServer server, String uri, Failure failure) {
        this.mvStore = mvStore;
        this.backend = backend;
        this.server = server;
        this.uri = uri;
        this.failure = failure;
    }

    /**
     * A quarter of the heap, at least H2's 64 MB and at most 1 GB: a page the cache let go is read and decoded again on its
     * next use, and the router's batches touch pages all over the conversations, transcripts and contacts
     * (the pipeline benchmark at 20,000 customers spent a third less of the store's CPU with 256 MB than
     * with 64). H2 counts pages by an estimate of their size in memory, not by the heap they take.
     */
    static int defaultCacheMb() {
        // at most 1 GB: the heap is shared with the embedded broker and the services (and an unlimited heap
        // reports Long.MAX_VALUE)
        return (int) Math.min(1024, Math.max(64, Runtime.getRuntime().maxMemory() / 4 / (1 << 20)));
    }

    static EmbeddedStore start(Path dir, int cacheMb) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create store directory " + dir, e);
        }
        Failure failure = new Failure();
        MVStore mvStore = new MVStore.Builder().fileName(dir.resolve("switchboard.mv.db").toString()).cacheSize(cacheMb)
                .backgroundExceptionHandler((thread, e) -> failure.report(e)).open();
        failure.store = mvStore;
        // Old chunks are kept 5 minutes instead of H2's 45 s: a scan that reads a collection longer than the
        // retention (a rebuild over 100,000s of documents on a busy machine) failed with "Chunk n not found"
        // once the chunks of its version were reused (h2database/h2database#4383). The file grows by what is
        // rewritten in that window.
        mvStore.setRetentionTime(300_000);
        H2Backend backend = new ValueOrderedH2Backend(mvStore);
        MongoServer server = new MongoServer(backend);
        server.bind("127.0.0.1", 0);
        InetSocketAddress address = server.getLocalAddress();
        return new EmbeddedStore(mvStore, backend, server,
                "mongodb://127.0.0.1:" + address.getPort() + "/switchboard", failure);
    }

    /** What H2 reported on its own threads, and the thread closing the store after it. */
    private static final class Failure {
        final AtomicReference<Throwable> cause = new AtomicReference<>();
        /** Null only until H2 has opened it. */
        volatile MVStore store;
        volatile boolean closing;
        volatile Thread closer;

        /**
         * H2 reports here what failed on its own threads (writing a chunk, the background commit). Without this
         * it says nothing, and H2 2.4 keeps the store open after a failed chunk write, though every commit after
         * it waits for that chunk for ever: the router, the API and the email adapter, which commit before they
         * acknowledge, would hang without a word. Now the first failure is logged,
         * {@link EmbeddedStore#commit()} refuses (so nothing is acknowledged that is not on disk), health says
         * DOWN, and the store is closed on a
         * thread of its own (closing waits for the store's lock and for H2's writing threads, which a hung
         * commit may hold for ever). A restart goes on from the last complete commit, and Kafka redelivers what
         * was not acknowledged. What H2 reports while we close the store ourselves is no failure of the store.
         */
        void report(Throwable e) {
            if (closing || !cause.compareAndSet(null, e)) {
                return;
            }
            // the exception's class and H2's message (chunk and page positions), never a document's content
            log.error("the embedded store failed writing to its file and takes no more writes; restart Switchboard, "
                    + "which resumes from the last complete commit: {}", e.toString());
            MVStore failed = store;
            if (failed != null) {
                Thread thread = new Thread(failed::closeImmediately, "embedded-store-close");
                thread.setDaemon(true);
                closer = thread;
                thread.start();
            }
        }
    }

    /** UP while the store works; DOWN with the reason once it failed and takes no more writes. */
    Health health() {
        Throwable failed = failure();
        return failed == null ? Health.up().build()
                : Health.down().withDetail("reason", "the embedded store failed writing its file ("
                        + failed.getClass().getSimpleName() + "); restart Switchboard").build();
    }

    /** For tests: H2's store underneath. */
    MVStore mvStore() {
        return mvStore;
    }

    /** For tests: held while a commit runs. */
    ReentrantLock committing() {
        return committing;
    }

    /** What made the store stop taking writes, or null while it works. */
    Throwable failure() {
        return failure.cause.get();
    }

    String uri() {
        return uri;
    }

    void commit() {
        refuseIfFailed();
        try {
            while (!committing.tryLock(100, TimeUnit.MILLISECONDS)) {
                refuseIfFailed();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to commit the embedded store", e);
        }
        try {
            refuseIfFailed();
            if (!mvStore.isClosed()) {
                mvStore.commit();
            }
        } finally {
            committing.unlock();
        }
    }

    private void refuseIfFailed() {
        Throwable failed = failure();
        if (failed != null) {
            throw new IllegalStateException("the embedded store failed and takes no more writes; restart Switchboard ("
                    + failed.getClass().getSimpleName() + ")");
        }
    }

    @Override
    public void close() {
        server.shutdownNow();
        if (failure() == null) {
            commit();
            // H2's writer thread may still report something after it was told to stop: not a failure of the store
            failure.closing = true;
            backend.close();
            return;
        }
        // closed already, or being closed: wait a while, so that a restart in this process finds the file free
        Thread closer = failure.closer;
        if (closer != null) {
            try {
                closer.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
