package io.switchboard.store;

import org.bson.Document;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.data.mongodb.core.MongoTemplate;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Detection of the server's features and the fallbacks on the embedded store (mongo-java-server,
 * what tests and the standalone mode run on): no {@code $text}, no TTL expiry. The real-MongoDB
 * path (text index, TTL indexes) runs in standalone's DistributedPipelineIT where Docker exists.
 */
class StoreFeaturesTest {

    @RegisterExtension
    static final EmbeddedMongo MONGO = new EmbeddedMongo();
    MongoTemplate mongo;
    static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    @BeforeEach
    void fresh() {
        mongo = MONGO.database("features-test-");
    }

    @Test
    void theEmbeddedServerIsRecognisedAsNotMongoDB() {
        StoreFeatures features = StoreFeatures.detect(mongo, true);
        assertThat(features.realMongo()).isFalse();
        assertThat(features.textSearch()).isFalse();
        assertThat(features.ttlIndexes()).isFalse();
        assertThat(features.version()).isNotBlank(); // it answered buildInfo, without a gitVersion
    }

    @Test
    void featuresCanBeTurnedOffWhateverTheServer() {
        assertThat(StoreFeatures.detect(mongo, false)).isSameAs(StoreFeatures.EMBEDDED);
    }

    @Test
    void aServerThatCannotRunTextQueriesFallsBackToSubstringSearch() {
        // claims to be MongoDB, but the $text probe fails (as on any server without text search)
        StoreFeatures claimed = new StoreFeatures(true, "8.0.0");
        assertThat(claimed.textSearch()).isTrue();
        StoreIndexes indexes = new StoreIndexes(mongo, provider(claimed), provider(null));
        indexes.ensureTextIndex();
        assertThat(claimed.textSearch()).isFalse();
    }

    @Test
    void theQueuesDueOrderHasAnIndex_andTheEmbeddedStoreAnswersThatOrderWithIt() {
        new StoreIndexes(mongo, provider(StoreFeatures.EMBEDDED), provider(null)).ensure();
        assertThat(mongo.indexOps(Conversation.COLLECTION).getIndexInfo()).anySatisfy(index -> {
            assertThat(index.getName()).isEqualTo(StoreIndexes.QUEUE_DUE_INDEX);
            assertThat(index.getIndexFields()).extracting(org.springframework.data.mongodb.core.index.IndexField::getKey)
                    .containsExactly("sla.nextDueAt", "_id");
        });
        for (String[] c : new String[][]{{"b", "2026-06-01T13:00:00Z"}, {"a", "2026-06-01T13:00:00Z"}, {"c", "2026-06-01T12:30:00Z"},
                {"d", null}}) {
            Document d = new Document("_id", c[0]).append("status", "open");
            if (c[1] != null) {
                d.append("sla", new Document("nextDueAt", Date.from(Instant.parse(c[1]))));
            }
            mongo.insert(d, Conversation.COLLECTION);
        }
        // the queue's query for sort=due (ConversationController): running clocks only, earliest first, ties by id
        var due = org.springframework.data.mongodb.core.query.Query.query(
                org.springframework.data.mongodb.core.query.Criteria.where(StoreIndexes.QUEUE_DUE_FIELD).ne(null))
                .with(org.springframework.data.domain.Sort.by(org.springframework.data.domain.Sort.Order.asc(StoreIndexes.QUEUE_DUE_FIELD),
                        org.springframework.data.domain.Sort.Order.asc("_id")));
        assertThat(mongo.find(due, Document.class, Conversation.COLLECTION)).extracting(d -> d.getString("_id"))
                .containsExactly("c", "a", "b");
    }

    @Test
    void onTheEmbeddedStoreExpiredAuditEntriesAreDeletedByTheCleanup_andNothingElse() {
        StoreRetention retention = new StoreRetention(mongo, StoreFeatures.EMBEDDED,
                new StoreRetention.Periods(Duration.ofDays(30), null), CLOCK);
        assertThat(retention.needsCleanup()).isTrue();
        mongo.insert(new Document("_id", "old").append("at", Date.from(NOW.minus(Duration.ofDays(31)))), "audit");
        mongo.insert(new Document("_id", "recent").append("at", Date.from(NOW.minus(Duration.ofDays(29)))), "audit");
        // a finished replay: replays have no period here, so it stays
        mongo.insert(new Document("_id", "r1").append("finishedAt", Date.from(NOW.minus(Duration.ofDays(400)))), "replays");
        // idempotency keys never expire
        mongo.insert(new Document("_id", "telegram:default:1").append("at", Date.from(NOW.minus(Duration.ofDays(400)))),
                InboxStore.MESSAGE_KEYS);

        assertThat(retention.cleanUp()).isEqualTo(1);
        assertThat(mongo.findAll(Document.class, "audit")).extracting(d -> d.getString("_id")).containsExactly("recent");
        assertThat(mongo.count(new org.springframework.data.mongodb.core.query.Query(), "replays")).isEqualTo(1);
        assertThat(mongo.count(new org.springframework.data.mongodb.core.query.Query(), InboxStore.MESSAGE_KEYS)).isEqualTo(1);
    }

    @Test
    void withoutARetentionPeriodNothingExpires() {
        StoreRetention retention = new StoreRetention(mongo, StoreFeatures.EMBEDDED, new StoreRetention.Periods(null, null), CLOCK);
        assertThat(retention.needsCleanup()).isFalse();
        assertThat(retention.rules()).isEmpty();
        // a server with TTL indexes does the deleting itself: no cleanup job
        StoreRetention onMongo = new StoreRetention(mongo, new StoreFeatures(true, "8.0.0"),
                new StoreRetention.Periods(Duration.ofDays(30), Duration.ofDays(7)), CLOCK);
        assertThat(onMongo.needsCleanup()).isFalse();
        assertThat(onMongo.rules()).containsOnlyKeys("audit", "replays");
    }

    /** A provider of the given bean, or of nothing when {@code value} is null. */
    @SuppressWarnings("unchecked")
    static <T> ObjectProvider<T> provider(T value) {
        DefaultListableBeanFactory factory = new DefaultListableBeanFactory();
        if (value == null) {
            return (ObjectProvider<T>) factory.getBeanProvider(StoreRetention.class);
        }
        factory.registerSingleton("bean", value);
        return (ObjectProvider<T>) factory.getBeanProvider(value.getClass());
    }
}
