package io.switchboard.store;

import org.bson.Document;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * Transcripts kept in bounded pages (ADR 0151), with three messages per page so that a few messages
 * fill several: appends, redeliveries, updates of messages on earlier pages and merges read and
 * write the same as on one page, and no page grows past its bounds.
 */
class TranscriptPagesTest {

    @RegisterExtension
    static final EmbeddedMongo MONGO = new EmbeddedMongo();
    MongoTemplate mongo;
    InboxStore store;
    static final Instant T0 = Instant.parse("2025-03-12T10:00:00Z");
    static final Identity ANNA = new Identity("telegram", "42");

    /** A fresh database; {@link TranscriptPagesOnMongoDbTest} gives one on a real MongoDB instead. */
    MongoTemplate database(String prefix) {
        return MONGO.database(prefix);
    }

    @BeforeEach
    void fresh() {
        mongo = database("pages-test-");
        store = new InboxStore(mongo, 3, 1L << 20);
    }

    Conversation chat(String contactId, String chat, String channel, Instant at) {
        return store.conversationFor(new InboxStore.ThreadRequest(channel, "default", channel + ":default:chat:" + chat,
                List.of(), contactId, "Anna", null, Map.of("chat_id", chat), at, Duration.ofDays(7)));
    }

    static Message inbound(String key, Instant at, String text) {
        return new Message(key, key, "inbound", "message", "telegram", key, at, "Anna", text, List.of(), null, null, null,
                null, null, false);
    }

    static Message reply(String id, Instant at) {
        return new Message(id, "out:" + id, "outbound", "message", "telegram", null, at, "agent", "on it", List.of(),
                "pending", null, null, null, null, false);
    }

    /** What the router does per customer message. */
    String receive(String key, Instant at) {
        Contact contact = store.contactRecordFor(ANNA, "Anna", at);
        Conversation c = chat(contact.id(), "42", "telegram", at);
        String conversationId = store.claimMessageKey(key, c.id(), null).conversationId();
        Message m = inbound(key, at, "text of " + key);
        store.appendMessage(conversationId, m);
        store.recordCustomerMessage(conversationId, m);
        return conversationId;
    }

    /** Anna's chat after k1..kn, received one by one at T0 + n seconds; its conversation's id. */
    String chatOf(int messages) {
        String id = null;
        for (int i = 1; i <= messages; i++) {
            id = receive("k" + i, T0.plusSeconds(i));
        }
        return id;
    }

    /** Another conversation of the chat's contact, by email, for merges. */
    Conversation emailBeside(String chatId) {
        return chat(store.find(chatId).orElseThrow().contactId(), "a@x", "email", T0.plusSeconds(10));
    }

    /** The router's batch over these records, in order: keys "k<n>", written at T0 + n seconds. */
    void inOneBatch(String... keys) {
        try (InboxStore.Batch batch = store.openBatch()) {
            store.prefetch(List.of(keys).stream().distinct().toList(), List.of(ANNA.key()), List.of("telegram:default:chat:42"));
            for (String key : keys) {
                receive(key, T0.plusSeconds(Integer.parseInt(key.substring(1))));
            }
            batch.flush();
        }
    }

    List<String> keys(String conversationId) {
        return store.transcript(conversationId).orElseThrow().messages().stream().map(Message::key).toList();
    }

    /** The stored pages, in order, as documents. */
    List<Document> pages(String conversationId) {
        List<Document> pages = new ArrayList<>();
        for (int n = 0; ; n++) {
            Document page = mongo.findById(InboxStore.pageId(conversationId, n), Document.class, Transcript.COLLECTION);
            if (page == null) {
                return pages;
            }
            pages.add(page);
        }
    }

    static List<String> keysOn(Document page) {
        return page.getList("messages", Document.class).stream().map(m -> m.getString("key")).toList();
    }

