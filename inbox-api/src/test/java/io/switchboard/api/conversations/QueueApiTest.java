package io.switchboard.api.conversations;

import io.switchboard.store.Conversation;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Tags, the queue's server-side filters and views, and merging, over HTTP. */
class QueueApiTest extends ApiTestBase {

    @Test
    void tagsAreNormalized_shownInListAndDetail_andFilterWithAllMustMatch() throws Exception {
        Conversation a = conversation("t1", "telegram", "tags", "1", NOW.minusSeconds(600), "invoice twice");
        Conversation b = conversation("t2", "telegram", "tags", "2", NOW.minusSeconds(500), "invoice again");
        JsonNode detail = json(admin("PATCH", "/api/conversations/" + a.id(), "{\"tags\":[\"Billing\",\"  VIP \",\"billing\"]}"));
        assertThat(detail.get("tags").valueStream().map(JsonNode::asString).toList()).containsExactly("billing", "vip");
        json(admin("PATCH", "/api/conversations/" + b.id(), "{\"addTags\":[\"billing\",\"refund\"]}"));
        JsonNode removed = json(admin("PATCH", "/api/conversations/" + b.id(), "{\"removeTags\":[\"refund\"],\"priority\":\"high\"}"));
        assertThat(removed.get("tags").valueStream().map(JsonNode::asString).toList()).containsExactly("billing");
        assertThat(removed.get("priority").asString()).isEqualTo("high");

        assertThat(ids(json(admin("GET", "/api/conversations?account=tags&tag=billing", null)))).containsExactlyInAnyOrder(a.id(), b.id());
        assertThat(ids(json(admin("GET", "/api/conversations?account=tags&tag=billing&tag=VIP", null)))).containsExactly(a.id());
        assertThat(ids(json(admin("GET", "/api/conversations?account=tags&tag=billing,vip", null)))).containsExactly(a.id());
        JsonNode item = json(admin("GET", "/api/conversations?account=tags&tag=vip", null)).get("items").get(0);
        assertThat(item.get("tags").valueStream().map(JsonNode::asString).toList()).containsExactly("billing", "vip");
        assertThat(json(admin("GET", "/api/tags", null)).findValuesAsString("tag")).contains("billing", "vip");

        List<String> many = new ArrayList<>();
        for (int i = 0; i < 21; i++) {
            many.add("\"t" + i + "\"");
        }
        assertThat(admin("PATCH", "/api/conversations/" + a.id(), "{\"tags\":[" + String.join(",", many) + "]}").statusCode()).isEqualTo(400);
        assertThat(admin("PATCH", "/api/conversations/" + a.id(), "{\"tags\":[\"" + "x".repeat(41) + "\"]}").statusCode()).isEqualTo(400);
        assertThat(admin("PATCH", "/api/conversations/" + a.id(), "{\"tags\":\"billing\"}").statusCode()).isEqualTo(400);
        assertThat(admin("PATCH", "/api/conversations/" + a.id(), "{\"tags\":[\"a,b\"]}").statusCode()).isEqualTo(400);
        assertThat(json(admin("GET", "/api/conversations/" + a.id(), null)).get("tags")).hasSize(2);
    }

    @Test
    void priorityAccountSlaStateAndViewsFilterOnTheServer() throws Exception {
        Conversation late = conversation("s1", "email", "slaq", "1", NOW.minusSeconds(7200), "late");
        Conversation soon = conversation("s2", "email", "slaq", "2", NOW.minusSeconds(3000), "soon");
        Conversation fine = conversation("s3", "email", "slaq", "3", NOW.minusSeconds(1000), "fine");
        Conversation clockless = conversation("s4", "email", "slaq", "4", NOW.minusSeconds(900), "no clock");
        due(late.id(), NOW.minusSeconds(60));
        due(soon.id(), NOW.plusSeconds(20 * 60));
        due(fine.id(), NOW.plusSeconds(3 * 3600));
        json(admin("PATCH", "/api/conversations/" + soon.id(), "{\"priority\":\"urgent\",\"assignee\":\"admin\"}"));

        String base = "/api/conversations?account=slaq";
        assertThat(ids(json(admin("GET", base + "&sla=breached", null)))).containsExactly(late.id());
        assertThat(ids(json(admin("GET", base + "&sla=at_risk", null)))).containsExactly(soon.id());
        assertThat(ids(json(admin("GET", base + "&sla=ok", null)))).containsExactlyInAnyOrder(fine.id(), clockless.id());
        assertThat(ids(json(admin("GET", base + "&sla=at_risk&atRiskMinutes=240", null)))).containsExactlyInAnyOrder(soon.id(), fine.id());
        assertThat(ids(json(admin("GET", base + "&sla=breached,at_risk", null)))).containsExactlyInAnyOrder(late.id(), soon.id());
        assertThat(ids(json(admin("GET", base + "&priority=urgent,high", null)))).containsExactly(soon.id());
        assertThat(ids(json(admin("GET", base + "&priority=normal&channel=email", null))))
                .containsExactlyInAnyOrder(late.id(), fine.id(), clockless.id());
        assertThat(ids(json(admin("GET", "/api/conversations?account=slaq,nowhere&view=mine", null)))).containsExactly(soon.id());
        assertThat(ids(json(admin("GET", base + "&view=unassigned", null)))).containsExactlyInAnyOrder(late.id(), fine.id(), clockless.id());
        assertThat(ids(json(admin("GET", base + "&view=breached", null)))).containsExactly(late.id());
        assertThat(ids(json(admin("GET", base + "&view=open&sort=due", null)))).containsExactly(late.id(), soon.id(), fine.id(),
                clockless.id());

        // a filtered queue pages with the cursor, in the same order, without repeats
        List<String> walked = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = json(admin("GET", base + "&sort=due&limit=1" + (cursor == null ? "" : "&cursor=" + cursor), null));
            walked.addAll(ids(page));
            cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asString();
        } while (cursor != null);
        assertThat(walked).containsExactly(late.id(), soon.id(), fine.id(), clockless.id());
        walked.clear();
        do {
            JsonNode page = json(admin("GET", base + "&sort=recent&limit=2&priority=normal" + (cursor == null ? "" : "&cursor=" + cursor), null));
            walked.addAll(ids(page));
            cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asString();
        } while (cursor != null);
        assertThat(walked).containsExactly(clockless.id(), fine.id(), late.id());

