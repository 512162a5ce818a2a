package io.switchboard.ui;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Merging conversations through the whole product: after the merge, the router files the next
 * message of the merged conversation's chat into the surviving conversation (ADR 0141).
 */
class ConversationMergeFlowTest {

    static String only(RunningProduct product, String q) {
        String path = "/api/conversations?q=" + URLEncoder.encode(q, StandardCharsets.UTF_8);
        RunningProduct.await(() -> product.admin("GET", path, null).path("items").size() == 1, Duration.ofSeconds(20));
        return product.admin("GET", path, null).path("items").get(0).path("id").asString();
    }

    @Test
    void laterMessagesOfTheMergedChatLandInTheSurvivingConversation() {
        RunningProduct product = RunningProduct.get();
        assertThat(product.telegramMessage(8601, 5601, "Mergeable", "merge-flow: my first account", Duration.ofMinutes(5))
                .statusCode()).isEqualTo(200);
        assertThat(product.telegramMessage(8602, 5602, "Mergeable", "merge-flow: my second account", Duration.ofMinutes(4))
                .statusCode()).isEqualTo(200);
        String target = only(product, "merge-flow: my first");
        String source = only(product, "merge-flow: my second");
        // two Telegram accounts of one person: the contacts are merged first, then the conversations
        String contact = product.admin("GET", "/api/conversations/" + target, null).path("contact").path("id").asString();
        String other = product.admin("GET", "/api/conversations/" + source, null).path("contact").path("id").asString();
        product.admin("POST", "/api/contacts/" + contact + "/merge", "{\"from\":\"" + other + "\"}");
        JsonNode merged = product.admin("POST", "/api/conversations/" + source + "/merge", "{\"into\":\"" + target + "\"}");
        assertThat(merged.path("mergedInto").asString()).isEqualTo(target);
        assertThat(product.admin("GET", "/api/conversations/" + source, null).path("status").asString()).isEqualTo("merged");
        // its SLA clocks stop at the merge, as at a resolution: nothing of it can breach later
        RunningProduct.await(() -> !product.admin("GET", "/api/conversations/" + source, null).path("sla").path("firstResponse")
                .path("stoppedAt").asString("").isEmpty(), Duration.ofSeconds(20));
        // no clock of it runs any more: listed among the merged ones, it has no deadline left
        JsonNode listed = product.admin("GET", "/api/conversations?status=merged", null).path("items").valueStream()
                .filter(i -> i.path("id").asString().equals(source)).findFirst().orElseThrow();
        for (String metric : new String[]{"firstResponse", "nextResponse", "resolution"}) {
            JsonNode m = listed.path("sla").path(metric);
            assertThat(m.path("dueAt").isNull() || !m.path("stoppedAt").isNull()).as(metric + " " + m).isTrue();
        }

        assertThat(product.telegramMessage(8603, 5602, "Mergeable", "merge-flow: still there?", Duration.ZERO).statusCode())
                .isEqualTo(200);
        RunningProduct.await(() -> product.admin("GET", "/api/conversations/" + target, null).path("messages").valueStream()
                .anyMatch(m -> m.path("text").asString().equals("merge-flow: still there?")), Duration.ofSeconds(20));
        JsonNode t = product.admin("GET", "/api/conversations/" + target, null);
        assertThat(t.path("messages").valueStream().map(m -> m.path("text").asString()).toList())
                .contains("merge-flow: my first account", "merge-flow: my second account", "merge-flow: still there?");
        assertThat(product.admin("GET", "/api/conversations/" + source, null).path("messages").valueStream()
                .noneMatch(m -> m.path("text").asString().equals("merge-flow: still there?"))).isTrue();
    }
}
