package io.switchboard.standalone;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import org.h2.mvstore.MVStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * mongo-java-server on an H2 MVStore file. The MVStore writes in the background, so a hard kill
 * loses recent writes unless {@link #commit()} ran; the router and the API call it (through
 * {@code StoreDurability}) before they acknowledge anything (ADR 0003).
 */
final class EmbeddedStore implements AutoCloseable {

    private final MVStore mvStore;
    private final H2Backend backend;
    private final MongoServer server;
    private final String uri;

    private EmbeddedStore(MVStore mvStore, H2Backend backend, MongoServer server, String uri) {
        this.mvStore = mvStore;
        this.backend = backend;
        this.server = server;
        this.uri = uri;
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
        MVStore mvStore = new MVStore.Builder().fileName(dir.resolve("switchboard.mv.db").toString()).cacheSize(cacheMb).open();
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
                "mongodb://127.0.0.1:" + address.getPort() + "/switchboard");
    }

    String uri() {
        return uri;
    }

    synchronized void commit() {
        if (!mvStore.isClosed()) {
            mvStore.commit();
        }
    }

    @Override
    public void close() {
        server.shutdownNow();
        commit();
        backend.close();
    }
}
