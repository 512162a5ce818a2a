package io.switchboard.standalone;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import org.bson.Document;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The embedded store's value-ordered unique indexes: the same answers as mongo-java-server's own,
 * also on a data file written by the plain H2 backend (an upgrade), across restarts.
 */
class ValueOrderedH2BackendTest {

    @TempDir
    Path dir;

    <T> T withStore(Function<MVStore, H2Backend> backend, Function<MongoCollection<Document>, T> work) {
        MVStore mvStore = new MVStore.Builder().fileName(dir.resolve("test.mv.db").toString()).open();
        H2Backend h2 = backend.apply(mvStore);
        MongoServer server = new MongoServer(h2);
        server.bind("127.0.0.1", 0);
        try (MongoClient client = MongoClients.create("mongodb://127.0.0.1:" + server.getLocalAddress().getPort())) {
            return work.apply(client.getDatabase("switchboard").getCollection("conversations"));
        } finally {
            server.shutdownNow();
            mvStore.commit();
            h2.close();
        }
    }

    @Test
    void aFileWrittenByThePlainBackendIsReadAndIndexedAfterTheUpgrade_andAcrossRestarts() {
        withStore(H2Backend::new, c -> {
            c.createIndex(Indexes.ascending("_id", "_v"), new IndexOptions().unique(true).name("_id_v"));
            List<Document> docs = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                docs.add(new Document("_id", "c-" + i).append("_v", (long) i % 7).append("n", i));
            }
            c.insertMany(docs);
            return null;
        });
        for (int restart = 0; restart < 2; restart++) {
            int round = restart;
            withStore(ValueOrderedH2Backend::new, c -> {
                // documents rewritten after the upgrade are stored as BSON beside pages still in Java serialization
                assertThat(c.find(Filters.eq("_id", "c-5")).first().getInteger("n")).isEqualTo(5 + 1000 * round);
                c.updateOne(Filters.eq("_id", "c-5"), new Document("$inc", new Document("n", 1000)));
                assertThat(c.find(Filters.eq("_id", "c-123")).first().getInteger("n")).isEqualTo(123);
                assertThat(c.find(Filters.and(Filters.eq("_id", "c-124"), Filters.eq("_v", 124L % 7))).first()).isNotNull();
                assertThat(c.find(Filters.and(Filters.eq("_id", "c-124"), Filters.eq("_v", 99L))).first()).isNull();
                assertThat(c.find(Filters.in("_id", "c-1", "c-2", "c-999")).into(new ArrayList<>())).hasSize(2);
                assertThatThrownBy(() -> c.insertOne(new Document("_id", "c-7")))
                        .isInstanceOf(MongoWriteException.class).hasMessageContaining("duplicate key");
                return null;
            });
        }
    }

    @Test
    void versionCheckedUpdatesMoveTheCompoundKey_andTheOldVersionNoLongerMatches() {
        withStore(ValueOrderedH2Backend::new, c -> {
            c.createIndex(Indexes.ascending("_id", "_v"), new IndexOptions().unique(true).name("_id_v"));
            c.insertOne(new Document("_id", "x").append("_v", 0L));
            for (long v = 0; v < 50; v++) {
                assertThat(c.updateOne(Filters.and(Filters.eq("_id", "x"), Filters.eq("_v", v)),
                        new Document("$inc", new Document("_v", 1L))).getModifiedCount()).isEqualTo(1);
            }
            assertThat(c.updateOne(Filters.and(Filters.eq("_id", "x"), Filters.eq("_v", 10L)),
                    new Document("$inc", new Document("_v", 1L))).getModifiedCount()).isZero();
            assertThat(c.find(Filters.eq("_id", "x")).first().getLong("_v")).isEqualTo(50L);
            // numbers compare as values, as MongoDB's unique indexes do: 1 and 1.0 are one key
            c.insertOne(new Document("_id", 1));
            assertThatThrownBy(() -> c.insertOne(new Document("_id", 1.0))).isInstanceOf(MongoWriteException.class);
            return null;
        });
    }

    @Test
    void documentsOfEveryValueTypeComeBackTheSameAcrossARestart_storedAsBson() {
        Document stored = new Document("_id", "all-types").append("text", "Grüße, 你好 \uD83D\uDE00").append("int", 42)
                .append("long", 1L << 40).append("double", 0.5).append("yes", true).append("none", null)
                .append("at", new java.util.Date(1_700_000_000_123L))
                .append("id", new org.bson.types.ObjectId("65a1b2c3d4e5f6a7b8c9d0e1"))
                .append("bytes", new org.bson.types.Binary(new byte[]{0, 1, (byte) 0xff}))
                .append("decimal", org.bson.types.Decimal128.parse("12.345"))
                .append("messages", List.of(new Document("key", "m1").append("attachments", List.of()),
                        new Document("key", "m2").append("tags", List.of("a", "b"))))
                .append("nested", new Document("deeper", new Document("n", -1)));
        withStore(ValueOrderedH2Backend::new, c -> {
            c.insertOne(stored);
            return null;
        });
        withStore(ValueOrderedH2Backend::new, c -> {
            assertThat(c.find(Filters.eq("_id", "all-types")).first()).isEqualTo(stored);
            return null;
        });
        // the proof that the change is in the file: H2's own type (an earlier release) no longer reads these values
        MVStore raw = new MVStore.Builder().fileName(dir.resolve("test.mv.db").toString()).readOnly().open();
        try {
            assertThatThrownBy(() -> raw.openMap("databases.switchboard.conversations").get("all-types")).hasMessageContaining("Unknown tag " + ValueOrderedH2Backend.BsonDocumentType.TAG);
        } finally {
            raw.close();
        }
    }

    @Test
    void aDocumentGrownPastBsonsLimitByUpdatesIsStillReadAfterARestart() {
        String megabyte = "x".repeat(1 << 20);
        withStore(ValueOrderedH2Backend::new, c -> {
            c.insertOne(new Document("_id", "long-thread").append("messages", List.of()));
            // each update is small enough for the wire; the document they make is over 16 MB
            for (int i = 0; i < 17; i++) {
                c.updateOne(Filters.eq("_id", "long-thread"), new Document("$push", new Document("messages", megabyte)));
            }
            return null;
        });
        withStore(ValueOrderedH2Backend::new, c -> {
            Document read = c.find(Filters.eq("_id", "long-thread")).projection(new Document("_id", 1)).first();
            assertThat(read).isNotNull();
            assertThat(c.countDocuments()).isEqualTo(1);
            return null;
        });
    }
}
