package io.switchboard.ui;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Round-robin assignment with capacity, switched on by an admin, over the running product. */
class AutoAssignmentTest {

    static RunningProduct product;

    @BeforeAll
    static void start() {
        product = RunningProduct.get();
        product.user("rr-ann", "rr-password-1", "agent");
        product.user("rr-bob", "rr-password-1", "agent");
    }

    @AfterAll
    static void off() {
        if (product != null) {
            product.admin("PUT", "/api/admin/assignment", "{\"enabled\":false}");
        }
    }

    static int openOf(String agent) {
        return product.admin("GET", "/api/conversations?status=open,pending&assignee=" + agent, null).path("items").size();
    }

    @Test
    void newConversationsAreSharedRoundRobinUpToEachAgentsCapacity() {
        assertThat(product.send("PUT", "/api/admin/assignment", "{\"enabled\":true,\"agents\":[{\"username\":\"ghost\",\"capacity\":1}]}",
                RunningProduct.basic("admin", RunningProduct.ADMIN_PASSWORD)).statusCode()).isEqualTo(400);
        for (int i = 0; i < 3; i++) {
            assertThat(product.telegramMessage(8401 + i, 5401 + i, "Round" + i, "round robin " + i, Duration.ofMinutes(1))
                    .statusCode()).isEqualTo(200);
        }
        RunningProduct.await(() -> product.admin("GET", "/api/conversations?q=round%20robin", null).path("items").size() == 3,
                Duration.ofSeconds(15));
        product.admin("PUT", "/api/admin/assignment",
                "{\"enabled\":true,\"agents\":[{\"username\":\"rr-ann\",\"capacity\":1},{\"username\":\"rr-bob\",\"capacity\":1}],"
                        + "\"teams\":[]}");
        RunningProduct.await(() -> openOf("rr-ann") == 1 && openOf("rr-bob") == 1, Duration.ofSeconds(15));
        // nobody has room left: the rest stays unassigned, and stays so
        assertThat(product.admin("GET", "/api/conversations?status=open&assignee=none", null).path("items").size()).isPositive();
        assertThat(product.admin("GET", "/api/admin/assignment", null).path("enabled").asBoolean()).isTrue();
        RunningProduct.await(() -> {
            Thread.sleep(1000);
            return openOf("rr-ann") == 1 && openOf("rr-bob") == 1;
        }, Duration.ofSeconds(5));
    }
}