    @Test
    void appendsFillPagesInOrderAndTheTranscriptReadsAsOne() {
        String id = chatOf(7);
        assertThat(keys(id)).containsExactly("k1", "k2", "k3", "k4", "k5", "k6", "k7");
        List<Document> pages = pages(id);
        assertThat(pages).extracting(TranscriptPagesTest::keysOn)
                .containsExactly(List.of("k1", "k2", "k3"), List.of("k4", "k5", "k6"), List.of("k7"));
        assertThat(pages).extracting(p -> p.getBoolean(InboxStore.SEALED, false)).containsExactly(true, true, false);
        assertThat(pages.get(0).get(InboxStore.PAGES)).isEqualTo(2);
        assertThat(mongo.findById(id, Document.class, Conversation.COLLECTION).get(InboxStore.TRANSCRIPT_PAGES)).isEqualTo(2);

        // redelivered messages, on the first, middle and last page, are not appended again
        for (String key : List.of("k1", "k5", "k7")) {
            assertThat(store.appendMessage(id, inbound(key, T0, "again"))).isFalse();
        }
        assertThat(keys(id)).hasSize(7).doesNotHaveDuplicates();
    }

    @Test
    void aBatchAppendsAcrossPagesAndARedeliveredBatchAddsNothing() {
        inOneBatch("k1", "k2", "k3", "k4", "k5");
        String id = store.conversationByThreadKey("telegram:default:chat:42").orElseThrow();
        assertThat(pages(id)).extracting(TranscriptPagesTest::keysOn).containsExactly(List.of("k1", "k2", "k3"), List.of("k4", "k5"));

        // the same records again (a redelivery after a crash), then new ones, in one batch
        inOneBatch("k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8");
        assertThat(keys(id)).containsExactly("k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8");
        assertThat(pages(id)).allSatisfy(p -> assertThat(keysOn(p)).hasSizeLessThanOrEqualTo(3));
        assertThat(store.find(id).orElseThrow().lastMessageAt()).isEqualTo(T0.plusSeconds(8));
    }

    @Test
    void aBatchFindsTheLastPageWhenTheConversationsHintLagsOrIsGone() {
        for (int i = 1; i <= 7; i++) {
            receive("k" + i, T0.plusSeconds(i));
        }
        String id = store.conversationByThreadKey("telegram:default:chat:42").orElseThrow();
        // a hint that lags (as after a crash between opening a page and setting it): sealed pages are followed
        mongo.updateFirst(Query.query(where("_id").is(id)), new Update().set(InboxStore.TRANSCRIPT_PAGES, 1), Conversation.COLLECTION);
        inOneBatch("k8", "k9");
        // none (a conversation of an earlier release): the first page's hint stands in
        mongo.updateFirst(Query.query(where("_id").is(id)), new Update().unset(InboxStore.TRANSCRIPT_PAGES), Conversation.COLLECTION);
        inOneBatch("k10", "k11");
        assertThat(pages(id)).extracting(TranscriptPagesTest::keysOn).containsExactly(List.of("k1", "k2", "k3"),
                List.of("k4", "k5", "k6"), List.of("k7", "k8", "k9"), List.of("k10", "k11"));
        assertThat(mongo.findById(id, Document.class, Conversation.COLLECTION).get(InboxStore.TRANSCRIPT_PAGES)).isEqualTo(3);
    }

    @Test
    void editsMetaAndDeliveryReportsReachMessagesOnEarlierPages() {
        String id = receive("k1", T0);
        store.appendMessage(id, reply("r1", T0.plusSeconds(1)));
        for (int i = 2; i <= 7; i++) {
            receive("k" + i, T0.plusSeconds(i));
        }
        assertThat(pages(id)).hasSize(3);

        assertThat(store.updateDelivery(id, "r1", "sent", "ext-1", null)).isTrue();
        assertThat(store.updateDelivery(id, "r1", "sent", "ext-1", null)).isFalse();
        assertThat(store.editMessage(id, "k4", "corrected", T0.plusSeconds(60))).isTrue();
        assertThat(store.updateMessageMeta(id, "k7", "call ended", Map.of("disposition", "answered"))).isTrue();

        List<Message> messages = store.transcript(id).orElseThrow().messages();
        Message r1 = messages.stream().filter(m -> "r1".equals(m.messageId())).findFirst().orElseThrow();
        assertThat(r1.deliveryStatus()).isEqualTo("sent");
        assertThat(r1.externalId()).isEqualTo("ext-1");
        Message k4 = messages.stream().filter(m -> "k4".equals(m.key())).findFirst().orElseThrow();
        assertThat(k4.text()).isEqualTo("corrected");
        assertThat(k4.history()).containsExactly("text of k4");
        assertThat(messages.stream().filter(m -> "k7".equals(m.key())).findFirst().orElseThrow().meta())
                .containsEntry("disposition", "answered");
        // nothing else changed, and every message is still on its page
        assertThat(messages).extracting(Message::key).containsExactly("k1", "out:r1", "k2", "k3", "k4", "k5", "k6", "k7");
        assertThat(messages.stream().filter(m -> !"k4".equals(m.key()) && !"k7".equals(m.key())).map(Message::text))
                .allMatch(t -> t.startsWith("text of") || t.equals("on it"));
    }

