package io.switchboard.router.sla.tracker;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.switchboard.router.support.InMemoryStore;
import io.switchboard.store.Contact;
import io.switchboard.store.Conversation;
import io.switchboard.store.StoreDurability;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * The tracker chooses policies from what is stored: the conversation's tags, topic and account, and the tags of
 * its contact, which live on the contact document. Real tracker on the in-process store, a stored configuration
 * as inbox-api writes it ({@code slaConfigs}), no broker (the tracker is called as its listener would).
 */
class SlaTrackerPoliciesTest {

    private static final Instant WROTE = Instant.parse("2026-03-09T10:00:00Z");
    private static final String CONFIG = """
            {"policies": [
              {"name": "vip-contacts", "conditions": {"contactTags": ["vip"]}, "targets": {"normal": {"firstResponse": "PT10M"}}},
              {"name": "escalated", "conditions": {"tags": ["escalated"]}, "targets": {"normal": {"firstResponse": "PT15M"}}},
              {"name": "billing", "conditions": {"topics": ["billing"]}, "targets": {"normal": {"firstResponse": "PT20M"}}},
              {"name": "partner", "conditions": {"accounts": ["partner"]}, "targets": {"normal": {"firstResponse": "PT25M"}}},
              {"name": "default", "targets": {"normal": {"firstResponse": "PT1H"}}}]}
            """;

    private MongoClient client;
    private MongoTemplate mongo;
    private SlaTracker tracker;

    @BeforeEach
    void wire() {
        String database = "sla-policies-" + UUID.randomUUID();
        client = MongoClients.create(InMemoryStore.uri().replace("/switchboard-test", "/" + database));
        mongo = new MongoTemplate(client, database);
        mongo.insert(new Document("_id", 1L).append("json", CONFIG).append("savedAt", Date.from(WROTE)), SlaDocuments.CONFIGS);
        SlaTrackerProperties props = new SlaTrackerProperties(Duration.ofHours(1), Duration.ofHours(2), Duration.ofDays(2), 0.8,
                Duration.ofMillis(200), Duration.ofSeconds(30));
        StaticListableBeanFactory beans = new StaticListableBeanFactory(Map.of("clock", Clock.fixed(WROTE, ZoneOffset.UTC)));
        tracker = new SlaTracker(mongo, new SlaConfigSource(mongo, props), props, beans.getBeanProvider(StoreDurability.class),
                beans.getBeanProvider(Clock.class));
    }

    @AfterEach
    void unwire() {
        client.close();
    }

    private String conversation(String account, List<String> tags, String topic, String contactId) {
        String id = "c-" + UUID.randomUUID();
        Date at = Date.from(WROTE);
        Document d = new Document("_id", id).append("channel", "telegram").append("account", account).append("status", "open")
                .append("priority", "normal").append("contactId", contactId).append("lastMessageAt", at)
                .append("firstCustomerMessageAt", at).append("awaitingSince", at).append("tags", tags);
        if (topic != null) {
            d.append("topic", topic);
        }
        mongo.insert(d, Conversation.COLLECTION);
        return id;
    }

    private String contact(List<String> tags) {
        String id = "k-" + UUID.randomUUID();
        mongo.insert(new Document("_id", id).append("displayName", "Customer").append("tags", tags), Contact.COLLECTION);
        return id;
    }

    private Document sla(String conversationId) {
        tracker.track(conversationId, WROTE);
        return mongo.findById(conversationId, Document.class, Conversation.COLLECTION).get("sla", Document.class);
    }

    private static Instant firstDue(Document sla) {
        return sla.get("firstResponse", Document.class).getDate("dueAt").toInstant();
    }

    @Test
    void eachConditionChoosesItsPolicy_fromTheConversationAndItsContact() {
        String plain = contact(List.of());
        String vip = contact(List.of("vip", "newsletter"));

        Document byContact = sla(conversation("default", List.of(), null, vip));
        assertThat(byContact.getString("policy")).isEqualTo("vip-contacts");
        assertThat(firstDue(byContact)).isEqualTo(WROTE.plus(Duration.ofMinutes(10)));
        Document byTag = sla(conversation("default", List.of("escalated"), null, plain));
        assertThat(byTag.getString("policy")).isEqualTo("escalated");
        assertThat(firstDue(byTag)).isEqualTo(WROTE.plus(Duration.ofMinutes(15)));
        Document byTopic = sla(conversation("default", List.of(), "billing", plain));
        assertThat(byTopic.getString("policy")).isEqualTo("billing");
        assertThat(firstDue(byTopic)).isEqualTo(WROTE.plus(Duration.ofMinutes(20)));
        Document byAccount = sla(conversation("partner", List.of(), null, plain));
        assertThat(byAccount.getString("policy")).isEqualTo("partner");
        assertThat(firstDue(byAccount)).isEqualTo(WROTE.plus(Duration.ofMinutes(25)));
        // a conversation tag named like the contact tag is not a contact tag; no contact at all is no contact tag
        assertThat(sla(conversation("default", List.of("vip"), null, plain)).getString("policy")).isEqualTo("default");
        assertThat(sla(conversation("default", List.of(), null, null)).getString("policy")).isEqualTo("default");
        // the contact tag outranks the later conditions that also match
        assertThat(sla(conversation("partner", List.of("escalated"), "billing", vip)).getString("policy")).isEqualTo("vip-contacts");
    }

    @Test
    void taggingTheContactAppliesToItsConversationWhenTheTrackerSeesItNext() {
        String person = contact(List.of());
        String id = conversation("default", List.of(), null, person);
        assertThat(sla(id).getString("policy")).isEqualTo("default");
        // what PATCH /api/contacts/{id} {"addTags":["vip"]} stores, then announces on the conversation
        mongo.updateFirst(Query.query(where("_id").is(person)), new Update().set("tags", List.of("vip")), Contact.COLLECTION);
        Document after = sla(id);
        assertThat(after.getString("policy")).isEqualTo("vip-contacts");
        assertThat(firstDue(after)).isEqualTo(WROTE.plus(Duration.ofMinutes(10)));
        assertThat(mongo.findById(id + ":firstResponse:1:breach", Document.class, SlaDocuments.TIMERS).getDate("fireAt").toInstant())
                .as("the breach is rescheduled to the new deadline").isEqualTo(WROTE.plus(Duration.ofMinutes(10)));
    }
}
