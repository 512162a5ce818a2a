package io.switchboard.channel.email;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Filters;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.switchboard.contract.PayloadReference;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The payload store on its own: layout, idempotence, durability hook, and a half-written payload completed by a retry. */
class EmailPayloadStoreTest {

    MongoServer server;
    String uri;
    MongoClient client;
    MongoDatabase db;
    final AtomicInteger commits = new AtomicInteger();
    EmailPayloadStore store;

    @BeforeEach
    void start() {
        server = new MongoServer(new MemoryBackend());
        server.bind("127.0.0.1", 0);
        uri = "mongodb://127.0.0.1:" + server.getLocalAddress().getPort() + "/switchboard";
        client = MongoClients.create(uri);
        db = client.getDatabase("switchboard");
        store = new EmailPayloadStore(uri, 1000, Duration.ofSeconds(2), commits::incrementAndGet, Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        store.destroy();
        client.close();
        if (server != null) {
            server.shutdownNow();
        }
    }

    /** mongo-java-server waits forever when shut down a second time (its channel group's executor is gone). */
    private void stopServerNow() {
        server.shutdownNow();
        server = null;
    }

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void theSameBytesStoredTwiceAreOnePayload_chunksFirstAndCommitted() {
        byte[] raw = bytes(2500, 1);
        PayloadReference first = store.put(raw, "message/rfc822");
        int commitsAfterFirst = commits.get();
        PayloadReference again = store.put(raw, "message/rfc822");

        assertThat(again).isEqualTo(first);
        assertThat(first.id()).isEqualTo(first.sha256()).isEqualTo(EmailPayloadStore.sha256(raw));
        assertThat(first.size()).isEqualTo(2500);
        assertThat(db.getCollection("rawPayloads.files").countDocuments()).isEqualTo(1);
        assertThat(db.getCollection("rawPayloads.chunks").countDocuments()).isEqualTo(3);
        Document file = db.getCollection("rawPayloads.files").find().first();
        assertThat(file.getInteger("chunkCount")).isEqualTo(3);
        assertThat(file.getLong("size")).isEqualTo(2500L);
        assertThat(db.getCollection("rawPayloads.chunks").find(Filters.eq("_id", first.id() + ":2")).first()
                .get("data", org.bson.types.Binary.class).getData()).hasSize(500);
        // the embedded store was committed before the reference could be published; a complete payload is not rewritten
        assertThat(commitsAfterFirst).isEqualTo(2);
        assertThat(commits.get()).isEqualTo(2);
    }

    @Test
    void chunksLeftByAnInterruptedStoreAreCompletedByTheRetry() {
        byte[] raw = bytes(3000, 2);
        String id = EmailPayloadStore.sha256(raw);
        // a crash after the first chunk: no files document, so the payload does not exist yet
        db.getCollection("rawPayloads.chunks").insertOne(new Document("_id", id + ":0").append("filesId", id).append("n", 0)
                .append("data", new org.bson.types.Binary(java.util.Arrays.copyOf(raw, 1000))));
        store.put(raw, "message/rfc822");
        assertThat(db.getCollection("rawPayloads.chunks").countDocuments()).isEqualTo(3);
        assertThat(db.getCollection("rawPayloads.files").countDocuments(Filters.eq("_id", id))).isEqualTo(1);
    }

    @Test
    void anUnreachableStoreIsReportedAndNothingIsReturned() {
        stopServerNow();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.put(bytes(10, 3), "message/rfc822"))
                .isInstanceOf(EmailPayloadStore.UnavailableException.class)
                .hasMessageNotContaining("127.0.0.1");
        assertThat(store.status()).containsEntry("configured", true).containsKey("lastError");
    }

    @Test
    void withoutAStoreHealthSaysLargeMailIsReduced() {
        EmailPayloadStore none = new EmailPayloadStore();
        assertThat(none.configured()).isFalse();
        assertThat(none.status()).containsEntry("configured", false).containsKey("largeMessages");
    }
}
