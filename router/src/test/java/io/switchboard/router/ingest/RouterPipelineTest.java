package io.switchboard.router.ingest;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.DeliveryReport;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import io.switchboard.router.RouterApplication;
import io.switchboard.router.support.Await;
import io.switchboard.router.support.Fixtures;
import io.switchboard.router.support.InMemoryStore;
import io.switchboard.store.Conversation;
import io.switchboard.store.InboxStore;
import io.switchboard.store.Message;
import io.switchboard.store.Transcript;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.data.mongodb.core.query.Criteria.where;

/** The router on a real (embedded KRaft) broker and the in-process store: raw events in, inbox model out. */
@SpringBootTest(classes = RouterApplication.class, properties = {
        "spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
        "switchboard.router.instance-id=router-test",
        "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN", "logging.level.de.bwaldvogel=ERROR"})
@EmbeddedKafka(partitions = 1, topics = "inbox.deadletter.router.v1")
@org.springframework.context.annotation.Import(RouterPipelineTest.Faults.class)
class RouterPipelineTest {

    @DynamicPropertySource
    static void store(DynamicPropertyRegistry registry) {
        registry.add("spring.mongodb.uri", InMemoryStore::uri);
    }

    @Autowired
    KafkaTemplate<String, byte[]> kafka;
    @Autowired
    MongoTemplate mongo;
    @Autowired
    InboxStore store;
    @Autowired
    EmbeddedKafkaBroker broker;

    private static final Duration WAIT = Duration.ofSeconds(20);

    private void publish(InboundEnvelope e) throws Exception {
        kafka.send(Topics.inbound(e.channel()), e.affinityKey(), ContractJson.toBytes(e)).get();
    }

    private static InboundEnvelope telegram(String json, String eventId) {
        return InboundEnvelope.ofText(eventId, Channel.TELEGRAM, "default", Map.of(), Instant.now(),
                "telegram:default:chat:x", "application/json", json);
    }

    private static String uniqueTextUpdate(long chatId, long messageId, String text) {
        return Fixtures.text("telegram/zammad_private_text.json")
                .replace("\"id\":111111", "\"id\":" + chatId)
                .replace("\"message_id\":5", "\"message_id\":" + messageId)
                .replace("Hello, I need your Help", text);
    }

    private Conversation conversationOfChat(long chatId) {
        return Await.until(() -> store.conversationByThreadKey("telegram:default:chat:" + chatId).flatMap(store::find)
                        .filter(c -> c.lastMessageAt() != null).orElse(null),
                c -> c != null, WAIT);
    }

    private List<Message> messages(String conversationId) {
        return store.transcript(conversationId).map(Transcript::messages).orElse(List.of());
    }

    @Test
    void aTelegramUpdateBecomesContactConversationAndMessage_andRepeatsAddNothing() throws Exception {
        double countedBefore = count("switchboard.router.messages", "channel", "telegram");
        String json = uniqueTextUpdate(5001, 1, "my VM does not boot");
        publish(telegram(json, "telegram:default:update:1"));
        publish(telegram(json, "telegram:default:update:1"));        // Telegram retried the webhook
        publish(telegram(json, "telegram:default:update:1-replay")); // the same update replayed later

        Conversation c = conversationOfChat(5001);
        // a later, different message proves the three copies before it were all processed
        publish(telegram(uniqueTextUpdate(5001, 2, "still broken"), "telegram:default:update:2"));
        Await.until(() -> messages(c.id()).size(), n -> n >= 2, WAIT);

        List<Message> messages = messages(c.id());
        assertThat(messages).extracting(Message::text).containsExactly("my VM does not boot", "still broken");
        assertThat(messages.get(0).direction()).isEqualTo("inbound");
        assertThat(messages.get(0).author()).isEqualTo("Test Firstname Test Lastname");
        assertThat(messages.get(0).sentAt()).isEqualTo(Instant.ofEpochSecond(1441645532));
        Conversation after = store.find(c.id()).orElseThrow();
        assertThat(after.channel()).isEqualTo("telegram");
        assertThat(after.status()).isEqualTo("open");
        assertThat(after.replyAddress()).containsEntry("chat_id", "5001");
        assertThat(after.preview()).isEqualTo("still broken");
        assertThat(store.contact(after.contactId())).get().satisfies(contact ->
                assertThat(contact.identities()).extracting(i -> i.key()).containsExactly("telegram:5001"));
        // counted once the batch is durable, so a little after the messages are readable; the repeats not at all
        assertThat(Await.until(() -> count("switchboard.router.messages", "channel", "telegram") - countedBefore,
                n -> n >= 2, WAIT)).isEqualTo(2);
    }

