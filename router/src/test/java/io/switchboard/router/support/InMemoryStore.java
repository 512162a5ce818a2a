package io.switchboard.router.support;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/** One in-process MongoDB-compatible server for the test JVM (mongo-java-server). */
public final class InMemoryStore {

    private static MongoServer server;

    public static synchronized String uri() {
        if (server == null) {
            server = new MongoServer(new MemoryBackend());
            server.bind("127.0.0.1", 0);
            Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        }
        return "mongodb://127.0.0.1:" + server.getLocalAddress().getPort() + "/switchboard-test";
    }

    private InMemoryStore() {
    }
}
