package io.switchboard.store;

import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.index.TextIndexDefinition;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.TextCriteria;
import org.springframework.stereotype.Component;

import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Secondary indexes for the queue's filters and order. Uniqueness, which correctness depends
 * on, comes from {@code _id} keys only (identity, thread and message keys), because the embedded
 * store honours unique {@code _id}s but ignores secondary indexes.
 *
 * <p>On real MongoDB ({@link StoreFeatures}) also: the conversations' text index behind the
 * queue's {@code q=} search ({@link #TEXT_FIELDS}), and the TTL indexes of {@link StoreRetention}.
 * On the embedded store the search scans by substring and an hourly job deletes what expired.
 */
@Component
class StoreIndexes implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(StoreIndexes.class);
    /** What the queue's search looks in, today's regex fields too ({@link InboxStore#SEARCH}: every customer message). */
    static final String[] TEXT_FIELDS = {"subject", "preview", InboxStore.SEARCH, "contactName", "login", "project"};
    /** Named by version: a collection has one text index, so a changed field list replaces the older one by name. */
    static final String TEXT_INDEX = "conversation_text_v2";
    static final java.util.List<String> OLD_TEXT_INDEXES = java.util.List.of("conversation_text");
    /** The field the queue's default order (and {@code sort=due}) sorts by, kept by the router's SLA tracker (docs/sla.md). */
    static final String QUEUE_DUE_FIELD = "sla.nextDueAt";
    static final String QUEUE_DUE_INDEX = "queue_due";

    private final MongoTemplate mongo;
    private final StoreFeatures features;
    private final StoreRetention retention;
    private volatile ScheduledExecutorService cleanup;

    StoreIndexes(MongoTemplate mongo, ObjectProvider<StoreFeatures> features, ObjectProvider<StoreRetention> retention) {
        this.mongo = mongo;
        this.features = features.getIfAvailable(() -> StoreFeatures.EMBEDDED);
        this.retention = retention.getIfAvailable();
    }

    @EventListener(ApplicationReadyEvent.class)
    void ensure() {
        var conversations = mongo.indexOps(Conversation.COLLECTION);
        conversations.createIndex(new Index().on("lastMessageAt", Sort.Direction.DESC).on("_id", Sort.Direction.DESC));
        conversations.createIndex(new Index().on("status", Sort.Direction.ASC).on("lastMessageAt", Sort.Direction.DESC));
        conversations.createIndex(new Index().on("contactId", Sort.Direction.ASC));
        conversations.createIndex(new Index().on("tags", Sort.Direction.ASC)); // the queue's tag filter (ADR 0141)
        // the queue's default order (the API's QueueOrder): earliest running SLA deadline, then id, as the cursor pages;
        // one index of this key under one name (real MongoDB refuses the same key twice under two names)
        conversations.createIndex(new Index().on(QUEUE_DUE_FIELD, Sort.Direction.ASC).on("_id", Sort.Direction.ASC)
                .named(QUEUE_DUE_INDEX));
        if (features.textSearch()) {
            ensureTextIndex();
        }
        if (retention != null) {
            retention.ensureIndexes();
            if (retention.needsCleanup()) {
                startCleanup();
            }
        }
    }

    /** Builds the text index and proves a {@code $text} query runs; otherwise the search stays a substring scan. */
    void ensureTextIndex() {
        try {
            TextIndexDefinition.TextIndexDefinitionBuilder text = new TextIndexDefinition.TextIndexDefinitionBuilder()
                    .named(TEXT_INDEX).withDefaultLanguage("none"); // no stemming or stop words: mixed-language inboxes
            for (String field : TEXT_FIELDS) {
                text.onField(field);
            }
            var ops = mongo.indexOps(Conversation.COLLECTION);
            ops.getIndexInfo().stream().map(org.springframework.data.mongodb.core.index.IndexInfo::getName)
                    .filter(OLD_TEXT_INDEXES::contains).forEach(ops::dropIndex);
            ops.createIndex(text.build());
            if (!textQueryFindsAPhrase()) {
                features.disableTextSearch("a $text query did not find its phrase");
            }
        } catch (RuntimeException e) {
            features.disableTextSearch(e.toString());
        }
    }

    /** A $text query on a scratch collection of this instance: one document, found by a phrase of it. */
    private boolean textQueryFindsAPhrase() {
        String probe = "storeTextProbe-" + UUID.randomUUID();
        try {
            mongo.indexOps(probe).createIndex(new TextIndexDefinition.TextIndexDefinitionBuilder().onField("subject")
                    .withDefaultLanguage("none").build());
            mongo.insert(new Document("_id", "probe").append("subject", "Switchboard text search probe"), probe);
            return mongo.exists(new Query(TextCriteria.forDefaultLanguage().matchingPhrase("text search")), probe);
        } finally {
            mongo.dropCollection(probe);
        }
    }

    private synchronized void startCleanup() {
        if (cleanup != null) {
            return;
        }
        cleanup = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "store-retention");
            t.setDaemon(true);
            return t;
        });
        cleanup.scheduleWithFixedDelay(() -> {
            try {
                retention.cleanUp();
            } catch (RuntimeException e) {
                log.warn("store: retention cleanup failed, will retry: {}", e.toString());
            }
        }, 1, 60, TimeUnit.MINUTES);
    }

    @Override
    public synchronized void destroy() {
        if (cleanup != null) {
            cleanup.shutdownNow();
            cleanup = null;
        }
    }
}