    @Test
    void aSealedPageWhoseSuccessorWasNeverOpenedIsCompletedByTheNextAppend() {
        String id = chatOf(3);
        // the crash: the full page was sealed, the process stopped before it opened the next one
        mongo.updateFirst(Query.query(where("_id").is(id)), new Update().set(InboxStore.SEALED, true).inc(InboxStore.VERSION, 1L),
                Transcript.COLLECTION);
        assertThat(keys(id)).containsExactly("k1", "k2", "k3");

        receive("k4", T0.plusSeconds(4));
        assertThat(pages(id)).extracting(TranscriptPagesTest::keysOn).containsExactly(List.of("k1", "k2", "k3"), List.of("k4"));
    }

    @Test
    void aLargeMessageGoesOnAPageOfItsOwnAndPagesStayWithinTheByteBound() {
        store = new InboxStore(mongo, 100, 20_000);
        String id = receive("k1", T0);
        Message big = inbound("big", T0.plusSeconds(1), "x".repeat(30_000));
        store.claimMessageKey("big", id, null);
        store.appendMessage(id, big);
        // then Cyrillic text, two bytes a character in UTF-8: 2,000 characters are about 4 KB encoded
        for (int i = 3; i <= 12; i++) {
            Message m = inbound("k" + i, T0.plusSeconds(i), "ж".repeat(2_000));
            store.claimMessageKey(m.key(), id, null);
            store.appendMessage(id, m);
        }

        List<Document> pages = pages(id);
        assertThat(pages.subList(0, 2)).extracting(TranscriptPagesTest::keysOn).containsExactly(List.of("k1"), List.of("big"));
        assertThat(keys(id)).hasSize(12);
        for (Document page : pages.subList(2, pages.size())) {
            int bytes = org.bson.RawBsonDocument.parse(page.toJson()).getByteBuffer().remaining();
            // the estimate errs high, so a page is below the bound, yet not by so much that pages hold one message each
            assertThat(bytes).isLessThan(20_000);
            if (page.getBoolean(InboxStore.SEALED, false)) {
                assertThat(keysOn(page)).hasSizeGreaterThanOrEqualTo(2);
            }
        }
    }

    @Test
    void aConversationOfLargeMailsTakesMessagesPastMongoDbsDocumentLimit() {
        store = new InboxStore(mongo); // the product's bounds
        String id = receive("k0", T0);
        // 40 mails of 256 K Cyrillic characters (the email normalizer's limit), 512 KB each: 20 MB in all
        String text = "ж".repeat(256 * 1024);
        for (int i = 1; i <= 40; i++) {
            Message m = new Message("m" + i, "m" + i, "inbound", "message", "email", "m" + i, T0.plusSeconds(i), "Anna", text,
                    List.of(), null, null, null, null, null, false);
            store.claimMessageKey(m.key(), id, null);
            assertThat(store.appendMessage(id, m)).isTrue();
        }
        assertThat(keys(id)).hasSize(41);
        long total = 0;
        for (Document page : pages(id)) {
            int bytes = org.bson.RawBsonDocument.parse(page.toJson()).getByteBuffer().remaining();
            assertThat(bytes).isLessThan(2 * 1024 * 1024);
            total += bytes;
        }
        assertThat(total).isGreaterThan(16L * 1024 * 1024);
    }

    @Test
    void aTranscriptWrittenBeforePagesAndOverTheBoundIsReadAsItIsAndContinuedOnANewPage() {
        String id = receive("k1", T0);
        // as an earlier release left it: one document of five messages, no version, no page fields
        List<Object> five = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            five.add(mongo.getConverter().convertToMongoType(inbound("k" + i, T0.plusSeconds(i), "text of k" + i)));
        }
        mongo.remove(Query.query(where("_id").is(id)), Transcript.COLLECTION);
        mongo.insert(new Document("_id", id).append("messages", five), Transcript.COLLECTION);
        for (int i = 2; i <= 5; i++) { // k1's key is claimed already
            mongo.insert(new Document("_id", "k" + i).append("conversationId", id), InboxStore.MESSAGE_KEYS);
        }
        assertThat(keys(id)).containsExactly("k1", "k2", "k3", "k4", "k5");

