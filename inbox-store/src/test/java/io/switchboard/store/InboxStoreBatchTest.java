package io.switchboard.store;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * The router's unit of work ({@link InboxStore#openBatch()}, {@link InboxStore#prefetch}): what a batch
 * writes reads the same as without it, and what others change meanwhile is not lost.
 */
class InboxStoreBatchTest {

    @RegisterExtension
    static final EmbeddedMongo MONGO = new EmbeddedMongo();
    MongoTemplate mongo;
    InboxStore store;
    static final Instant T0 = Instant.parse("2025-03-12T10:00:00Z");
    static final Identity ANNA = new Identity("telegram", "42");

    @BeforeEach
    void fresh() {
        mongo = MONGO.database("batch-test-");
        store = new InboxStore(mongo);
    }

    Conversation chat(String contactId, Instant at) {
        return store.conversationFor(new InboxStore.ThreadRequest("telegram", "default", "telegram:default:chat:42",
                List.of(), contactId, "Anna", null, Map.of("chat_id", "42"), at, Duration.ofDays(7)));
    }

    static Message inbound(String key, Instant at, String text) {
        return new Message(key, key, "inbound", "message", "telegram", key, at, "Anna", text, List.of(), null, null, null,
                null, null, false);
    }

    /** What the router does per customer message, in the order it does it. */
    String receive(String key, Instant at, String text) {
        Contact contact = store.contactRecordFor(ANNA, "Anna", at);
        Conversation c = chat(contact.id(), at);
        String conversationId = store.claimMessageKey(key, c.id(), null).conversationId();
        Message m = inbound(key, at, text);
        store.appendMessage(conversationId, m);
        store.recordCustomerMessage(conversationId, m);
        return conversationId;
    }

    @Test
    void aBatchOfMessagesForANewAndThenAKnownThreadEndsAsWithoutTheBatch() {
        String first;
        try (InboxStore.Batch batch = store.openBatch()) {
            store.prefetch(List.of("k1", "k2"), List.of(ANNA.key()), List.of("telegram:default:chat:42"));
            first = receive("k1", T0, "hello");
            assertThat(receive("k2", T0.plusSeconds(5), "anyone?")).isEqualTo(first);
            assertThat(store.find(first).orElseThrow().lastMessageAt()).as("the batch reads what it holds back")
                    .isEqualTo(T0.plusSeconds(5));
            batch.flush();
        }
        try (InboxStore.Batch batch = store.openBatch()) {
            store.prefetch(List.of("k2", "k3"), List.of(ANNA.key()), List.of("telegram:default:chat:42"));
            assertThat(store.messageKey("k2")).isPresent(); // a redelivered message is known from the prefetch
            assertThat(receive("k3", T0.plusSeconds(9), "third")).isEqualTo(first);
            batch.flush();
        }
        assertThat(store.transcript(first).orElseThrow().messages()).extracting(Message::key).containsExactly("k1", "k2", "k3");
        Conversation c = store.find(first).orElseThrow();
        assertThat(c.lastMessageAt()).isEqualTo(T0.plusSeconds(9));
        assertThat(c.firstMessageAt()).isEqualTo(T0);
        assertThat(mongo.getCollection(InboxStore.IDENTITIES).countDocuments()).isEqualTo(1);
        assertThat(mongo.getCollection(Contact.COLLECTION).countDocuments()).isEqualTo(1);
    }

    @Test
    void aChangeMadeByOthersAfterThePrefetchIsKeptAndTheBatchWritesOnTop() {
        String id = receive("k1", T0, "hello");
        try (InboxStore.Batch batch = store.openBatch()) {
            store.prefetch(List.of("k2"), List.of(ANNA.key()), List.of("telegram:default:chat:42"));
            // an agent assigns and answers in the API while the router's batch holds its copies
            mongo.updateFirst(Query.query(where("_id").is(id)),
                    new Update().set("assignee", "olga").inc(InboxStore.VERSION, 1L), Conversation.COLLECTION);
            store.appendMessage(id, new Message("r1", "r1", "outbound", "message", "telegram", null, T0.plusSeconds(3),
                    "olga", "hi!", List.of(), "pending", null, null, null, null, false));
            assertThat(receive("k2", T0.plusSeconds(5), "thanks")).isEqualTo(id);
            batch.flush();
        }
        Conversation c = store.find(id).orElseThrow();
        assertThat(c.assignee()).isEqualTo("olga");
        assertThat(c.lastMessageAt()).isEqualTo(T0.plusSeconds(5));
        assertThat(store.transcript(id).orElseThrow().messages()).extracting(Message::key).containsExactly("k1", "r1", "k2");
    }

