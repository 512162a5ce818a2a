package io.switchboard.api.conversations;

import io.switchboard.store.Conversation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Per-agent visibility: with teams configured, an agent sees their teams' channels and accounts and
 * what is assigned to them; operators and admins see all; a hidden conversation answers 404 everywhere.
 */
class VisibilityTest extends ApiTestBase {

    static final String TEAMS = """
            {"enabled": false,
             "agents": [{"username": "vis-ann", "capacity": 0, "teams": ["mail"]},
                        {"username": "vis-bob", "capacity": 0, "teams": ["chat"]}],
             "teams": [{"name": "mail", "channels": ["email"]},
                       {"name": "chat", "channels": ["telegram"], "accounts": ["vis"]}]}
            """;

    Conversation mail;
    Conversation chat;
    Conversation chatOfAnn;
    Conversation vk;
    Conversation otherAccount;

    @BeforeEach
    void teams() throws Exception {
        user("vis-ann", "ann-password-1", "agent");
        user("vis-bob", "bob-password-1", "agent");
        user("vis-loner", "loner-password-1", "agent");
        user("vis-op", "op-password-1", "operator");
        assertThat(admin("PUT", "/api/admin/assignment", TEAMS).statusCode()).isEqualTo(200);
        mail = conversation("v1", "email", "vis", "1", NOW.minusSeconds(600), "mail question");
        chat = conversation("v2", "telegram", "vis", "2", NOW.minusSeconds(500), "chat question");
        chatOfAnn = conversation("v3", "telegram", "vis", "3", NOW.minusSeconds(400), "chat question for ann");
        vk = conversation("v4", "vk", "vis", "4", NOW.minusSeconds(300), "vk question");
        otherAccount = conversation("v5", "telegram", "vis-other", "5", NOW.minusSeconds(200), "other bot");
        json(admin("PATCH", "/api/conversations/" + chatOfAnn.id(), "{\"assignee\":\"vis-ann\"}"));
    }

    @AfterEach
    void noTeams() throws Exception {
        assertThat(admin("PUT", "/api/admin/assignment", "{\"enabled\":false}").statusCode()).isEqualTo(200);
    }

    List<String> queue(String user, String password) throws Exception {
        return ids(json(call("GET", "/api/conversations?account=vis,vis-other&limit=200", user, password, null)));
    }

    @Test
    void agentsSeeTheirTeamsChannelsAndAccounts_plusTheirOwn_operatorsAndAdminsSeeAll() throws Exception {
        assertThat(queue("vis-ann", "ann-password-1")).containsExactlyInAnyOrder(mail.id(), chatOfAnn.id());
        assertThat(queue("vis-bob", "bob-password-1")).containsExactlyInAnyOrder(chat.id(), chatOfAnn.id());
        assertThat(queue("vis-loner", "loner-password-1")).isEmpty();
        List<String> all = List.of(mail.id(), chat.id(), chatOfAnn.id(), vk.id(), otherAccount.id());
        assertThat(queue("vis-op", "op-password-1")).containsExactlyInAnyOrderElementsOf(all);
        assertThat(queue("admin", "admin-secret")).containsExactlyInAnyOrderElementsOf(all);
        // filters narrow what one sees, never widen it
        assertThat(ids(json(call("GET", "/api/conversations?account=vis&channel=telegram", "vis-ann", "ann-password-1", null))))
                .containsExactly(chatOfAnn.id());
        assertThat(ids(json(admin("GET", "/api/conversations?account=vis,vis-other&team=chat", null))))
                .containsExactlyInAnyOrder(chat.id(), chatOfAnn.id());
        assertThat(json(call("GET", "/api/teams", "vis-ann", "ann-password-1", null)).findValuesAsString("name"))
                .containsExactly("mail", "chat");
        long annOpen = json(call("GET", "/api/views", "vis-ann", "ann-password-1", null)).valueStream()
                .filter(v -> v.get("name").asString().equals("open")).findFirst().orElseThrow().get("count").asLong();
        long adminOpen = json(admin("GET", "/api/views", null)).valueStream()
                .filter(v -> v.get("name").asString().equals("open")).findFirst().orElseThrow().get("count").asLong();
        assertThat(annOpen).isLessThan(adminOpen);
    }

