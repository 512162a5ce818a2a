package io.switchboard.ui;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** Snoozed until a time: out of the open queue, and back by itself when the time comes. */
class SnoozeTest {

    @Test
    void aSnoozedConversationComesBackByItself() {
        RunningProduct product = RunningProduct.get();
        assertThat(product.telegramMessage(8501, 5501, "Sleepy", "snooze: call me later", Duration.ofMinutes(1)).statusCode())
                .isEqualTo(200);
        RunningProduct.await(() -> product.admin("GET", "/api/conversations?q=snooze%3A", null).path("items").size() == 1,
                Duration.ofSeconds(15));
        String id = product.admin("GET", "/api/conversations?q=snooze%3A", null).path("items").get(0).path("id").asString();
        String admin = RunningProduct.basic("admin", RunningProduct.ADMIN_PASSWORD);

        HttpResponse<String> past = product.send("POST", "/api/conversations/" + id + "/snooze",
                "{\"until\":\"2020-01-01T00:00:00Z\"}", admin);
        assertThat(past.statusCode()).isEqualTo(400);

        product.admin("POST", "/api/conversations/" + id + "/snooze", "{\"until\":\"" + Instant.now().plusSeconds(3) + "\"}");
        assertThat(product.admin("GET", "/api/conversations/" + id, null).path("status").asString()).isEqualTo("snoozed");
        RunningProduct.await(() -> product.admin("GET", "/api/conversations/" + id, null).path("status").asString().equals("open"),
                Duration.ofSeconds(20));
    }
}