        inOneBatch("k5", "k6", "k7"); // k5 a late repeat
        assertThat(pages(id)).extracting(TranscriptPagesTest::keysOn)
                .containsExactly(List.of("k1", "k2", "k3", "k4", "k5"), List.of("k6", "k7"));
        assertThat(store.editMessage(id, "k2", "corrected", T0.plusSeconds(60))).isTrue();
        assertThat(store.transcript(id).orElseThrow().messages().get(1).text()).isEqualTo("corrected");
    }

    @Test
    void concurrentAppendsEachLandOnceAndNoPageOverflows() throws Exception {
        String id = receive("k0", T0);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int writer = w;
                done.add(pool.submit(() -> IntStream.range(0, 15).forEach(i -> {
                    // every message twice, as a redelivery racing its first delivery would
                    Message m = inbound("w" + writer + "-" + i, T0.plusSeconds(i), "hi");
                    store.appendMessage(id, m);
                    store.appendMessage(id, m);
                })));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        List<String> keys = keys(id);
        assertThat(keys).hasSize(61).doesNotHaveDuplicates();
        List<Document> pages = pages(id);
        assertThat(pages).allSatisfy(p -> assertThat(keysOn(p)).hasSizeBetween(1, 3));
        assertThat(pages.subList(0, pages.size() - 1)).allSatisfy(p -> assertThat(p.getBoolean(InboxStore.SEALED)).isTrue());
    }

    @Test
    void theSameRecordTwiceInOneBatchWithAPageFillingBetweenIsStoredOnce() {
        for (int i = 1; i <= 5; i++) {
            receive("k" + i, T0.plusSeconds(i));
        }
        String id = store.conversationByThreadKey("telegram:default:chat:42").orElseThrow();
        // k6 fills page 1, k7 opens page 2, then an adapter's retry of k6 in the same batch
        inOneBatch("k6", "k7", "k6");
        assertThat(keys(id)).containsExactly("k1", "k2", "k3", "k4", "k5", "k6", "k7");
    }

    @Test
    void theSameRecordTwiceInOneBatchIsStoredOnceAlsoWhenItsFirstCopyOpenedAPage() {
        for (int i = 1; i <= 3; i++) {
            receive("k" + i, T0.plusSeconds(i));
        }
        String id = store.conversationByThreadKey("telegram:default:chat:42").orElseThrow();
        // page 0 is full, so k4 opens page 1 at once; k7 opens page 2; then an adapter's retry of k4
        inOneBatch("k4", "k5", "k6", "k7", "k4");
        assertThat(keys(id)).containsExactly("k1", "k2", "k3", "k4", "k5", "k6", "k7");
    }

    @Test
    void aKeyAnotherWriterStoredFirstOnAnEarlierPageIsNotStoredAgainByTheBatch() {
        String id = receive("k1", T0);
        receive("k2", T0.plusSeconds(1));
        try (InboxStore.Batch batch = store.openBatch()) {
            // the batch learns that key k3 is free ...
            store.prefetch(List.of("k3"), List.of(ANNA.key()), List.of());
            // ... then another router (a rebalance overlap) stores k3 and k4, and k4 opens page 1
            InboxStore other = new InboxStore(mongo, 3, 1L << 20);
            for (String key : List.of("k3", "k4")) {
                other.claimMessageKey(key, id, null);
                other.appendMessage(id, inbound(key, T0.plusSeconds(3), "text of " + key));
            }
            other.claimMessageKey("k5", id, null);
            other.appendMessage(id, inbound("k5", T0.plusSeconds(5), "text of k5"));
            // the batch claims k3 as its own and finds page 1, where k3 is not
            receive("k3", T0.plusSeconds(3));
            batch.flush();
        }
        assertThat(keys(id)).containsExactly("k1", "k2", "k3", "k4", "k5");
    }

    @Test
    void aMergedReplyWhoseFailureWasAGuessStillTakesTheChannelsReportInAPagedTarget() {
        String target = chatOf(4);
        Conversation source = emailBeside(target);
        store.appendMessage(source.id(), reply("r1", T0.plusSeconds(20)));
        assertThat(store.markNotQueued(source.id(), "r1", "the command may not have reached the broker")).isTrue();

        store.mergeConversation(source.id(), target, "ann", T0.plusSeconds(30));
        assertThat(store.message(target, "r1").orElseThrow().deliveryStatus()).isEqualTo("failed");

        // the command had reached the broker after all: the channel's report replaces the guess in both
        assertThat(store.updateDelivery(source.id(), "r1", "delivered", "ext-2", null)).isTrue();
        assertThat(store.message(target, "r1").orElseThrow().deliveryStatus()).isEqualTo("delivered");
        assertThat(store.message(source.id(), "r1").orElseThrow().deliveryStatus()).isEqualTo("delivered");
    }

    @Test
    void aMergeIntoASealedSinglePageOpensTheNextPageInsteadOfGrowingIt() {
        store = new InboxStore(mongo, 3, 1L << 20);
        String target = receive("k1", T0);
        // a page sealed (by its size, say) whose successor was not opened yet
        mongo.updateFirst(Query.query(where("_id").is(target)), new Update().set(InboxStore.SEALED, true).inc(InboxStore.VERSION, 1L),
                Transcript.COLLECTION);
        Conversation source = emailBeside(target);
        Message m = inbound("em1", T0.plusSeconds(11), "mail");
        store.claimMessageKey(m.key(), source.id(), null);
        store.appendMessage(source.id(), m);

        store.mergeConversation(source.id(), target, "ann", T0.plusSeconds(30));
        assertThat(pages(target)).extracting(TranscriptPagesTest::keysOn)
                .containsExactly(List.of("k1"), List.of("em1", "merge:" + source.id()));
    }

    @Test
    void afterAMergeOfOlderMessagesTheLatestCustomerMessageIsStillTheTargetsNewest() {
        String target = chatOf(4);
        Conversation source = emailBeside(target);
        Message older = inbound("em1", T0.minusSeconds(60), "a mail from before the chat");
        store.claimMessageKey(older.key(), source.id(), null);
        store.appendMessage(source.id(), older);

        store.mergeConversation(source.id(), target, "ann", T0.plusSeconds(30));
        // the paged target got the older mail appended after its newer messages
        assertThat(keys(target)).containsSubsequence("k4", "em1");
        Transcript t = store.transcript(target).orElseThrow();
        // what a reply's In-Reply-To and the canned suggestion take: the newest by time
        assertThat(t.latest(m -> Message.INBOUND.equals(m.direction())).orElseThrow().key()).isEqualTo("k4");
        assertThat(t.messages().stream().sorted(Transcript.IN_TIME_ORDER).map(Message::key).toList())
                .startsWith("em1", "k1", "k2", "k3", "k4");
    }

    @Test
    void aMergeIntoAPagedTranscriptAppendsTheMissingMessagesOnceAndReportsFollowThem() {
        String target = chatOf(4);
        Conversation source = emailBeside(target);
        for (int i = 1; i <= 4; i++) {
            Message m = inbound("em" + i, T0.plusSeconds(10 + i), "mail " + i);
            store.claimMessageKey(m.key(), source.id(), null);
            store.appendMessage(source.id(), m);
        }
        store.appendMessage(source.id(), reply("r1", T0.plusSeconds(20)));
        assertThat(pages(source.id())).hasSize(2); // the reply is on the source's second page

        InboxStore.ConversationMerge merge = store.mergeConversation(source.id(), target, "ann", T0.plusSeconds(30));
        assertThat(merge.messagesCopied()).isEqualTo(5);
        assertThat(keys(target)).containsExactly("k1", "k2", "k3", "k4", "em1", "em2", "em3", "em4", "out:r1",
                "merge:" + source.id());
        assertThat(pages(target)).allSatisfy(p -> assertThat(keysOn(p)).hasSizeLessThanOrEqualTo(3));

        // run again (an interrupted merge completed by a retry): nothing twice
        assertThat(store.mergeConversation(source.id(), target, "ann", T0.plusSeconds(40)).messagesCopied()).isZero();
        assertThat(keys(target)).hasSize(10).doesNotHaveDuplicates();

        // a late report for the reply, addressed to the source, reaches the copy in the target too
        assertThat(store.updateDelivery(source.id(), "r1", "sent", "ext-9", null)).isTrue();
        assertThat(store.message(target, "r1").orElseThrow().deliveryStatus()).isEqualTo("sent");
        assertThat(store.message(source.id(), "r1").orElseThrow().deliveryStatus()).isEqualTo("sent");
    }
}
