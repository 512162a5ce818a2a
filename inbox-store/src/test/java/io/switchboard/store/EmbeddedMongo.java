package io.switchboard.store;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.springframework.data.mongodb.core.MongoTemplate;

/**
 * The in-process MongoDB-compatible server (mongo-java-server) the store's tests run on, started once per
 * test class: {@code @RegisterExtension static final EmbeddedMongo MONGO = new EmbeddedMongo();}.
 */
final class EmbeddedMongo implements BeforeAllCallback, AfterAllCallback {

    private MongoServer server;
    private MongoClient client;

    @Override
    public void beforeAll(ExtensionContext context) {
        server = new MongoServer(new MemoryBackend());
        server.bind("127.0.0.1", 0);
        client = MongoClients.create("mongodb://127.0.0.1:" + server.getLocalAddress().getPort());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        client.close();
        server.shutdownNow();
    }

    MongoClient client() {
        return client;
    }

    /** A database of its own, so tests of one class never see each other's documents. */
    MongoTemplate database(String prefix) {
        return new MongoTemplate(client, prefix + System.nanoTime());
    }
}