    @Test
    void writesHeldBackUntilTheFlushAreDecidedAgainWhenOthersChangedTheDocumentsMeanwhile() {
        String id = receive("k1", T0, "hello");
        try (InboxStore.Batch batch = store.openBatch()) {
            store.prefetch(List.of("k2", "k3"), List.of(ANNA.key()), List.of("telegram:default:chat:42"));
            receive("k2", T0.plusSeconds(5), "still there?");
            // nothing is written before the flush
            assertThat(mongo.getCollection(InboxStore.MESSAGE_KEYS).countDocuments(new org.bson.Document("_id", "k2"))).isZero();
            assertThat(mongo.findById(id, Transcript.class).messages()).hasSize(1);
            // meanwhile an agent answers (the transcript changes) and resolves the conversation
            mongo.updateFirst(Query.query(where("_id").is(id)), new Update().push("messages", new Message("r1", "r1", "outbound",
                    "message", "telegram", null, T0.plusSeconds(4), "olga", "we are on it", List.of(), "sent", null, null, null,
                    null, false)).inc(InboxStore.VERSION, 1L), Transcript.COLLECTION);
            mongo.updateFirst(Query.query(where("_id").is(id)), new Update().set("status", Conversation.RESOLVED)
                    .set("lastAgentMessageAt", T0.plusSeconds(4)).unset("awaitingSince").inc(InboxStore.VERSION, 1L),
                    Conversation.COLLECTION);
            receive("k3", T0.plusSeconds(6), "hello again");
            batch.flush();
        }
        assertThat(store.transcript(id).orElseThrow().messages()).extracting(Message::key).containsExactly("k1", "r1", "k2", "k3");
        Conversation c = store.find(id).orElseThrow();
        assertThat(c.status()).as("the agent's change is kept").isEqualTo(Conversation.RESOLVED);
        assertThat(c.lastMessageAt()).isEqualTo(T0.plusSeconds(6));
        assertThat(c.awaitingSince()).as("decided again on the stored document, which has the agent's answer")
                .isEqualTo(T0.plusSeconds(5));
        assertThat(mongo.getCollection(InboxStore.MESSAGE_KEYS).countDocuments()).isEqualTo(3);
    }

    @Test
    void aBatchClosedWithoutAFlushWritesNothingItHeldBack_andARedeliveryCompletesIt() {
        String id = receive("k1", T0, "hello");
        try (InboxStore.Batch batch = store.openBatch()) {
            store.prefetch(List.of("k2"), List.of(ANNA.key()), List.of("telegram:default:chat:42"));
            receive("k2", T0.plusSeconds(5), "lost in a crash?");
        }
        assertThat(store.transcript(id).orElseThrow().messages()).hasSize(1);
        try (InboxStore.Batch batch = store.openBatch()) {
            store.prefetch(List.of("k2"), List.of(ANNA.key()), List.of("telegram:default:chat:42"));
            receive("k2", T0.plusSeconds(5), "lost in a crash?");
            batch.flush();
        }
        assertThat(store.transcript(id).orElseThrow().messages()).extracting(Message::key).containsExactly("k1", "k2");
        assertThat(store.find(id).orElseThrow().lastMessageAt()).isEqualTo(T0.plusSeconds(5));
    }

    @Test
    void aNewIdentityOfAKnownContactIsStillAddedAndAClosedBatchReadsTheStoreAgain() {
        String id = receive("k1", T0, "hello");
        try (InboxStore.Batch batch = store.openBatch()) {
            store.prefetch(List.of(), List.of(ANNA.key()), List.of());
            Contact anna = store.contactRecordFor(ANNA, "Anna", T0);
            store.enrichContact(anna.id(), List.of(new Identity("phone", "+79991234567")), Map.of("login", "anna"), T0);
            assertThat(store.contact(anna.id()).orElseThrow().identities()).hasSize(2);
        }
        mongo.updateFirst(Query.query(where("_id").is(id)), new Update().set("priority", "urgent"), Conversation.COLLECTION);
        assertThat(store.find(id).orElseThrow().priority()).isEqualTo("urgent");
    }

    @Test
    void aNewSenderAndThreadAreCreatedAtTheFlush_readingAsTheyWouldWithoutTheBatch() throws Exception {
        String id;
        try (InboxStore.Batch batch = store.openBatch()) {
            store.prefetch(List.of("k1"), List.of(ANNA.key()), List.of("telegram:default:chat:42"));
            id = receive("k1", T0, "hello");
            assertThat(store.find(id).orElseThrow().contactName()).as("the batch reads what it created").isEqualTo("Anna");
            for (String collection : List.of(InboxStore.IDENTITIES, Contact.COLLECTION, InboxStore.THREAD_KEYS, Conversation.COLLECTION)) {
                assertThat(mongo.getCollection(collection).countDocuments()).as(collection + " before the flush").isZero();
            }
            batch.flush();
        }
        // the same message through the single writes, in another database
        InboxStore single = new InboxStore(MONGO.database("batch-test-single-"));
        Contact contact = single.contactRecordFor(ANNA, "Anna", T0);
        Conversation c = single.conversationFor(new InboxStore.ThreadRequest("telegram", "default", "telegram:default:chat:42",
                List.of(), contact.id(), "Anna", null, Map.of("chat_id", "42"), T0, Duration.ofDays(7)));
        single.claimMessageKey("k1", c.id(), null);
        single.appendMessage(c.id(), inbound("k1", T0, "hello"));
        single.recordCustomerMessage(c.id(), inbound("k1", T0, "hello"));

        Conversation batched = store.find(id).orElseThrow();
        Conversation expected = single.find(c.id()).orElseThrow();
        assertThat(batched).usingRecursiveComparison().ignoringFields("id", "contactId").isEqualTo(expected);
        Contact stored = store.contact(batched.contactId()).orElseThrow();
        assertThat(stored).usingRecursiveComparison().ignoringFields("id").isEqualTo(single.contact(contact.id()).orElseThrow());
        assertThat(store.contactOfIdentity(ANNA)).contains(stored.id());
        assertThat(store.conversationByThreadKey("telegram:default:chat:42")).contains(id);
        assertThat(store.transcript(id).orElseThrow().messages()).extracting(Message::key).containsExactly("k1");
    }

