package io.switchboard.store;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.data.mongodb.core.MongoTemplate;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Merging two conversations of one contact: the result, its idempotence, and completion after a crash at any step. */
class ConversationMergeTest {

    @RegisterExtension
    static final EmbeddedMongo MONGO = new EmbeddedMongo();
    MongoTemplate mongo;
    InboxStore store;
    static final Instant T0 = Instant.parse("2025-03-12T10:00:00Z");

    @BeforeEach
    void fresh() {
        mongo = MONGO.database("merge-test-");
        store = new InboxStore(mongo);
    }

    Conversation thread(String contactId, String channel, String chat, Instant at) {
        return store.conversationFor(new InboxStore.ThreadRequest(channel, "default", channel + ":default:chat:" + chat,
                List.of(), contactId, "Anna", null, Map.of("chat_id", chat), at, Duration.ofDays(7)));
    }

    Message inbound(Conversation c, String key, Instant at, String text) {
        Message m = new Message(key, key, "inbound", "message", c.channel(), key, at, "Anna", text, List.of(), null, null, null,
                null, null, false);
        store.claimMessageKey(key, c.id(), null);
        store.appendMessage(c.id(), m);
        store.recordCustomerMessage(c.id(), m);
        return m;
    }

    record Pair(Conversation source, Conversation target) {
    }

    /** Target: telegram messages at T0 and T0+20m; source: email at T0+10m and a reply of ours at T0+30m. */
    Pair pair() {
        Conversation target = thread("k1", "telegram", "1", T0);
        inbound(target, "tg:1", T0, "phone change please");
        inbound(target, "tg:2", T0.plusSeconds(1200), "any news?");
        store.updateTags(target.id(), t -> List.of("billing"), T0);
        Conversation source = thread("k1", "email", "a@x", T0.plusSeconds(600));
        inbound(source, "em:1", T0.plusSeconds(600), "I wrote in telegram too");
        Message reply = new Message("r1", "out:r1", "outbound", "message", "email", null, T0.plusSeconds(1800), "agent",
                "we are on it", List.of(), "pending", null, null, null, null, false);
        store.appendMessage(source.id(), reply);
        store.updateTags(source.id(), t -> List.of("vip", "billing"), T0);
        return new Pair(store.find(source.id()).orElseThrow(), store.find(target.id()).orElseThrow());
    }

    void assertMerged(Pair p) {
        assertMerged(p, "ann");
    }

    void assertMerged(Pair p, String by) {
        Conversation source = store.find(p.source().id()).orElseThrow();
        Conversation target = store.find(p.target().id()).orElseThrow();
        assertThat(source.status()).isEqualTo(Conversation.MERGED);
        assertThat(source.mergedInto()).isEqualTo(target.id());
        assertThat(source.mergedBy()).isEqualTo(by);
        List<Message> messages = store.transcript(target.id()).orElseThrow().messages();
        assertThat(messages).extracting(Message::key)
                .containsExactly("tg:1", "em:1", "tg:2", "out:r1", "merge:" + source.id());
        assertThat(messages.get(4).kind()).isEqualTo("note");
        assertThat(messages.get(4).meta()).containsEntry("from", source.id());
        assertThat(target.tags()).containsExactly("billing", "vip");
        assertThat(target.lastMessageAt()).isEqualTo(T0.plusSeconds(1200));
        // later messages of the source's thread are filed into the target, and its message keys point there
        assertThat(store.conversationByThreadKey("email:default:chat:a@x")).contains(target.id());
        assertThat(store.messageKey("em:1").orElseThrow().conversationId()).isEqualTo(target.id());
        Conversation next = thread("k1", "email", "a@x", T0.plusSeconds(2400));
        assertThat(next.id()).isEqualTo(target.id());
        var record = store.conversationMerge(source.id()).orElseThrow();
        assertThat(record.into()).isEqualTo(target.id());
        assertThat(record.by()).isEqualTo(by);
        assertThat(record.completedAt()).isNotNull();
    }

    @Test
    void theSourcesMessagesJoinTheTargetInTimeOrder_andItsThreadFollows() {
        Pair p = pair();
        InboxStore.ConversationMerge merge = store.mergeConversation(p.source().id(), p.target().id(), "ann", T0.plusSeconds(3600));
        assertThat(merge.messagesCopied()).isEqualTo(2);
        assertMerged(p);
        // a delivery report for the reply sent from the source reaches the copy in the target too
        assertThat(store.updateDelivery(p.source().id(), "r1", "sent", "ext-1", null)).isTrue();
        assertThat(store.message(p.target().id(), "r1").orElseThrow().deliveryStatus()).isEqualTo("sent");
    }

    @Test
    void repeatingAMergeChangesNothing_andKeepsWhoAndWhen() {
        Pair p = pair();
        store.mergeConversation(p.source().id(), p.target().id(), "ann", T0.plusSeconds(3600));
        InboxStore.ConversationMerge again = store.mergeConversation(p.source().id(), p.target().id(), "bob", T0.plusSeconds(7200));
        assertThat(again.messagesCopied()).isZero();
        assertThat(again.by()).isEqualTo("ann");
        assertThat(again.at()).isEqualTo(T0.plusSeconds(3600));
        assertMerged(p);
    }

    @Test
    void aMergeInterruptedAtAnyStepCompletesWhenRunAgain() {
        for (int crashAt = 1; crashAt <= 8; crashAt++) {
            fresh();
            Pair p = pair();
            int step = crashAt;
            assertThatThrownBy(() -> store.mergeConversation(p.source().id(), p.target().id(), "ann", T0.plusSeconds(3600), s -> {
                if (s == step) {
                    throw new IllegalStateException("crash before step " + s);
                }
            })).hasMessageContaining("crash");
            // a retry (possibly by someone else, later) completes the first merge
            store.mergeConversation(p.source().id(), p.target().id(), "bob", T0.plusSeconds(7200));
            assertMerged(p, step == 1 ? "bob" : "ann");
        }
    }

    @Test
    void onlyConversationsOfOneContactMerge_andNeverIntoTwoPlaces() {
        Pair p = pair();
        Conversation stranger = thread("k2", "telegram", "2", T0);
        assertThatThrownBy(() -> store.mergeConversation(p.source().id(), stranger.id(), "ann", T0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("same contact");
        assertThatThrownBy(() -> store.mergeConversation(p.source().id(), p.source().id(), "ann", T0))
                .isInstanceOf(IllegalArgumentException.class);
        Conversation third = thread("k1", "vk", "3", T0);
        store.mergeConversation(p.source().id(), p.target().id(), "ann", T0);
        assertThatThrownBy(() -> store.mergeConversation(p.source().id(), third.id(), "ann", T0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already merged");
        assertThatThrownBy(() -> store.mergeConversation(third.id(), p.source().id(), "ann", T0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("itself merged");
    }
}
