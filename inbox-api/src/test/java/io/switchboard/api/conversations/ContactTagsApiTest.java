package io.switchboard.api.conversations;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.Topics;
import io.switchboard.store.Contact;
import io.switchboard.store.Conversation;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import tools.jackson.databind.JsonNode;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Agents label contacts ({@code PATCH /api/contacts/{id}} with {@code tags}, {@code addTags}, {@code removeTags}); SLA
 * policies match these labels with {@code contactTags}, so a change is announced on the contact's unresolved
 * conversations for the router's tracker to recompute them.
 */
class ContactTagsApiTest extends ApiTestBase {

    @Autowired
    EmbeddedKafkaBroker broker;

    /** A contact as the router creates them (it is the router that makes contacts from channel identities). */
    private String person(String id) {
        mongo.insert(new org.bson.Document("_id", id).append("displayName", "Customer " + id).append("identities", List.of())
                .append("unreachable", false).append("createdAt", java.util.Date.from(NOW)),
                Contact.COLLECTION);
        return id;
    }

    private List<String> tags(JsonNode contact) {
        return contact.get("tags").valueStream().map(JsonNode::asString).toList();
    }

    /**
     * The conversation events about contact tags on these conversations, from the start of the topic: read until
     * {@code atLeast} are there, then a little longer so that an extra one would show.
     */
    private List<ConversationEvent> contactTagEvents(List<String> conversationIds, int atLeast) {
        List<ConversationEvent> out = new ArrayList<>();
        try (Consumer<String, byte[]> consumer = new DefaultKafkaConsumerFactory<>(
                KafkaTestUtils.consumerProps(broker, "contact-tags-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer()) {
            // assigned, not subscribed: no group join to wait for; the API published before it answered
            consumer.assign(consumer.partitionsFor(Topics.CONVERSATION_EVENTS).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(), p.partition())).toList());
            consumer.seekToBeginning(consumer.assignment());
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            long settle = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, settle)) {
                KafkaTestUtils.getRecords(consumer, Duration.ofMillis(300)).forEach(r -> {
                    ConversationEvent e = ContractJson.fromBytes(r.value(), ConversationEvent.class);
                    if (conversationIds.contains(e.conversationId()) && e.data().containsKey("contactTags")) {
                        out.add(e);
                    }
                });
                if (out.size() >= atLeast && settle == Long.MAX_VALUE) {
                    settle = System.nanoTime() + Duration.ofMillis(800).toNanos(); // time for an extra one to show
                }
            }
        }
        return out;
    }

    @Test
    void agentsTagAContact_normalizedAsConversationTags_andItsOpenConversationsAreAnnounced() throws Exception {
        user("tag-agent", "tag-agent-password", "agent");
        String contactId = person("ct-person-1");
        Conversation open = conversation(contactId, "telegram", "contact-tags", "ct-1", NOW.minusSeconds(600), "hello");
        Conversation done = conversation(contactId, "email", "contact-tags", "ct-2", NOW.minusSeconds(3600), "old question");
        json(admin("PATCH", "/api/conversations/" + done.id(), "{\"status\":\"resolved\"}"));

        JsonNode tagged = json(call("PATCH", "/api/contacts/" + contactId, "tag-agent", "tag-agent-password",
                "{\"tags\":[\" VIP \", \"Gold  Plan\", \"vip\"]}"));
        assertThat(tags(tagged)).containsExactly("vip", "gold plan");
        JsonNode edited = json(call("PATCH", "/api/contacts/" + contactId, "tag-agent", "tag-agent-password",
                "{\"addTags\":[\"partner\"], \"removeTags\":[\"gold plan\"]}"));
        assertThat(tags(edited)).containsExactly("vip", "partner");
        assertThat(tags(json(call("GET", "/api/contacts/" + contactId, "tag-agent", "tag-agent-password", null))))
                .containsExactly("vip", "partner");
        assertThat(store.contact(contactId).map(Contact::tags).orElseThrow()).containsExactly("vip", "partner");

        // each change announced on the open conversation, with the contact's tags as they became; none on the resolved one
        List<ConversationEvent> events = contactTagEvents(List.of(open.id(), done.id()), 2);
        assertThat(events).extracting(ConversationEvent::conversationId).containsOnly(open.id());
        assertThat(events).extracting(ConversationEvent::type).containsOnly(ConversationEvent.CONVERSATION_UPDATED);
        assertThat(events).extracting(e -> e.data().get("contactTags")).containsExactly("vip,gold plan", "vip,partner");

        // the same values again change nothing and announce nothing
        json(call("PATCH", "/api/contacts/" + contactId, "tag-agent", "tag-agent-password", "{\"addTags\":[\"VIP\"]}"));
        assertThat(contactTagEvents(List.of(open.id()), 2)).hasSize(2);

        // profile fields and tags in one request
        JsonNode both = json(admin("PATCH", "/api/contacts/" + contactId, "{\"project\":\"acme\", \"removeTags\":[\"partner\"]}"));
        assertThat(both.get("project").asString()).isEqualTo("acme");
        assertThat(tags(both)).containsExactly("vip");
    }

    @Test
    void badTagChangesAreRefusedWithTheReason_andChangeNothing() throws Exception {
        String contactId = person("ct-person-2");
        conversation(contactId, "telegram", "contact-tags", "ct-3", NOW.minusSeconds(60), "hi");
        json(admin("PATCH", "/api/contacts/" + contactId, "{\"tags\":[\"vip\"]}"));

        HttpResponse<String> notAList = admin("PATCH", "/api/contacts/" + contactId, "{\"tags\":\"vip\"}");
        assertThat(notAList.statusCode()).isEqualTo(400);
        assertThat(notAList.body()).contains("tags must be a list of strings");
        assertThat(admin("PATCH", "/api/contacts/" + contactId, "{\"addTags\":[\"\"]}").statusCode()).isEqualTo(400);
        assertThat(admin("PATCH", "/api/contacts/" + contactId, "{\"addTags\":[\"a,b\"]}").statusCode()).isEqualTo(400);
        String many = IntStream.range(0, 20).mapToObj(i -> "\"t" + i + "\"").reduce((a, b) -> a + "," + b).orElseThrow();
        HttpResponse<String> tooMany = admin("PATCH", "/api/contacts/" + contactId, "{\"addTags\":[" + many + "], \"project\":\"x\"}");
        assertThat(tooMany.statusCode()).isEqualTo(400);
        assertThat(tooMany.body()).contains("a contact has at most 20 tags");
        HttpResponse<String> unknown = admin("PATCH", "/api/contacts/" + contactId, "{\"labels\":[\"vip\"]}");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(unknown.body()).contains("unknown field 'labels'");
        assertThat(admin("PATCH", "/api/contacts/" + contactId, "{\"project\":[\"x\"]}").statusCode()).isEqualTo(400);

        Contact stored = store.contact(contactId).orElseThrow();
        assertThat(stored.tags()).containsExactly("vip");
        assertThat(stored.project()).as("nothing of a refused request is written").isNull();
        assertThat(call("PATCH", "/api/contacts/" + contactId, "nobody", "wrong", "{\"tags\":[]}").statusCode()).isEqualTo(401);
        assertThat(admin("PATCH", "/api/contacts/no-such-contact", "{\"tags\":[\"vip\"]}").statusCode()).isEqualTo(404);
    }
}