    @Test
    void aHiddenConversationAnswers404ToEveryRequest_asIfItDidNotExist() throws Exception {
        String id = chat.id();
        String ann = "vis-ann";
        String pw = "ann-password-1";
        assertThat(call("GET", "/api/conversations/" + id, ann, pw, null).statusCode()).isEqualTo(404);
        assertThat(call("PATCH", "/api/conversations/" + id, ann, pw, "{\"assignee\":\"vis-ann\"}").statusCode()).isEqualTo(404);
        assertThat(call("POST", "/api/conversations/" + id + "/messages", ann, pw, "{\"text\":\"hi\"}").statusCode()).isEqualTo(404);
        assertThat(call("POST", "/api/conversations/" + id + "/notes", ann, pw, "{\"text\":\"hi\"}").statusCode()).isEqualTo(404);
        assertThat(call("GET", "/api/conversations/" + id + "/suggestion", ann, pw, null).statusCode()).isEqualTo(404);
        assertThat(call("POST", "/api/conversations/" + id + "/merge", ann, pw, "{\"into\":\"" + mail.id() + "\"}").statusCode())
                .isEqualTo(404);
        // nor can a visible one be merged into a hidden one
        assertThat(call("POST", "/api/conversations/" + mail.id() + "/merge", ann, pw, "{\"into\":\"" + id + "\"}").statusCode())
                .isEqualTo(404);
        assertThat(json(admin("GET", "/api/conversations/" + id, null)).get("assignee").isNull()).as("nothing changed").isTrue();
        // nor a file that arrived in it
        store.saveFile("vis-file-hidden", "invoice.pdf", "application/pdf", new byte[]{1, 2, 3}, id);
        store.saveFile("vis-file-shown", "photo.jpg", "image/jpeg", new byte[]{4, 5}, mail.id());
        assertThat(call("GET", "/api/files/vis-file-hidden", ann, pw, null).statusCode()).isEqualTo(404);
        assertThat(call("GET", "/api/files/vis-file-hidden", "vis-op", "op-password-1", null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/api/files/vis-file-shown", ann, pw, null).statusCode()).isEqualTo(200);
        // what is visible works as before
        assertThat(call("GET", "/api/conversations/" + mail.id(), ann, pw, null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/api/conversations/" + chatOfAnn.id(), ann, pw, null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/api/conversations/" + id, "vis-op", "op-password-1", null).statusCode()).isEqualTo(200);
        // without teams, every agent sees everything again
        noTeams();
        assertThat(call("GET", "/api/conversations/" + id, ann, pw, null).statusCode()).isEqualTo(200);
    }

    @Test
    void theLiveStreamOfALimitedAgentCarriesOnlyTheConversationsTheyMaySee() throws Exception {
        java.util.List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/api/stream"))
                .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
                        "vis-ann:ann-password-1".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .header("Accept", "text/event-stream").build();
        var response = http.sendAsync(request, java.net.http.HttpResponse.BodyHandlers.ofLines()).get();
        assertThat(response.statusCode()).isEqualTo(200);
        Thread reader = new Thread(() -> response.body().forEach(lines::add), "sse-reader");
        reader.setDaemon(true);
        reader.start();
        try {
            await(() -> lines.contains("event:ready"));
            // one partition: the hidden conversation's event comes first, so once the visible one's is in, it was skipped.
            // Repeated until one arrives: on a fresh context the feed's consumer may join its partitions only after the
            // first pair was published (it reads from the latest offset)
            long until = System.nanoTime() + 30_000_000_000L;
            for (int round = 0; lines.stream().noneMatch(l -> l.startsWith("data:") && l.contains(mail.id())); round++) {
                assertThat(System.nanoTime()).as("no event of the visible conversation within 30 s").isLessThan(until);
                String priority = round % 2 == 0 ? "low" : "high";
                json(admin("PATCH", "/api/conversations/" + chat.id(), "{\"priority\":\"" + priority + "\"}"));
                json(admin("PATCH", "/api/conversations/" + mail.id(), "{\"priority\":\"" + priority + "\"}"));
                for (int i = 0; i < 20 && lines.stream().noneMatch(l -> l.startsWith("data:") && l.contains(mail.id())); i++) {
                    Thread.sleep(100);
                }
            }
            assertThat(lines).noneMatch(l -> l.contains(chat.id()));
        } finally {
            response.body().close();
            json(admin("PATCH", "/api/conversations/" + chat.id(), "{\"priority\":\"normal\"}"));
            json(admin("PATCH", "/api/conversations/" + mail.id(), "{\"priority\":\"normal\"}"));
        }
    }

    static void await(java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("not reached within 30 s").isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
