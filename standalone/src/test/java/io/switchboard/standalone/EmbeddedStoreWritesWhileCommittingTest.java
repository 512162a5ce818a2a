package io.switchboard.standalone;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import org.bson.Document;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Updates while H2 writes pages on its own thread (ValueOrderedH2Backend.CopyOnUpdateCollection): a
 * document H2 holds is never changed under it, so commits neither fail nor hang, and a failure on H2's
 * threads stops the store's commits at once instead of hanging them (EmbeddedStore#failed).
 */
class EmbeddedStoreWritesWhileCommittingTest {

    @TempDir
    Path dir;

    @Test
    void anUpdateReplacesTheStoredDocumentInsteadOfChangingTheObjectH2Holds() throws Exception {
        MVStore mvStore = new MVStore.Builder().fileName(dir.resolve("test.mv.db").toString()).open();
        ValueOrderedH2Backend backend = new ValueOrderedH2Backend(mvStore);
        de.bwaldvogel.mongo.MongoServer server = new de.bwaldvogel.mongo.MongoServer(backend);
        server.bind("127.0.0.1", 0);
        try (MongoClient client = MongoClients.create("mongodb://127.0.0.1:" + server.getLocalAddress().getPort())) {
            MongoCollection<Document> c = client.getDatabase("switchboard").getCollection("transcripts");
            c.insertOne(new Document("_id", "t").append("messages", List.of("m1")));
            MVMap<Object, de.bwaldvogel.mongo.bson.Document> data = mvStore.openMap("databases.switchboard.transcripts");
            de.bwaldvogel.mongo.bson.Document held = data.get("t");

            c.updateOne(Filters.eq("_id", "t"), new Document("$push", new Document("messages", "m2")).append("$set",
                    new Document("sealed", true)));
            // what H2 held (and may be writing into the file's previous version) is as it was
            assertThat(held).doesNotContainKey("sealed");
            assertThat(held.get("messages")).isEqualTo(List.of("m1"));
            assertThat(data.get("t")).isNotSameAs(held).containsEntry("sealed", true);

            de.bwaldvogel.mongo.bson.Document before = data.get("t");
            Document updated = c.findOneAndUpdate(Filters.eq("_id", "t"), new Document("$unset", new Document("sealed", "")),
                    new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER));
            assertThat(updated).doesNotContainKey("sealed");
            assertThat(before).containsEntry("sealed", true);
            assertThat(c.find(Filters.eq("_id", "t")).first().getList("messages", String.class)).containsExactly("m1", "m2");
        } finally {
            server.shutdownNow();
            backend.close();
        }
    }

    @Test
    void fieldsAddedAndRemovedWhileTheStoreCommitsAllTheTimeNeitherFailNorHangACommit() {
        EmbeddedStore store = EmbeddedStore.start(dir.resolve("store"), 16);
        try (MongoClient client = MongoClients.create(store.uri())) {
            MongoCollection<Document> c = client.getDatabase("switchboard").getCollection("transcripts");
            // large enough that H2's thread takes a while to encode it, as a page of long mails does
            List<String> messages = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) {
                messages.add("message " + i + " " + "x".repeat(100));
            }
            c.insertOne(new Document("_id", "t").append("messages", messages));
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread committer = new Thread(() -> {
                while (writing.get()) {
                    store.commit();
                }
            });
            assertTimeoutPreemptively(Duration.ofMinutes(2), () -> {
                committer.start();
                try {
                    for (int i = 1; i <= 400; i++) {
                        // each update adds one top-level field and removes the one before: the document's set of
                        // keys changes, which is what an encoder iterating over it cannot survive
                        c.updateOne(Filters.eq("_id", "t"), new Document("$set", new Document("f" + i, i))
                                .append("$unset", new Document("f" + (i - 1), "")));
                    }
                } finally {
                    writing.set(false);
                    committer.join();
                }
                store.commit();
            }, "a commit hung: H2's writing thread waits for a chunk it never saved");
            assertThat(store.failure()).isNull();
            Document last = c.find(Filters.eq("_id", "t")).first();
            assertThat(last).containsEntry("f400", 400).doesNotContainKey("f399");
            assertThat(last.getList("messages", String.class)).hasSize(2_000);
        } finally {
            store.close();
        }
        // and the file holds the last commit
        EmbeddedStore reopened = EmbeddedStore.start(dir.resolve("store"), 16);
        try (MongoClient client = MongoClients.create(reopened.uri())) {
            assertThat(client.getDatabase("switchboard").getCollection("transcripts").find().first()).containsEntry("f400", 400);
        } finally {
            reopened.close();
        }
    }

    @Test
    void afterAFailureOnH2sOwnThreadsACommitRefusesAtOnceInsteadOfWaiting() throws Exception {
        EmbeddedStore store = EmbeddedStore.start(dir.resolve("store"), 16);
        try (MongoClient client = MongoClients.create(store.uri())) {
            client.getDatabase("switchboard").getCollection("transcripts").insertOne(new Document("_id", "t"));
            store.commit();
            assertThat(store.health().getStatus()).isEqualTo(org.springframework.boot.health.contributor.Status.UP);
            // a commit that was already waiting for H2 when it failed (it may never return) must hold back no other:
            // it never lets go of the commit lock
            Thread stuck = new Thread(store.committing()::lock);
            stuck.start();
            stuck.join();
            java.util.concurrent.CompletableFuture<Void> waiting = java.util.concurrent.CompletableFuture.runAsync(store::commit);
            while (!store.committing().hasQueuedThreads()) { // it waits behind the stuck one when H2 fails
                Thread.onSpinWait();
            }

            // what H2 does when writing a chunk fails on one of its own threads
            assertThatThrownBy(() -> store.mvStore().panic(org.h2.mvstore.DataUtils.newMVStoreException(
                    org.h2.mvstore.DataUtils.ERROR_WRITING_FAILED, "chunk write failed"))).isInstanceOf(org.h2.mvstore.MVStoreException.class);

            assertThat(store.failure()).hasMessageContaining("chunk write failed");
            assertThat(store.health().getStatus()).isEqualTo(org.springframework.boot.health.contributor.Status.DOWN);
            assertThat(store.health().getDetails().get("reason").toString()).contains("restart Switchboard");
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThatThrownBy(store::commit)
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("restart Switchboard"));
            // and the commit that was waiting behind the stuck one gives up too
            assertThatThrownBy(() -> waiting.get(30, java.util.concurrent.TimeUnit.SECONDS))
                    .hasCauseInstanceOf(IllegalStateException.class);
        } finally {
            store.close();
        }
        // the last complete commit is what a restart finds
        EmbeddedStore reopened = EmbeddedStore.start(dir.resolve("store"), 16);
        try (MongoClient client = MongoClients.create(reopened.uri())) {
            assertThat(client.getDatabase("switchboard").getCollection("transcripts").countDocuments()).isEqualTo(1);
        } finally {
            reopened.close();
        }
    }
}
