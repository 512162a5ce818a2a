package io.switchboard.api.conversations;

import io.switchboard.store.Conversation;
import io.switchboard.store.InboxStore;
import io.switchboard.store.Message;
import org.junit.jupiter.api.Test;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.data.mongodb.core.query.Criteria.where;

/** The queue's default order (soonest SLA due first), sort=recent, keyword search, and paging while the queue changes. */
class QueueOrderTest extends ApiTestBase {

    @Test
    void byDefaultRunningDeadlinesComeFirst_soonestFirst_thenTheRestByNewestActivity() throws Exception {
        Conversation idleOld = conversation("o1", "telegram", "order", "1", NOW.minusSeconds(5000), "no clock, older");
        Conversation later = conversation("o2", "telegram", "order", "2", NOW.minusSeconds(4000), "due later");
        Conversation idleNew = conversation("o3", "telegram", "order", "3", NOW.minusSeconds(100), "no clock, newest");
        Conversation breached = conversation("o4", "telegram", "order", "4", NOW.minusSeconds(3000), "breached");
        Conversation soon = conversation("o5", "telegram", "order", "5", NOW.minusSeconds(200), "due soon");
        due(later.id(), NOW.plusSeconds(7200));
        due(breached.id(), NOW.minusSeconds(60));
        due(soon.id(), NOW.plusSeconds(600));

        List<String> expected = List.of(breached.id(), soon.id(), later.id(), idleNew.id(), idleOld.id());
        assertThat(ids(json(admin("GET", "/api/conversations?account=order", null)))).containsExactlyElementsOf(expected);
        assertThat(ids(json(admin("GET", "/api/conversations?account=order&sort=due", null)))).containsExactlyElementsOf(expected);
        assertThat(walk("/api/conversations?account=order&limit=2", "admin", "admin-secret")).containsExactlyElementsOf(expected);
        assertThat(ids(json(admin("GET", "/api/conversations?account=order&sort=recent", null))))
                .containsExactly(idleNew.id(), soon.id(), breached.id(), later.id(), idleOld.id());
        assertThat(walk("/api/conversations?account=order&sort=recent&limit=2", "admin", "admin-secret"))
                .containsExactly(idleNew.id(), soon.id(), breached.id(), later.id(), idleOld.id());

        assertThat(admin("GET", "/api/conversations?account=order&sort=oldest", null).statusCode()).isEqualTo(400);
        String dueCursor = json(admin("GET", "/api/conversations?account=order&limit=2", null)).get("nextCursor").asString();
        assertThat(admin("GET", "/api/conversations?account=order&sort=recent&cursor=" + dueCursor, null).statusCode())
                .as("a cursor belongs to its order").isEqualTo(400);
    }

    /**
     * Pages through 24 conversations five at a time while, between pages, new conversations arrive
     * (before and after the cursor), deadlines move both ways across the cursor, clocks start and stop,
     * and customers write again: every conversation there at the start is listed exactly once.
     */
    @Test
    void pagingWhileConversationsArriveAndTheirDeadlinesMove_listsEachOneThereAtTheStartExactlyOnce() throws Exception {
        List<String> initial = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            Conversation c = conversation("p" + i, "vk", "paging", String.valueOf(i), NOW.minusSeconds(10_000 - i * 100L), "paging " + i);
            if (i % 3 != 0) {
                due(c.id(), NOW.plusSeconds(i * 300L)); // two in three have a running clock
            }
            initial.add(c.id());
        }
        List<String> seen = new ArrayList<>();
        Set<String> inserted = new LinkedHashSet<>();
        String cursor = null;
        int page = 0;
        do {
            JsonNode body = json(admin("GET", "/api/conversations?account=paging&limit=5"
                    + (cursor == null ? "" : "&cursor=" + cursor), null));
            seen.addAll(ids(body));
            cursor = body.get("nextCursor").isNull() ? null : body.get("nextCursor").asString();
            page++;
            // the queue changes between pages
            Conversation urgent = conversation("pn" + page, "vk", "paging", "new-" + page, NOW.minusSeconds(5), "new " + page);
            due(urgent.id(), NOW.minusSeconds(1000 + page)); // sorts before everything, i.e. before the cursor
            inserted.add(urgent.id());
            inserted.add(conversation("pq" + page, "vk", "paging", "quiet-" + page, NOW.minusSeconds(1), "quiet " + page).id());
            List<String> unseen = initial.stream().filter(id -> !seen.contains(id)).toList();
            List<String> shown = initial.stream().filter(seen::contains).toList();
            if (!unseen.isEmpty()) {
                due(unseen.get(unseen.size() - 1), NOW.minusSeconds(5000 + page)); // jumps ahead of the cursor
            }
            if (unseen.size() > 1) {
                stopClock(unseen.get(0)); // leaves the deadline phase
            }
            if (!shown.isEmpty()) {
                due(shown.get(0), NOW.plusSeconds(86_400L * 30 + page)); // falls behind the cursor
                customerWrites(shown.get(shown.size() - 1), NOW.minusSeconds(page)); // newest activity now
            }
        } while (cursor != null && page < 50);