        for (String bad : List.of("sla=late", "view=everything", "priority=meh", "team=ghosts", "atRiskMinutes=0", "status=gone")) {
            var r = admin("GET", base + "&" + bad, null);
            assertThat(r.statusCode()).as(bad).isEqualTo(400);
            assertThat(r.body()).as(bad).contains("\"error\"");
        }
        assertThat(json(admin("GET", "/api/views", null)).findValuesAsString("name")).contains("breached");
    }

    @Test
    void mergingMovesTheTranscript_andTheSourceAnswersWithMergedInto() throws Exception {
        Conversation target = conversation("m1", "telegram", "merge", "1", NOW.minusSeconds(3600), "my phone changed");
        Conversation source = conversation("m1", "vk", "merge", "2", NOW.minusSeconds(1800), "also wrote here");
        Conversation stranger = conversation("m2", "vk", "merge", "3", NOW.minusSeconds(1700), "someone else");
        json(admin("PATCH", "/api/conversations/" + source.id(), "{\"tags\":[\"phone-change\"]}"));

        assertThat(admin("POST", "/api/conversations/" + source.id() + "/merge", "{}").statusCode()).isEqualTo(400);
        assertThat(admin("POST", "/api/conversations/" + source.id() + "/merge", "{\"into\":\"nope\"}").statusCode()).isEqualTo(404);
        var other = admin("POST", "/api/conversations/" + source.id() + "/merge", "{\"into\":\"" + stranger.id() + "\"}");
        assertThat(other.statusCode()).isEqualTo(400);
        assertThat(other.body()).contains("same contact");

        JsonNode merged = json(admin("POST", "/api/conversations/" + source.id() + "/merge", "{\"into\":\"" + target.id() + "\"}"));
        assertThat(merged.get("mergedInto").asString()).isEqualTo(target.id());
        assertThat(merged.get("mergedBy").asString()).isEqualTo("admin");
        assertThat(merged.get("messagesCopied").asInt()).isEqualTo(1);
        JsonNode again = json(admin("POST", "/api/conversations/" + source.id() + "/merge", "{\"into\":\"" + target.id() + "\"}"));
        assertThat(again.get("messagesCopied").asInt()).isZero();

        JsonNode gone = json(admin("GET", "/api/conversations/" + source.id(), null));
        assertThat(gone.get("status").asString()).isEqualTo("merged");
        assertThat(gone.get("mergedInto").asString()).isEqualTo(target.id());
        JsonNode t = json(admin("GET", "/api/conversations/" + target.id(), null));
        assertThat(t.get("messages").valueStream().map(m -> m.get("text").asString()).toList())
                .containsExactly("my phone changed", "also wrote here", "merged conversation " + source.id() + " into this one");
        assertThat(t.get("tags").valueStream().map(JsonNode::asString).toList()).contains("phone-change");
        assertThat(ids(json(admin("GET", "/api/conversations?account=merge", null)))).doesNotContain(source.id()).contains(target.id());
        assertThat(ids(json(admin("GET", "/api/conversations?account=merge&status=merged", null)))).containsExactly(source.id());
        assertThat(admin("PATCH", "/api/conversations/" + source.id(), "{\"status\":\"open\"}").statusCode()).isEqualTo(409);
        // replies and notes belong in the surviving conversation now
        var reply = admin("POST", "/api/conversations/" + source.id() + "/messages", "{\"text\":\"hello?\"}");
        assertThat(reply.statusCode()).isEqualTo(409);
        assertThat(reply.body()).contains(target.id());
        assertThat(admin("POST", "/api/conversations/" + source.id() + "/notes", "{\"text\":\"n\"}").statusCode()).isEqualTo(409);
        assertThat(admin("POST", "/api/conversations/" + stranger.id() + "/merge", "{\"into\":\"" + source.id() + "\"}").statusCode())
                .isEqualTo(400);
    }
}
