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

    static EmbeddedStore start(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create store directory " + dir, e);
        }
        // a page cache of 64 MB rather than the default 16: pages evicted are read and deserialized again
        MVStore mvStore = new MVStore.Builder().fileName(dir.resolve("switchboard.mv.db").toString()).cacheSize(64).open();
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