        assertThat(cursor).as("the listing ends").isNull();
        Map<String, Integer> counts = new HashMap<>();
        seen.forEach(id -> counts.merge(id, 1, Integer::sum));
        assertThat(counts.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList())
                .as("listed twice").isEmpty();
        assertThat(initial).as("present at the start, never skipped").allMatch(seen::contains);
        assertThat(seen).as("only conversations of this listing").allMatch(id -> initial.contains(id) || inserted.contains(id));
    }

    /**
     * A cursor without its snapshot (another API instance, or expired) goes on from its keyset position:
     * new conversations do not shift what follows, so nothing there at the start is skipped or repeated.
     */
    @Test
    void withoutItsSnapshotACursorStillPagesStablyUnderInserts() throws Exception {
        List<String> initial = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            Conversation c = conversation("k" + i, "facebook", "keyset", String.valueOf(i), NOW.minusSeconds(9_000 - i * 100L), "k " + i);
            if (i % 2 == 0) {
                due(c.id(), NOW.plusSeconds(i * 60L));
            }
            initial.add(c.id());
        }
        List<String> seen = new ArrayList<>();
        String cursor = null;
        int page = 0;
        do {
            JsonNode body = json(admin("GET", "/api/conversations?account=keyset&limit=4"
                    + (cursor == null ? "" : "&cursor=" + cursor), null));
            seen.addAll(ids(body));
            String next = body.get("nextCursor").isNull() ? null : body.get("nextCursor").asString();
            // as if the next page were served by an instance that never saw the first
            cursor = next == null ? null : withoutSnapshot(next);
            page++;
            Conversation early = conversation("kn" + page, "facebook", "keyset", "new-" + page, NOW.minusSeconds(2), "new");
            due(early.id(), NOW.minusSeconds(600 + page));
            conversation("kq" + page, "facebook", "keyset", "quiet-" + page, NOW.minusSeconds(1), "quiet");
        } while (cursor != null && page < 20);
        assertThat(seen.stream().filter(initial::contains).toList()).containsExactlyElementsOf(expectedOrder(initial));
        assertThat(new LinkedHashSet<>(seen)).hasSameSizeAs(seen);
    }

    @Test
    void aCursorIsOnlyItsOwnersSnapshot_andOthersGoOnByKeyset() throws Exception {
        user("queue-other", "queue-other-1", "agent");
        for (int i = 0; i < 4; i++) {
            conversation("w" + i, "email", "owner", String.valueOf(i), NOW.minusSeconds(500 - i), "owner " + i);
        }
        String cursor = json(admin("GET", "/api/conversations?account=owner&limit=2", null)).get("nextCursor").asString();
        List<String> mine = ids(json(admin("GET", "/api/conversations?account=owner&limit=2&cursor=" + cursor, null)));
        List<String> theirs = ids(json(call("GET", "/api/conversations?account=owner&limit=2&cursor=" + cursor,
                "queue-other", "queue-other-1", null)));
        assertThat(theirs).isEqualTo(mine); // same data, reached by keyset rather than the snapshot
    }

    @Test
    void keywordSearchFindsWordsOfEveryCustomerMessage_subject_contactName_login_andProject() throws Exception {
        Conversation chat = conversation("q1", "telegram", "search", "1", NOW.minusSeconds(900),
                "My invoice for March was charged twice");
        customerWrites(chat.id(), NOW.minusSeconds(800)); // the preview is now this newer message
        Conversation mail = store.conversationFor(new InboxStore.ThreadRequest("email", "search", "email:search:thread-1", List.of(),
                "q2", "Zinaida Quokka", "Quota increase for vCPU", Map.of("to", "z@example.org"), NOW.minusSeconds(700),
                Duration.ofDays(7)));
        Message m = new Message("mail-1", "mail-1", Message.INBOUND, "message", "email", "mail-1", NOW.minusSeconds(700),
                "Zinaida Quokka", "Please raise it", List.of(), null, null, null, null, null, false);
        store.appendMessage(mail.id(), m);
        store.recordCustomerMessage(mail.id(), m);
        store.setConversationFields(mail.id(), Map.of("login", "zq-login-77", "project", "orchard-9"));
        Conversation other = conversation("q3", "telegram", "search", "3", NOW.minusSeconds(600), "unrelated words");

        String base = "/api/conversations?account=search&q=";
        assertThat(store.find(chat.id()).orElseThrow().preview()).doesNotContain("invoice");
        assertThat(ids(json(admin("GET", base + "invoice", null)))).as("an older message").containsExactly(chat.id());
        assertThat(ids(json(admin("GET", base + "CHARGED%20TWICE", null)))).as("a phrase, any case").containsExactly(chat.id());
        assertThat(ids(json(admin("GET", base + "vCPU", null)))).as("subject").containsExactly(mail.id());
        assertThat(ids(json(admin("GET", base + "Quokka", null)))).as("contact name").containsExactly(mail.id());
        assertThat(ids(json(admin("GET", base + "zq-login-77", null)))).as("login").containsExactly(mail.id());
        assertThat(ids(json(admin("GET", base + "orchard-9", null)))).as("project").containsExactly(mail.id());
        assertThat(ids(json(admin("GET", base + "unrelated", null)))).containsExactly(other.id());
        assertThat(ids(json(admin("GET", base + "nowhere-to-be-found", null)))).isEmpty();
    }

    /** The initial conversations of {@link #withoutItsSnapshotACursorStillPagesStablyUnderInserts} in the default order. */
    private List<String> expectedOrder(List<String> initial) {
        List<String> withClock = new ArrayList<>();
        List<String> without = new ArrayList<>();
        for (int i = 0; i < initial.size(); i++) {
            (i % 2 == 0 ? withClock : without).add(initial.get(i));
        }
        List<String> out = new ArrayList<>(withClock); // due i*60 s: ascending with i
        java.util.Collections.reverse(without); // newer activity with i: newest first
        out.addAll(without);
        return out;
    }

    private List<String> walk(String path, String user, String password) throws Exception {
        List<String> out = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = json(call("GET", path + (cursor == null ? "" : "&cursor=" + cursor), user, password, null));
            out.addAll(ids(page));
            cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asString();
        } while (cursor != null);
        return out;
    }

    private static String withoutSnapshot(String cursor) {
        ConversationController.Cursor c = ConversationController.Cursor.decode(cursor, QueueOrder.DUE);
        return new ConversationController.Cursor(c.order(), c.position(), null, 0).encode();
    }

    private void stopClock(String conversationId) {
        mongo.updateFirst(Query.query(where("_id").is(conversationId)), new Update().unset("sla"), Conversation.COLLECTION);
    }

    /** Another customer message: latest activity moves to {@code at}. */
    private void customerWrites(String conversationId, Instant at) {
        String key = "again:" + conversationId + ":" + at.toEpochMilli();
        Message m = new Message(key, key, Message.INBOUND, "message", "telegram", key, at, "Customer", "one more thing", List.of(),
                null, null, null, null, null, false);
        store.appendMessage(conversationId, m);
        store.recordCustomerMessage(conversationId, m);
    }
}