    @Test
    void poisonRecordsGoToTheDeadLetterTopicWithAReason_andTheConsumerMovesOn() throws Exception {
        try (Consumer<String, byte[]> dlt = new DefaultKafkaConsumerFactory<>(
                KafkaTestUtils.consumerProps(broker, "dlt-reader-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer()) {
            broker.consumeFromAnEmbeddedTopic(dlt, Topics.ROUTER_DEAD_LETTER);
            kafka.send(Topics.inbound(Channel.TELEGRAM), "k", "this is not an envelope".getBytes(StandardCharsets.UTF_8)).get();
            publish(telegram("{\"ok\":true,\"result\":[]}", "telegram:default:bad")); // an envelope, but no Update in it
            publish(telegram(uniqueTextUpdate(5002, 1, "after the poison"), "telegram:default:update:ok"));

            conversationOfChat(5002); // the good record behind the bad ones was processed

            List<ConsumerRecord<String, byte[]>> dead = new java.util.ArrayList<>();
            Await.until(() -> {
                KafkaTestUtils.getRecords(dlt, Duration.ofMillis(500)).forEach(dead::add);
                return dead.size();
            }, n -> n >= 2, WAIT);
            assertThat(dead).extracting(r -> new String(r.headers().lastHeader(Topics.HEADER_DLT_REASON).value(), StandardCharsets.UTF_8))
                    .anySatisfy(reason -> assertThat(reason).contains("not a valid InboundEnvelope"))
                    .anySatisfy(reason -> assertThat(reason).contains("update_id"));
            assertThat(dead).allSatisfy(r -> assertThat(new String(r.headers().lastHeader(Topics.HEADER_DLT_ORIGINAL_TOPIC).value(),
                    StandardCharsets.UTF_8)).isEqualTo("inbox.inbound.telegram.v1"));
        }
    }

    @Test
    void anEditKeepsTheEarlierTextInHistory() throws Exception {
        publish(telegram(uniqueTextUpdate(5003, 10, "original text"), "telegram:default:update:e1"));
        Conversation c = conversationOfChat(5003);
        String edit = Fixtures.text("telegram/tgdocs_edited_message.json").replace("1111111", "5003").replace("1365", "10");
        publish(telegram(edit, "telegram:default:update:e2"));
        Message m = Await.until(() -> messages(c.id()).get(0), x -> x.editedAt() != null, WAIT);
        assertThat(m.text()).isEqualTo("Edited text");
        assertThat(m.history()).containsExactly("original text");
        assertThat(messages(c.id())).hasSize(1);
    }

    @Test
    void deliveryReportsMoveAReplyToSentOrFailed_andSentCountsAsTheFirstResponse() throws Exception {
        publish(telegram(uniqueTextUpdate(5004, 1, "hello?"), "telegram:default:update:d1"));
        Conversation c = conversationOfChat(5004);
        for (String id : List.of("reply-ok", "reply-bad")) {
            store.appendMessage(c.id(), new Message(id, "out:" + id, "outbound", "message", "telegram", null, Instant.now(),
                    "admin", "answer " + id, List.of(), "pending", null, null, null, null, false));
        }
        Instant sentAt = Instant.parse("2025-01-01T10:00:00Z");
        send(new DeliveryReport(1, "reply-ok", Channel.TELEGRAM, "default", c.id(), DeliveryReport.Status.SENT, "9001", null, 1, sentAt));
        send(new DeliveryReport(1, "reply-bad", Channel.TELEGRAM, "default", c.id(), DeliveryReport.Status.FAILED, null,
                "Forbidden: bot was blocked by the user", 1, sentAt, true));
        // a late duplicate "sent" must not undo "failed"
        send(new DeliveryReport(1, "reply-bad", Channel.TELEGRAM, "default", c.id(), DeliveryReport.Status.SENT, "9002", null, 1, sentAt));

        Await.until(() -> messages(c.id()), ms -> ms.stream().noneMatch(m -> "pending".equals(m.deliveryStatus())), WAIT);
        Await.until(() -> store.messageKey("telegram:default:5004:9002"), k -> true, WAIT);
        Message ok = store.message(c.id(), "reply-ok").orElseThrow();
        assertThat(ok.deliveryStatus()).isEqualTo("sent");
        assertThat(ok.externalId()).isEqualTo("9001");
        Message bad = store.message(c.id(), "reply-bad").orElseThrow();
        assertThat(bad.deliveryStatus()).isEqualTo("failed");
        assertThat(bad.failureReason()).isEqualTo("Forbidden: bot was blocked by the user");
        assertThat(store.find(c.id()).orElseThrow().unreachable()).as("a blocked bot marks the conversation").isTrue();
        assertThat(store.contact(c.contactId()).orElseThrow().unreachable()).isTrue();
        assertThat(store.find(c.id()).orElseThrow().firstResponseAt()).isEqualTo(sentAt);
        assertThat(store.messageKey("telegram:default:5004:9001")).get()
                .satisfies(k -> assertThat(k.outboundMessageId()).isEqualTo("reply-ok"));
    }

    @Test
    void aBlockedBotMarksTheContactAndItsConversationsUnreachable() throws Exception {
        publish(telegram(uniqueTextUpdate(111111, 1, "hi before blocking"), "telegram:default:update:b1"));
        Conversation c = conversationOfChat(111111);
        publish(telegram(Fixtures.text("telegram/zammad_private_my_chat_member_kicked.json"), "telegram:default:update:b2"));
        Await.until(() -> store.find(c.id()).orElseThrow().unreachable(), x -> x, WAIT);
        assertThat(mongo.count(Query.query(where("_id").is(c.contactId()).and("unreachable").is(true)), "contacts")).isEqualTo(1);
    }

    /** v1 records written by release 0.1.0 (frozen samples) are read and processed by the current router. */
    @Test
    void recordsOfThePreviousContractReleaseAreStillRead() throws Exception {
        byte[] envelope = sample("0.1.0-inbound-envelope-telegram.json");
        kafka.send(Topics.inbound(Channel.TELEGRAM), "telegram:default:chat:880001", envelope).get();
        Conversation c = conversationOfChat(880001);
        assertThat(messages(c.id())).extracting(Message::text).containsExactly("compat: a v1 envelope");

        store.appendMessage(c.id(), new Message("compat-reply-1", "out:compat-reply-1", "outbound", "message", "telegram", null,
                Instant.parse("2025-03-12T15:49:00Z"), "admin", "compat: a v1 reply", List.of(), "pending", null, null, null, null, false));
        byte[] report = new String(sample("0.1.0-delivery-report-sent.json"), StandardCharsets.UTF_8)
                .replace("REPLACED-BY-TEST", c.id()).getBytes(StandardCharsets.UTF_8);
        kafka.send(Topics.DELIVERY_REPORTS, c.id(), report).get();
        Await.until(() -> store.message(c.id(), "compat-reply-1").orElseThrow().deliveryStatus(), "sent"::equals, WAIT);

        assertThat(ContractJson.fromBytes(sample("0.1.0-outbound-command.json"), io.switchboard.contract.OutboundCommand.class)
                .recipient()).containsEntry("chat_id", "880001");
        assertThat(ContractJson.fromBytes(sample("0.1.0-conversation-event.json"), io.switchboard.contract.ConversationEvent.class)
                .type()).isEqualTo("message.added");
    }

    static byte[] sample(String name) throws java.io.IOException {
        try (java.io.InputStream in = RouterPipelineTest.class.getResourceAsStream("/contract-samples/v1/" + name)) {
            return in.readAllBytes();
        }
    }

    /**
     * A failure after a batch's writes and before its offsets are committed (what a crash of the
     * router mid-batch leaves behind): the batch is delivered again and every message exists once.
     */
    @Test
    void aFailureAfterTheWritesButBeforeTheOffsetCommitRedeliversWithoutDuplicates_andItsEventsStillGoOut() throws Exception {
        double countedBefore = count("switchboard.router.messages", "channel", "telegram");
        try (Consumer<String, byte[]> events = conversationEvents()) {
            durability.failNext(2, "router-inbound");
            for (int i = 1; i <= 10; i++) {
                kafka.send(Topics.inbound(Channel.TELEGRAM), "telegram:default:chat:5005",
                        ContractJson.toBytes(telegram(uniqueTextUpdate(5005, i, "burst " + i), "telegram:default:update:burst" + i)));
            }
            kafka.flush();
            Conversation c = conversationOfChat(5005);
            Await.until(durability::failures, n -> n >= 2, WAIT);
            publish(telegram(uniqueTextUpdate(5005, 11, "after the crash"), "telegram:default:update:burst11"));
            Await.until(() -> messages(c.id()).size(), n -> n >= 11, WAIT);
            List<Message> stored = messages(c.id());
            assertThat(stored).extracting(Message::text).doesNotHaveDuplicates().hasSize(11);

            // the attempts that failed published nothing and the retry found the writes stored: it still tells
            // the SLA tracker and the UI about every message, or a conversation could keep no SLA clock
            java.util.Set<String> announced = new java.util.HashSet<>();
            Await.until(() -> {
                nextEventsOf(events, c.id()).stream().filter(e -> e.type().equals("message.added"))
                        .forEach(e -> announced.add(e.messageId()));
                return announced.size();
            }, n -> n >= 11, WAIT);
            assertThat(announced).containsExactlyInAnyOrderElementsOf(stored.stream().map(Message::messageId).toList());
        }
        // and counts each message once: the retry finds the failed attempts' writes stored, as repeats
        assertThat(Await.until(() -> count("switchboard.router.messages", "channel", "telegram") - countedBefore,
                n -> n >= 11, WAIT)).isEqualTo(11);
    }

    /**
     * A chat longer than a transcript page (ADR 0151): the messages fill three pages, a burst that rolls a
     * page over is written and then redelivered after a failed commit, and Telegram's retries of earlier
     * messages come in between. Every message is stored once, in order, and a delivery report finds a
     * reply on the first page.
     */
    @Test
    void aChatLongerThanATranscriptPageIsStoredOnceInOrderAcrossRedeliveries() throws Exception {
        long chat = 5020;
        String reply = "long-chat-reply";
        Conversation c = chatWithPendingReply(chat, "long", reply);
        List<String> expected = new java.util.ArrayList<>(messages(c.id()).stream().map(Message::text).toList());
        for (int i = 2; i <= 28; i++) {
            publish(telegram(uniqueTextUpdate(chat, 100 + i, "line " + i), "telegram:default:update:long" + i));
            expected.add("line " + i);
        }
        Await.until(() -> messages(c.id()).size(), n -> n >= expected.size(), WAIT);
        // a burst across the first page's end, whose first attempts fail after the writes
        durability.failNext(2, "router-inbound");
        for (int i = 29; i <= 70; i++) {
            kafka.send(Topics.inbound(Channel.TELEGRAM), "telegram:default:chat:" + chat,
                    ContractJson.toBytes(telegram(uniqueTextUpdate(chat, 100 + i, "line " + i), "telegram:default:update:long" + i)));
            expected.add("line " + i);
            if (i % 10 == 0) { // Telegram retried an earlier webhook
                kafka.send(Topics.inbound(Channel.TELEGRAM), "telegram:default:chat:" + chat,
                        ContractJson.toBytes(telegram(uniqueTextUpdate(chat, 100 + i - 25, "line " + (i - 25)),
                                "telegram:default:update:long" + (i - 25))));
            }
        }
        kafka.flush();
        Await.until(durability::failures, n -> n >= 2, WAIT);
        Await.until(() -> messages(c.id()).size(), n -> n >= expected.size(), WAIT);
        assertThat(messages(c.id())).extracting(Message::text).containsExactlyElementsOf(expected);
        assertThat(mongo.findById(InboxStore.pageId(c.id(), 2), org.bson.Document.class, Transcript.COLLECTION)).isNotNull();

        send(new DeliveryReport(1, reply, Channel.TELEGRAM, "default", c.id(), DeliveryReport.Status.SENT, "9301", null, 1,
                Instant.now()));
        Await.until(() -> store.message(c.id(), reply).map(Message::deliveryStatus).orElse(null), "sent"::equals, WAIT);
        assertThat(messages(c.id())).hasSize(expected.size());
    }

    /**
     * What channel-telegram's poller publishes again after it died between the Kafka ack and storing
     * its offset at Telegram (TelegramAdapterTest#aPollerKilledBeforeItStoresTheOffset...): the same
     * batch, same event ids, keys and payloads, read a second time at a later instant. One copy stays.
     */
    @Test
    void aTelegramBatchReReadAfterAPollerCrashIsStoredOnce() throws Exception {
        Instant firstRead = Instant.now();
        for (Instant readAt : List.of(firstRead, firstRead.plusSeconds(40))) {
            for (int id = 1; id <= 2; id++) {
                String update = uniqueTextUpdate(5006, id, "polled " + id).replace("\"update_id\":5", "\"update_id\":" + (96000 + id));
                publish(InboundEnvelope.ofText("telegram:default:update:" + (96000 + id), Channel.TELEGRAM, "default",
                        Map.of("group_policy", "mentions", "update_id", String.valueOf(96000 + id), "chat_id", "5006",
                                "message_id", String.valueOf(id)), readAt, "telegram:default:chat:5006", "application/json", update));
            }
        }
        Conversation c = conversationOfChat(5006);
        publish(telegram(uniqueTextUpdate(5006, 3, "after the re-read"), "telegram:default:update:96003"));
        Await.until(() -> messages(c.id()).size(), n -> n >= 3, WAIT);
        assertThat(messages(c.id())).extracting(Message::text).containsExactly("polled 1", "polled 2", "after the re-read");
    }

    /**
     * channel-telegram's file fetcher is at least once (it commits after publishing, so a crash
     * publishes a file again): the same file-content event twice is one stored file, under the ref
     * its message lists (the largest photo size, by the rule both sides share).
     */
    @Test
    void aTelegramFileContentEventDeliveredTwiceIsStoredOnce_underTheRefItsMessageLists() throws Exception {
        String update = "{\"update_id\":97001,\"message\":{\"message_id\":1,\"date\":1741794405,"
                + "\"chat\":{\"id\":5010,\"type\":\"private\"},\"from\":{\"id\":5010,\"first_name\":\"Pic\"},\"photo\":["
                + "{\"file_id\":\"p5010-small\",\"file_unique_id\":\"a\",\"width\":90,\"height\":90,\"file_size\":1000},"
                + "{\"file_id\":\"p5010-big\",\"file_unique_id\":\"b\",\"width\":1280,\"height\":960,\"file_size\":6},"
                + "{\"file_id\":\"p5010-heavy\",\"file_unique_id\":\"c\",\"width\":320,\"height\":240,\"file_size\":150000}]}}";
        publish(InboundEnvelope.ofText("telegram:default:update:97001", Channel.TELEGRAM, "default", Map.of(), Instant.now(),
                "telegram:default:chat:5010", "application/json", update));
        byte[] jpeg = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 1, 2, 3};
        InboundEnvelope content = InboundEnvelope.ofBytes("telegram:default:file:p5010-big", Channel.TELEGRAM, "default",
                Map.of("file_id", "p5010-big", "name", "photo.jpg", "mime_type", "image/jpeg", "file_size", "6"), Instant.now(),
                "telegram:default:chat:5010", io.switchboard.contract.TelegramFiles.CONTENT_TYPE, jpeg);
        publish(content);
        publish(content);
        Conversation c = conversationOfChat(5010);
        publish(telegram(uniqueTextUpdate(5010, 2, "after the file"), "telegram:default:update:97002"));
        Await.until(() -> messages(c.id()).size(), n -> n >= 2, WAIT);

        assertThat(messages(c.id()).get(0).attachments()).singleElement().satisfies(a -> {
            assertThat(a.ref()).isEqualTo("p5010-big");
            assertThat(a.kind()).isEqualTo("photo");
        });
        assertThat(store.file("p5010-big")).get().satisfies(f -> {
            assertThat(f.data()).isEqualTo(jpeg);
            assertThat(f.name()).isEqualTo("photo.jpg");
            assertThat(f.contentType()).isEqualTo("image/jpeg");
        });
        assertThat(mongo.count(Query.query(where("_id").regex("^p5010-")), InboxStore.FILES)).isEqualTo(1);
    }

    @Autowired
    FlakyDurability durability;

    /** Fails the next N store commits, as a crash between the writes and the offset commit would. */
    @org.springframework.boot.test.context.TestConfiguration
    static class Faults {
        @org.springframework.context.annotation.Bean
        FlakyDurability flakyDurability() {
            return new FlakyDurability();
        }
    }

    static class FlakyDurability implements io.switchboard.store.StoreDurability {
        private final java.util.concurrent.atomic.AtomicInteger pending = new java.util.concurrent.atomic.AtomicInteger();
        private final java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();

        private volatile String onThreadsOf = "";

        void failNext(int n) {
            failNext(n, "");
        }

        /** Only commits made on threads whose name starts with this (a listener container's id). */
        void failNext(int n, String threadPrefix) {
            onThreadsOf = threadPrefix;
            pending.set(n);
        }

        int failures() {
            return failed.get();
        }

        @Override
        public void commit() {
            if (Thread.currentThread().getName().startsWith(onThreadsOf) && pending.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                failed.incrementAndGet();
                throw new IllegalStateException("simulated crash after the writes, before the offset commit");
            }
        }
    }

    /** A reader of the domain events topic from its earliest offset (the router created it). */
    private Consumer<String, byte[]> conversationEvents() {
        Consumer<String, byte[]> events = new DefaultKafkaConsumerFactory<>(
                KafkaTestUtils.consumerProps(broker, "events-reader-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer();
        events.subscribe(List.of(Topics.CONVERSATION_EVENTS));
        return events;
    }

    /** The events of one conversation in the next poll; keyed by conversation, so its events stay in order. */
    private static List<io.switchboard.contract.ConversationEvent> nextEventsOf(Consumer<String, byte[]> events, String conversationId) {
        List<io.switchboard.contract.ConversationEvent> of = new java.util.ArrayList<>();
        KafkaTestUtils.getRecords(events, Duration.ofMillis(300)).forEach(r -> {
            io.switchboard.contract.ConversationEvent e = ContractJson.fromBytes(r.value(), io.switchboard.contract.ConversationEvent.class);
            if (conversationId.equals(e.conversationId())) {
                assertThat(r.key()).as("keyed by conversation").isEqualTo(conversationId);
                of.add(e);
            }
        });
        return of;
    }

    @Autowired
    io.micrometer.core.instrument.MeterRegistry meters;

    private double count(String name, String tag, String value) {
        return meters.find(name).tag(tag, value).counters().stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }

    /** A customer's chat with an agent's reply stored as pending, as the API leaves it before the adapter reports. */
    private Conversation chatWithPendingReply(long chatId, String prefix, String replyId) throws Exception {
        publish(telegram(uniqueTextUpdate(chatId, 1, prefix + ": first"), "telegram:default:update:" + prefix + "1"));
        Conversation c = conversationOfChat(chatId);
        store.appendMessage(c.id(), new Message(replyId, "out:" + replyId, "outbound", "message", "telegram", null,
                Instant.now(), "admin", "on it", List.of(), "pending", null, null, null, null, false));
        return c;
    }

    /** Domain events of one conversation's life: opened, message added, delivery updated, reopened by the customer. */
    @Test
    void theConversationsLifeIsPublishedAsDomainEvents() throws Exception {
        try (Consumer<String, byte[]> events = conversationEvents()) {
            Conversation c = chatWithPendingReply(5101, "ev", "ev-reply");
            send(new DeliveryReport(1, "ev-reply", Channel.TELEGRAM, "default", c.id(), DeliveryReport.Status.SENT, "9101",
                    null, 1, Instant.now()));
            Await.until(() -> store.message(c.id(), "ev-reply").map(Message::deliveryStatus).orElse(""), "sent"::equals, WAIT);
            // an agent resolved it; the customer writes again within the reopen window
            mongo.updateFirst(Query.query(where("_id").is(c.id())), new org.springframework.data.mongodb.core.query.Update()
                    .set("status", Conversation.RESOLVED).set("resolvedAt", Instant.now()).inc("_v", 1L), Conversation.COLLECTION);
            String again = uniqueTextUpdate(5101, 2, "events: it broke again");
            publish(telegram(again.replace("1441645532", Long.toString(Instant.now().getEpochSecond())), "telegram:default:update:ev2"));

            List<io.switchboard.contract.ConversationEvent> seen = new java.util.ArrayList<>();
            Await.until(() -> {
                seen.addAll(nextEventsOf(events, c.id()));
                return seen.stream().filter(e -> io.switchboard.contract.ConversationEvent.MESSAGE_ADDED.equals(e.type())).count();
            }, n -> n >= 2, WAIT);
            assertThat(seen).extracting(io.switchboard.contract.ConversationEvent::type).containsSubsequence(
                    "conversation.opened", "message.added", "delivery.updated", "conversation.updated", "message.added");
            assertThat(seen).filteredOn(e -> e.type().equals("delivery.updated")).singleElement()
                    .satisfies(e -> assertThat(e.data()).containsEntry("deliveryStatus", "sent"));
            assertThat(seen).filteredOn(e -> e.type().equals("conversation.updated")).singleElement()
                    .satisfies(e -> assertThat(e.data()).containsEntry("status", "open"));
            assertThat(store.find(c.id()).orElseThrow().status()).isEqualTo(Conversation.OPEN);
        }
    }

    /** The delivery side of the same failure: the report was applied, its event had not gone out. */
    @Test
    void aDeliveryReportRedeliveredAfterAFailedCommitStillAnnouncesTheDelivery() throws Exception {
        try (Consumer<String, byte[]> events = conversationEvents()) {
            Conversation c = chatWithPendingReply(5103, "dv", "dv-reply");
            durability.failNext(1, "router-delivery");
            send(new DeliveryReport(1, "dv-reply", Channel.TELEGRAM, "default", c.id(), DeliveryReport.Status.SENT, "9103",
                    null, 1, Instant.now()));
            Await.until(durability::failures, n -> n >= 1, WAIT);
            List<io.switchboard.contract.ConversationEvent> delivered = new java.util.ArrayList<>();
            Await.until(() -> {
                nextEventsOf(events, c.id()).stream().filter(e -> e.type().equals("delivery.updated")).forEach(delivered::add);
                return delivered.size();
            }, n -> n >= 1, WAIT);
            assertThat(delivered).singleElement().satisfies(e -> {
                assertThat(e.messageId()).isEqualTo("dv-reply");
                assertThat(e.data()).containsEntry("deliveryStatus", "sent");
            });
            assertThat(store.message(c.id(), "dv-reply").map(Message::deliveryStatus)).contains("sent");
        }
    }

    @Test
    void deadLettersAndIgnoredEventsAreCounted() throws Exception {
        double deadBefore = count("switchboard.router.deadletters", "topic", "inbox.inbound.telegram.v1");
        double ignoredBefore = meters.find("switchboard.router.ignored").tag("channel", "telegram").counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
        kafka.send(Topics.inbound(Channel.TELEGRAM), "k", "not an envelope either".getBytes(StandardCharsets.UTF_8)).get();
        publish(telegram("{\"update_id\":77,\"callback_query\":{\"id\":\"1\",\"from\":{\"id\":5102},\"data\":\"x\"}}",
                "telegram:default:update:cb"));
        publish(telegram(uniqueTextUpdate(5102, 1, "counted behind them"), "telegram:default:update:cnt"));
        conversationOfChat(5102);
        Await.until(() -> count("switchboard.router.deadletters", "topic", "inbox.inbound.telegram.v1"), n -> n >= deadBefore + 1, WAIT);
        assertThat(meters.find("switchboard.router.ignored").tag("channel", "telegram")
                .tag("reason", "callback query: inline buttons are not used by the inbox").counter())
                .isNotNull().satisfies(counter -> assertThat(counter.count()).isGreaterThanOrEqualTo(1));
        assertThat(meters.find("switchboard.router.ignored").tag("channel", "telegram").counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum()).isEqualTo(ignoredBefore + 1);
    }

    private void send(DeliveryReport r) throws Exception {
        kafka.send(Topics.DELIVERY_REPORTS, r.conversationId(), ContractJson.toBytes(r)).get();
    }
}