    @Test
    void aWriteOutsideTheHeldBackPathFindsTheContactTheBatchCreated() {
        try (InboxStore.Batch batch = store.openBatch()) {
            store.prefetch(List.of("k1"), List.of(ANNA.key()), List.of("telegram:default:chat:42"));
            Contact anna = store.contactRecordFor(ANNA, "Anna", T0);
            store.enrichContact(anna.id(), List.of(), Map.of("project", "kb-42"), T0);
            assertThat(store.conversationsOf(anna.id())).isEmpty();
            receive("k1", T0, "hello");
            assertThat(store.conversationsOf(anna.id())).hasSize(1);
            batch.flush();
            assertThat(store.contact(anna.id()).orElseThrow().project()).isEqualTo("kb-42");
        }
    }

    @Test
    void aBatchThatLostTheCreationOfASenderToAnotherWriterFailsAtTheFlush_andItsSecondRunJoinsTheWinner() throws Exception {
        InboxStore.Batch batch = store.openBatch();
        store.prefetch(List.of("k2"), List.of(ANNA.key()), List.of("telegram:default:chat:42"));
        String lost = receive("k2", T0.plusSeconds(1), "second");
        // meanwhile another router thread (no batch there) creates the same sender and thread
        Thread other = new Thread(() -> receive("k1", T0, "first"));
        other.start();
        other.join();
        org.assertj.core.api.Assertions.assertThatThrownBy(batch::flush).isInstanceOf(InboxStore.BatchConflictException.class);
        batch.close();
        // the second run reads what the store holds now
        try (InboxStore.Batch again = store.openBatch()) {
            store.prefetch(List.of("k2"), List.of(ANNA.key()), List.of("telegram:default:chat:42"));
            receive("k2", T0.plusSeconds(1), "second");
            again.flush();
        }
        String id = store.conversationByThreadKey("telegram:default:chat:42").orElseThrow();
        assertThat(store.transcript(id).orElseThrow().messages()).extracting(Message::key).containsExactly("k1", "k2");
        assertThat(mongo.getCollection(Contact.COLLECTION).countDocuments()).isEqualTo(1);
        assertThat(mongo.getCollection(Conversation.COLLECTION).countDocuments()).isEqualTo(1);
        assertThat(store.find(id).orElseThrow().lastMessageAt()).isEqualTo(T0.plusSeconds(1));
        // the failed run's new conversation was never inserted (its events are dropped by the listener)
        assertThat(lost).isNotEqualTo(id);
        assertThat(store.storedConversations(List.of(lost, id, id))).containsExactly(id);
    }

    @Test
    void aNewConversationOfAContactMergedWhileTheBatchRanBelongsToTheSurvivor() throws Exception {
        Contact anna = store.contactRecordFor(ANNA, "Anna", T0);
        Contact survivor = store.contactRecordFor(new Identity("email", "anna@example.com"), "Anna K.", T0);
        try (InboxStore.Batch batch = store.openBatch()) {
            store.prefetch(List.of("k1"), List.of(ANNA.key()), List.of("telegram:default:chat:42"));
            String id = receive("k1", T0, "hello"); // Anna's first chat: a new conversation, held back
            assertThat(store.find(id).orElseThrow().contactId()).isEqualTo(anna.id());
            // meanwhile an agent merges Anna into the other record (the API, no batch there)
            Thread agent = new Thread(() -> store.mergeContacts(survivor.id(), anna.id(), "agent", T0.plusSeconds(1)));
            agent.start();
            agent.join();
            batch.flush();
        }
        Conversation c = store.find(store.conversationByThreadKey("telegram:default:chat:42").orElseThrow()).orElseThrow();
        assertThat(c.contactId()).isEqualTo(survivor.id());
        assertThat(c.contactName()).isEqualTo("Anna K.");
        assertThat(store.conversationsOf(survivor.id())).extracting(Conversation::id).containsExactly(c.id());
        assertThat(store.conversationsOf(anna.id())).isEmpty();
    }
}
